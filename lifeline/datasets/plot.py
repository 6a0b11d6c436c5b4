"""One map of the demo town (the generic city map, :func:`lifeline.model.plot.plot_city`)."""

from __future__ import annotations

from pathlib import Path

from lifeline.datasets.town import Town
from lifeline.model.plot import COLORS, plot_city

__all__ = ["COLORS", "plot_town"]


def plot_town(town: Town, out: Path, title: str | None = None) -> Path:
    """Plot the town on one map (EPSG:25832 metres) and save it as an image at ``out``."""
    return plot_city(
        town, out, title or "Schutterwald demo town: power, gas and (synthetic) water on one map"
    )
