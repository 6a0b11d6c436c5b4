"""Replaying recorded data as a real-time feed: what was known at each issue time, nothing more.

:class:`RecordedFeed` holds a day's files (observations and nowcasts) but hands out only
:class:`Snapshot` objects: at issue time ``t`` the observations with ts <= t and the nowcasts
issued at or before t. The warning loop sees nothing else, so its output at ``t`` cannot depend
on later data (tests/drainage/test_no_peeking.py checks this).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lifeline.drainage.io import (
    Forecast,
    ObservedData,
    Sensor,
    list_forecasts,
    read_forecast,
    read_observed,
)


@dataclass(frozen=True)
class Snapshot:
    """What is known at issue time ``t``: observations up to t, nowcasts issued up to t."""

    t: pd.Timestamp
    observed: ObservedData
    forecasts: tuple[Forecast, ...]

    @property
    def latest(self) -> Forecast | None:
        """The latest nowcast issued at or before t (None when none was)."""
        return self.forecasts[-1] if self.forecasts else None


class RecordedFeed:
    """A recorded day: ``observed`` folder and ``forecasts`` folder (formats in io.py).

    Nowcast files are read lazily, in issue order, when a snapshot needs them.
    """

    def __init__(self, observed: str | Path, forecasts: str | Path) -> None:
        self._observed = read_observed(observed)
        self._files = list_forecasts(forecasts)
        self._loaded: list[Forecast] = []

    def issue_times(self) -> list[pd.Timestamp]:
        """The nowcast issue times, in order (the times at which warnings are decided)."""
        return [t for t, _ in self._files]

    @property
    def sensors(self) -> tuple[Sensor, ...]:
        """The sensors listed in sensors.csv (static metadata, not observations)."""
        return self._observed.sensors

    @property
    def start(self) -> pd.Timestamp | None:
        """The first observation time (where the analysis run starts)."""
        idx = self._observed.rain.index
        return pd.Timestamp(idx.min()) if len(idx) else None

    @property
    def end(self) -> pd.Timestamp | None:
        """The last observation time of the recording (the replay's clock stops there)."""
        ends = [x.index.max() for x in (self._observed.rain, self._observed.levels) if len(x)]
        return pd.Timestamp(max(ends)) if ends else None

    def snapshot(self, t: pd.Timestamp) -> Snapshot:
        """Everything known at ``t`` (see class doc)."""
        t = pd.Timestamp(t)
        while len(self._loaded) < len(self._files) and self._files[len(self._loaded)][0] <= t:
            issued, path = self._files[len(self._loaded)]
            self._loaded.append(read_forecast(issued, path))
        known = tuple(f for f in self._loaded if f.issued_at <= t)
        return Snapshot(t, self._observed.until(t), known)
