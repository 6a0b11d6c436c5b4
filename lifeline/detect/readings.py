"""What every reading detector shares: its sensors as arrays, batches as arrays, score frames,
location candidates and JSON-able state.

A detector keeps one row per watched sensor in numpy arrays (position ``0..n-1`` in
:class:`SensorArrays`); a batch becomes ``(pos, ts_ns, value)`` arrays sorted by event time
(:meth:`SensorArrays.take`), the per-reading recursion runs over them (numba kernels in the
detector modules) and :func:`score_frame` builds the ``key, ts, score, detail`` frame.

State is saved per sensor id (:func:`pack_state` / :func:`unpack_state`), so a checkpoint taken
with one sensor table restores every sensor that is still watched. Floats go to JSON as numbers
(``None`` for NaN: PostgreSQL's JSON has no NaN), times as ISO 8601 strings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lifeline.detect.base import empty_scores

if TYPE_CHECKING:
    from lifeline.model.city import City

#: "no time" in int64 nanosecond arrays
NO_TS = np.iinfo(np.int64).min
DAY_NS = 86_400 * 1_000_000_000
#: interval assumed for a sensor whose table row has none (s)
DEFAULT_INTERVAL_S = 300.0
#: the smallest meaningful change per quantity (a sensor's resolution), in the sensor's unit:
#: no noise scale is learnt under it (a methane sensor at 0 %LEL for hours has no noise, and its
#: first 0.1 %LEL is not a 100-sigma event)
RESOLUTION = {
    "pressure_m": 0.05,
    "pressure_bar": 0.0005,
    "flow_m3h": 0.1,
    "level_m": 0.005,
    "voltage_pu": 0.001,
    "current_a": 0.5,
    "p_mw": 0.001,
    "methane_pct_lel": 0.5,
}


def _col(df: pd.DataFrame, name: str, default: Any) -> pd.Series:
    if name in df.columns:
        return df[name]
    return pd.Series(default, index=df.index)


def _zones(city: City | None) -> dict[str, str]:
    if city is None or city.assets is None or not len(city.assets):
        return {}
    a = city.assets
    if "zone_id" not in a.columns:
        return {}
    return {
        str(k): str(z)
        for k, z in zip(a["asset_id"].astype(str), a["zone_id"], strict=True)
        if isinstance(z, str) and z and z != "nan"
    }


def location(
    asset_id: str, x_m: float, y_m: float, confidence: float, zone_id: str = ""
) -> dict[str, Any]:
    """One location candidate (an asset with its position in the city CRS, metres)."""
    out: dict[str, Any] = {"asset_id": asset_id, "confidence": round(float(confidence), 3)}
    out["x_m"] = float(x_m) if math.isfinite(float(x_m)) else None
    out["y_m"] = float(y_m) if math.isfinite(float(y_m)) else None
    if zone_id:
        out["zone_id"] = zone_id
    return out


@dataclass
class SensorArrays:
    """The sensors one detector watches (rows of ``schema.SENSOR``) as arrays."""

    ids: np.ndarray  # object array of sensor ids (str)
    index: pd.Index
    utility: np.ndarray  # object
    quantity: np.ndarray  # object
    element: np.ndarray  # object ("bus:3", "" for a manhole)
    asset_id: np.ndarray  # object
    interval_s: np.ndarray  # float64 (s)
    valid_min: np.ndarray  # float64 (-inf when open)
    valid_max: np.ndarray  # float64 (+inf when open)
    x_m: np.ndarray
    y_m: np.ndarray
    zone_id: np.ndarray  # object ("" when unknown)

    @classmethod
    def from_table(cls, sensors: pd.DataFrame, city: City | None = None) -> SensorArrays:
        """Arrays of ``sensors`` (a SENSOR table or a subset of it); zones from the city's assets."""
        s = sensors.drop_duplicates("sensor_id", keep="first").reset_index(drop=True)
        ids = s["sensor_id"].astype(str).to_numpy(dtype=object)
        iv = pd.to_numeric(_col(s, "interval_s", DEFAULT_INTERVAL_S), errors="coerce")
        iv = iv.where(iv > 0, DEFAULT_INTERVAL_S).fillna(DEFAULT_INTERVAL_S)
        lo = pd.to_numeric(_col(s, "valid_min", -np.inf), errors="coerce").fillna(-np.inf)
        hi = pd.to_numeric(_col(s, "valid_max", np.inf), errors="coerce").fillna(np.inf)
        asset = _col(s, "asset_id", "").fillna("").astype(str).to_numpy(dtype=object)
        zones = _zones(city)
        return cls(
            ids=ids,
            index=pd.Index(ids),
            utility=_col(s, "utility", "").fillna("").astype(str).to_numpy(dtype=object),
            quantity=_col(s, "quantity", "").fillna("").astype(str).to_numpy(dtype=object),
            element=_col(s, "element", "").fillna("").astype(str).to_numpy(dtype=object),
            asset_id=asset,
            interval_s=iv.to_numpy(float),
            valid_min=lo.to_numpy(float),
            valid_max=hi.to_numpy(float),
            x_m=pd.to_numeric(_col(s, "x_m", np.nan), errors="coerce").to_numpy(float),
            y_m=pd.to_numeric(_col(s, "y_m", np.nan), errors="coerce").to_numpy(float),
            zone_id=np.array([zones.get(a, "") for a in asset], dtype=object),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, batch: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(pos, ts_ns, value)`` of the batch's readings of watched sensors with a finite value,
        in event-time order (stable: readings with equal times keep the batch's order)."""
        if batch is None or len(batch) == 0 or not len(self.ids):
            z = np.zeros(0, np.int64)
            return z, z.copy(), np.zeros(0, float)
        pos = positions(self.index, batch["sensor_id"])
        ts = ts_ns(batch["ts"])
        val = values(batch["value"])
        keep = (pos >= 0) & np.isfinite(val) & (ts != NO_TS)
        if not keep.all():
            pos, ts, val = pos[keep], ts[keep], val[keep]
        order = np.argsort(ts, kind="stable")
        return pos[order].astype(np.int64), ts[order], val[order]

    def base_details(self, confidence: float = 0.5) -> np.ndarray:
        """Per sensor (an object array), the detail every score row carries: the sensor's
        utility and its asset as its location."""
        out = [
            {
                "utility": str(self.utility[i]),
                "location": [
                    location(
                        str(self.asset_id[i] or self.ids[i]),
                        self.x_m[i],
                        self.y_m[i],
                        confidence,
                        str(self.zone_id[i]),
                    )
                ],
            }
            for i in range(len(self.ids))
        ]
        return np.fromiter(out, dtype=object, count=len(out))


def ts_ns(ts: Any) -> np.ndarray:
    """Event times as int64 nanoseconds since the epoch (UTC); naive times are taken as UTC."""
    dt = getattr(ts, "dtype", None)
    if isinstance(dt, pd.DatetimeTZDtype) or (isinstance(dt, np.dtype) and dt.kind == "M"):
        idx = pd.DatetimeIndex(ts)  # already times: no parsing (tz-aware values are UTC)
    else:
        idx = pd.DatetimeIndex(pd.to_datetime(ts, utc=True))
    return idx.as_unit("ns").asi8.copy()


_CATS: dict[int, tuple[pd.Index, pd.Index, np.ndarray]] = {}


def positions(index: pd.Index, ids: pd.Series) -> np.ndarray:
    """Positions in ``index`` of the sensor ids ``ids`` (-1 for unknown ones); categorical ids
    (as the validator gives them) are looked up once per category, and once per categories
    object (a stream's batches share it)."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        cat = ids.cat.categories
        hit = _CATS.get(id(index))
        if hit is not None and hit[0] is cat and hit[1] is index:
            cats = hit[2]
        else:
            cats = index.get_indexer(cat.astype(str))
            _CATS[id(index)] = (cat, index, cats)
        codes = ids.cat.codes.to_numpy()
        return np.where(codes >= 0, cats[codes], -1)
    return index.get_indexer(ids if ids.dtype == object else ids.astype(str))


def values(v: pd.Series) -> np.ndarray:
    """Reading values as float64 (non-numbers become NaN)."""
    if v.dtype.kind in "fiu":
        return v.to_numpy(float)
    return pd.to_numeric(v, errors="coerce").to_numpy(float)


def score_frame(
    keys: np.ndarray, ts: np.ndarray, scores: np.ndarray, details: list[Any] | np.ndarray
) -> pd.DataFrame:
    """A score frame (``key, ts, score, detail``) from arrays; ``ts`` in int64 ns UTC."""
    if len(keys) == 0:
        return empty_scores()
    sc = np.nan_to_num(np.asarray(scores, float), nan=0.0, posinf=1e9, neginf=0.0)
    return pd.DataFrame(
        {
            "key": np.asarray(keys, dtype=object),
            "ts": pd.DatetimeIndex(np.asarray(ts, np.int64).view("M8[ns]")).tz_localize("UTC"),
            "score": np.maximum(sc, 0.0),
            "detail": details
            if isinstance(details, np.ndarray)
            else np.fromiter(details, dtype=object, count=len(details)),
        },
        copy=False,
    )


def details_for(
    pos: np.ndarray, scores: np.ndarray, base: np.ndarray, rich_from: float, rich: Any
) -> np.ndarray:
    """The detail of each scored row (an object array): ``rich(i)`` (a new dict) where the
    score reaches ``rich_from``, else the sensor's base detail (``base[pos]``, shared and
    read-only)."""
    out = base[pos]
    for i in np.flatnonzero(scores >= rich_from).tolist():
        out[i] = rich(i)
    return out


# ---- JSON-able state --------------------------------------------------------------------------
def floats_out(a: np.ndarray) -> list[Any]:
    """A float array as a JSON list (NaN and infinities as None)."""
    flat = np.asarray(a, float).ravel()
    out: list[Any] = flat.tolist()
    for i in np.flatnonzero(~np.isfinite(flat)).tolist():
        out[i] = None
    return out


def floats_in(v: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Inverse of :func:`floats_out` (None → NaN)."""
    a = np.array([np.nan if x is None else float(x) for x in (v or [])], dtype=float)
    return a.reshape(shape) if shape is not None else a


def times_out(a: np.ndarray) -> list[str | None]:
    """int64 ns times as ISO 8601 strings (None for :data:`NO_TS`)."""
    return [None if int(t) == NO_TS else pd.Timestamp(int(t), tz="UTC").isoformat() for t in a]


def times_in(v: Any) -> np.ndarray:
    """Inverse of :func:`times_out`."""
    return np.array(
        [NO_TS if t is None else pd.Timestamp(t).tz_convert("UTC").value for t in (v or [])],
        dtype=np.int64,
    )


def pack_state(
    sensors: SensorArrays, arrays: dict[str, np.ndarray], times: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Per-sensor arrays (first axis = sensor) as a JSON-able dict keyed by sensor id; the
    arrays named in ``times`` hold int64 ns times."""
    out: dict[str, Any] = {"sensors": [str(s) for s in sensors.ids]}
    for name, a in arrays.items():
        if name in times:
            out[name] = times_out(a.ravel())
            if a.ndim > 1:
                out[f"{name}__shape"] = list(a.shape[1:])
        else:
            out[name] = floats_out(a)
            if a.ndim > 1:
                out[f"{name}__shape"] = list(a.shape[1:])
    return out


def unpack_state(
    sensors: SensorArrays,
    state: dict[str, Any],
    arrays: dict[str, np.ndarray],
    times: tuple[str, ...] = (),
) -> None:
    """Fill ``arrays`` (in place, first axis = sensor) from :func:`pack_state` output; sensors
    the state does not know keep their values, sensors no longer watched are dropped."""
    ids = [str(s) for s in state.get("sensors", [])]
    if not ids:
        return
    dst = sensors.index.get_indexer(pd.Index(ids))
    ok = dst >= 0
    for name, a in arrays.items():
        if name not in state:
            continue
        if name in times:
            tail = tuple(state.get(f"{name}__shape", a.shape[1:]))
            src = times_in(state[name]).reshape((len(ids), *tail))
        else:
            tail = tuple(state.get(f"{name}__shape", a.shape[1:]))
            src = floats_in(state[name], (len(ids), *tail))
        a[dst[ok]] = src[ok].astype(a.dtype)
