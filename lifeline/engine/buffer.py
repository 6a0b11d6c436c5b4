"""The engine's event-time buffer: pending readings, events, complaints or nowcasts, kept
sorted by event time and taken window by window."""

from __future__ import annotations

from typing import Any

import pandas as pd


def utc_timestamp(t: Any) -> pd.Timestamp:
    """A UTC pandas Timestamp (nanoseconds kept) from anything pandas reads as a time."""
    ts = pd.Timestamp(t)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


class EventBuffer:
    """Pending items of one kind, kept sorted by event time (stable, so arrival order breaks
    ties) and taken window by window."""

    def __init__(self) -> None:
        self.df: pd.DataFrame | None = None
        self.new: list[pd.DataFrame] = []
        self.n = 0

    def add(self, df: pd.DataFrame) -> None:
        if len(df):
            self.new.append(df)
            self.n += len(df)

    def _merge(self) -> None:
        if self.new:
            parts = ([self.df] if self.df is not None and len(self.df) else []) + self.new
            df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
            self.df = df.sort_values("ts", kind="stable").reset_index(drop=True)
            self.new = []

    def take(self, end: pd.Timestamp) -> pd.DataFrame:
        """Remove and return the items with ts < end."""
        self._merge()
        if self.df is None or len(self.df) == 0:
            return pd.DataFrame()
        k = int(self.df["ts"].searchsorted(end, side="left"))
        out, self.df = self.df.iloc[:k], self.df.iloc[k:]
        self.n = len(self.df)
        return out.reset_index(drop=True)

    def min_ts(self) -> pd.Timestamp | None:
        self._merge()
        return None if self.df is None or len(self.df) == 0 else self.df["ts"].iloc[0]
