"""Daily load shapes for the simulated day: BDEW electricity SLPs (via demandlib), gas heating,
water use and photovoltaics. All functions take UTC timestamps and work in the city's local time
(``tz``, default Europe/Berlin): a morning peak is a morning peak in Chongqing too. The shapes
themselves are German ones (BDEW profiles, heating season, PV at 48.5 N); a city with its own
load profiles brings them in its models (water: the INP's demand patterns).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LOCAL_TZ = "Europe/Berlin"
#: gas: daily heating factor relative to the annual mean, by month (Jan..Dec), a typical
#: German residential pattern (heating degree days); hot water keeps summer above zero.
GAS_MONTH_FACTOR = (1.85, 1.70, 1.40, 1.00, 0.60, 0.35, 0.30, 0.30, 0.50, 0.95, 1.40, 1.75)
#: gas: hourly shape within a day (mean 1.0), after the BDEW SHLP hour factors of single-family
#: houses: night set-back, morning peak, evening shoulder
GAS_HOUR_SHAPE = (
    0.60,
    0.55,
    0.55,
    0.55,
    0.65,
    0.95,
    1.45,
    1.55,
    1.35,
    1.15,
    1.05,
    1.00,
    1.00,
    0.95,
    0.95,
    1.00,
    1.10,
    1.25,
    1.35,
    1.30,
    1.20,
    1.05,
    0.85,
    0.70,
)
#: photovoltaics: (sunrise, sunset) local solar hours at 48.5 N by month, and clear-sky peak
#: as a fraction of installed power
PV_DAYLIGHT = (
    (8.0, 16.8),
    (7.4, 17.6),
    (6.5, 18.4),
    (6.4, 20.2),
    (5.6, 20.9),
    (5.3, 21.4),
    (5.6, 21.3),
    (6.2, 20.6),
    (7.0, 19.5),
    (7.7, 18.4),
    (7.5, 16.8),
    (8.1, 16.5),
)
PV_PEAK = (0.30, 0.42, 0.55, 0.65, 0.70, 0.72, 0.72, 0.68, 0.60, 0.47, 0.33, 0.26)
#: water: hourly multipliers of residential water use (mean 1.0, typical German small-town
#: shape), used where a water model has no demand pattern or a flat one
WATER_DIURNAL = (
    0.45,
    0.35,
    0.30,
    0.30,
    0.35,
    0.60,
    1.20,
    1.65,
    1.55,
    1.30,
    1.15,
    1.10,
    1.20,
    1.15,
    1.00,
    0.95,
    1.00,
    1.15,
    1.35,
    1.45,
    1.40,
    1.20,
    0.90,
    0.55,
)


def local_times(ts_utc: pd.DatetimeIndex, tz: str = LOCAL_TZ) -> pd.DatetimeIndex:
    """UTC timestamps as naive local wall-clock times in ``tz``."""
    return ts_utc.tz_convert(tz).tz_localize(None)


def local_hours(ts_utc: pd.DatetimeIndex, tz: str = LOCAL_TZ) -> np.ndarray:
    """Fractional local hour of day (0..24) in ``tz`` for each UTC timestamp."""
    lt = local_times(ts_utc, tz)
    return np.asarray(lt.hour + lt.minute / 60.0 + lt.second / 3600.0, dtype=float)


def household_kw(
    ts_utc: pd.DatetimeIndex, annual_kwh: float = 1000.0, tz: str = LOCAL_TZ
) -> np.ndarray:
    """BDEW H25 household profile: mean power (kW) over each quarter hour for ``annual_kwh`` per year."""
    from demandlib.bdew import H25

    lt = local_times(ts_utc, tz).floor("15min")
    w_per_mwh = np.asarray(H25(pd.DatetimeIndex(lt)), dtype=float)  # W per 1000 kWh/a
    return w_per_mwh * annual_kwh / 1000.0 / 1000.0


def commercial_kw(
    ts_utc: pd.DatetimeIndex, annual_kwh: float = 1000.0, tz: str = LOCAL_TZ
) -> np.ndarray:
    """BDEW G25 commercial profile: mean power (kW) over each quarter hour for ``annual_kwh`` per year."""
    from demandlib.bdew import G25

    lt = local_times(ts_utc, tz).floor("15min")
    w = np.asarray(G25(pd.DatetimeIndex(lt)), dtype=float)
    return w * annual_kwh / 1000.0 / 1000.0


def _hourly(shape: tuple[float, ...], hours: np.ndarray) -> np.ndarray:
    """Piecewise-linear interpolation of an hourly shape (values at the half hour), periodic."""
    x = np.arange(24) + 0.5
    xp = np.concatenate([[x[-1] - 24], x, [x[0] + 24]])
    fp = np.concatenate([[shape[-1]], shape, [shape[0]]])
    return np.interp(hours % 24, xp, fp)


def gas_factor(ts_utc: pd.DatetimeIndex, tz: str = LOCAL_TZ) -> np.ndarray:
    """Gas demand relative to the annual-mean demand for each timestamp (season x hour of day)."""
    lt = local_times(ts_utc, tz)
    month = np.asarray(GAS_MONTH_FACTOR)[np.asarray(lt.month) - 1]
    return month * _hourly(GAS_HOUR_SHAPE, local_hours(ts_utc, tz))


def water_factor(
    ts_utc: pd.DatetimeIndex, shape: tuple[float, ...] = WATER_DIURNAL, tz: str = LOCAL_TZ
) -> np.ndarray:
    """Water demand multiplier (mean 1 over a day) from an hourly ``shape``, smoothly interpolated."""
    return _hourly(shape, local_hours(ts_utc, tz))


def pattern_factor(
    ts_utc: pd.DatetimeIndex,
    multipliers: list[float] | tuple[float, ...] | np.ndarray,
    step_s: float,
    offset_s: float = 0.0,
    tz: str = LOCAL_TZ,
    smooth: bool = True,
) -> np.ndarray:
    """An EPANET time pattern read at local clock times: the multiplier in force at each UTC
    timestamp.

    Pattern step ``k`` (of ``step_s`` seconds) covers local clock seconds
    ``[k·step_s − offset_s, (k+1)·step_s − offset_s)`` counted from the local midnight of the
    first timestamp's day, repeating with the pattern's period (``offset_s`` = the INP's
    PATTERN START minus START CLOCKTIME). ``smooth`` interpolates linearly between step
    mid-points (a 24-value hourly pattern then gives :func:`water_factor`); else steps.
    """
    m = np.asarray(multipliers, dtype=float)
    if len(m) == 0:
        return np.ones(len(ts_utc))
    lt = local_times(ts_utc, tz)
    day0 = lt[0].normalize() if len(lt) else pd.Timestamp(0)
    x = (np.asarray((lt - day0).total_seconds(), dtype=float) + offset_s) / float(step_s)
    n = len(m)
    if not smooth or n == 1:
        return np.asarray(m[np.floor(x).astype(int) % n])
    k = np.arange(n) + 0.5
    xp = np.concatenate([[k[-1] - n], k, [k[0] + n]])
    fp = np.concatenate([[m[-1]], m, [m[0]]])
    return np.asarray(np.interp(x % n, xp, fp))


def pv_factor(ts_utc: pd.DatetimeIndex, rng: np.random.Generator, tz: str = LOCAL_TZ) -> np.ndarray:
    """PV output as a fraction of installed power (clear-sky bell with cloud noise), 0 at night."""
    lt = local_times(ts_utc, tz)
    m = np.asarray(lt.month) - 1
    h = local_hours(ts_utc, tz)
    rise = np.asarray(PV_DAYLIGHT)[m, 0]
    sset = np.asarray(PV_DAYLIGHT)[m, 1]
    frac = np.clip((h - rise) / (sset - rise), 0.0, 1.0)
    bell = np.sin(np.pi * frac) ** 1.5
    cloud = np.clip(1.0 - np.abs(rng.normal(0.0, 0.15, len(h))).cumsum() % 0.4, 0.5, 1.0)
    return np.asarray(PV_PEAK)[m] * bell * cloud
