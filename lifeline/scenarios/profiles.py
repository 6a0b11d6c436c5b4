"""Daily load shapes for the simulated day: BDEW electricity SLPs (via demandlib), gas heating,
water use and photovoltaics. All functions take UTC timestamps and work in local (Europe/Berlin)
time, where the shapes are defined.
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


def local_times(ts_utc: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """UTC timestamps as naive local (Europe/Berlin) wall-clock times."""
    return ts_utc.tz_convert(LOCAL_TZ).tz_localize(None)


def local_hours(ts_utc: pd.DatetimeIndex) -> np.ndarray:
    """Fractional local hour of day (0..24) for each UTC timestamp."""
    lt = local_times(ts_utc)
    return np.asarray(lt.hour + lt.minute / 60.0 + lt.second / 3600.0, dtype=float)


def household_kw(ts_utc: pd.DatetimeIndex, annual_kwh: float = 1000.0) -> np.ndarray:
    """BDEW H25 household profile: mean power (kW) over each quarter hour for ``annual_kwh`` per year."""
    from demandlib.bdew import H25

    lt = local_times(ts_utc).floor("15min")
    w_per_mwh = np.asarray(H25(pd.DatetimeIndex(lt)), dtype=float)  # W per 1000 kWh/a
    return w_per_mwh * annual_kwh / 1000.0 / 1000.0


def commercial_kw(ts_utc: pd.DatetimeIndex, annual_kwh: float = 1000.0) -> np.ndarray:
    """BDEW G25 commercial profile: mean power (kW) over each quarter hour for ``annual_kwh`` per year."""
    from demandlib.bdew import G25

    lt = local_times(ts_utc).floor("15min")
    w = np.asarray(G25(pd.DatetimeIndex(lt)), dtype=float)
    return w * annual_kwh / 1000.0 / 1000.0


def _hourly(shape: tuple[float, ...], hours: np.ndarray) -> np.ndarray:
    """Piecewise-linear interpolation of an hourly shape (values at the half hour), periodic."""
    x = np.arange(24) + 0.5
    xp = np.concatenate([[x[-1] - 24], x, [x[0] + 24]])
    fp = np.concatenate([[shape[-1]], shape, [shape[0]]])
    return np.interp(hours % 24, xp, fp)


def gas_factor(ts_utc: pd.DatetimeIndex) -> np.ndarray:
    """Gas demand relative to the annual-mean demand for each timestamp (season x hour of day)."""
    lt = local_times(ts_utc)
    month = np.asarray(GAS_MONTH_FACTOR)[np.asarray(lt.month) - 1]
    return month * _hourly(GAS_HOUR_SHAPE, local_hours(ts_utc))


def water_factor(ts_utc: pd.DatetimeIndex, shape: tuple[float, ...]) -> np.ndarray:
    """Water demand multiplier (mean 1 over a day) from an hourly ``shape``, smoothly interpolated."""
    return _hourly(shape, local_hours(ts_utc))


def pv_factor(ts_utc: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    """PV output as a fraction of installed power (clear-sky bell with cloud noise), 0 at night."""
    lt = local_times(ts_utc)
    m = np.asarray(lt.month) - 1
    h = local_hours(ts_utc)
    rise = np.asarray(PV_DAYLIGHT)[m, 0]
    sset = np.asarray(PV_DAYLIGHT)[m, 1]
    frac = np.clip((h - rise) / (sset - rise), 0.0, 1.0)
    bell = np.sin(np.pi * frac) ** 1.5
    cloud = np.clip(1.0 - np.abs(rng.normal(0.0, 0.15, len(h))).cumsum() % 0.4, 0.5, 1.0)
    return np.asarray(PV_PEAK)[m] * bell * cloud
