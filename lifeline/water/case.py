"""The inputs of one run of the leak command, gathered so that its channels take one object
instead of a dozen arguments (:mod:`lifeline.water.pipeline`, :mod:`lifeline.water.slowchan`).

* :class:`Inputs`: the network and what is derived from it, the data and the history, read and
  checked (:func:`lifeline.water.pipeline.run_leaks`).
* :class:`Labelled`: what the slow channels learn from: hourly means of the history and of the
  data, their AMR demands, the history's labelled leaks and their outflows, and the labelled
  leaks still running when the data begin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from lifeline.water.network import PipeGraph
from lifeline.water.scada import Leak, Scada


@dataclass
class Inputs:
    """The read and checked inputs of one run.

    ``wn``: the network's WNTR model; ``sens``: the pressure sensors' sensitivity to a leak at
    every junction (m per m³/h, :func:`network.sensitivity`); ``graph``: the pipe graph
    (distances in m); ``data`` and ``hist``: the data and the history (None without
    ``--history``); ``scada_dir``: the data's folder, named in errors."""

    wn: Any
    sens: Any
    graph: PipeGraph
    data: Scada
    hist: Scada | None
    scada_dir: str | Path


@dataclass
class Labelled:
    """The history and the data as the slow channels see them.

    ``h_hist``, ``h_data``: hourly means (sensors as columns); ``amr_hist``, ``amr_data``:
    hourly mean AMR demand per meter (None without meters); ``truth``: the history's labelled
    leaks and ``outflow`` their outflows (m³/h per pipe; both empty without labels); ``known``:
    the pipes of labelled leaks still running when the data begin."""

    h_hist: pd.DataFrame
    h_data: pd.DataFrame
    amr_hist: pd.DataFrame | None = None
    amr_data: pd.DataFrame | None = None
    truth: list[Leak] = field(default_factory=list)
    outflow: pd.DataFrame = field(default_factory=pd.DataFrame)
    known: list[str] = field(default_factory=list)

    @property
    def start(self) -> pd.Timestamp:
        """The first hour of the data."""
        return pd.Timestamp(self.h_data.index[0])
