"""The built-in detectors, registered with :mod:`lifeline.detect.registry` on import.

Generic detectors live in :mod:`lifeline.detect`; utility detectors in their utility's folder.
Each ``register`` call below names what the detector watches, its default policy (with the
source of its threshold) and its warm-up. docs/detectors.md describes them for operators; a
city's ``policies.yaml`` overrides any policy field, or switches a detector off
(``enabled: false``).

Builders import their module on call, so importing the catalog stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lifeline.detect.base import ThresholdPolicy
from lifeline.detect.registry import DetectorSpec, register

if TYPE_CHECKING:
    import pandas as pd

    from lifeline.detect.base import Detector
    from lifeline.model.city import City


def _threshold(city: City, sensors: pd.DataFrame) -> Detector:
    from lifeline.detect import threshold

    return threshold.build(city, sensors)


def _cusum(city: City, sensors: pd.DataFrame) -> Detector:
    from lifeline.detect import cusum

    return cusum.build(city, sensors)


def _stuck(city: City, sensors: pd.DataFrame) -> Detector:
    from lifeline.detect import stuck

    return stuck.build(city, sensors)


def _rate(city: City, sensors: pd.DataFrame) -> Detector:
    from lifeline.detect import rate

    return rate.build(city, sensors)


def _methane(city: City, sensors: pd.DataFrame) -> Detector:
    from lifeline.gas.town import methane_detector_for

    return methane_detector_for(sensors, city.assets)


def _gas_pressure(city: City, sensors: pd.DataFrame) -> Detector:
    from lifeline.gas import pressure_online

    return pressure_online.build(city, sensors)


def _supply_loss(city: City, sensors: pd.DataFrame) -> Detector:
    from lifeline.power.detectors import supply_loss_detector

    return supply_loss_detector(city, sensors)


def _overload(city: City, sensors: pd.DataFrame) -> Detector:
    from lifeline.power.detectors import overload_detector

    return overload_detector(city, sensors)


def _voltage(city: City, sensors: pd.DataFrame) -> Detector:
    from lifeline.power.detectors import voltage_band_detector

    return voltage_band_detector(city, sensors)


def _outage(city: City, sensors: pd.DataFrame) -> Detector:
    from lifeline.power import outage

    return outage.build(city, sensors)


def _water_leaks(city: City, sensors: pd.DataFrame) -> Detector:
    from lifeline.water import online

    return online.build(city, sensors)


def _drainage_warning(city: City, sensors: pd.DataFrame) -> Detector:
    from lifeline.drainage import detector

    return detector.build(city, sensors)


def _blockage(city: City, sensors: pd.DataFrame) -> Detector:
    from lifeline.drainage import faults

    return faults.blockage(city, sensors)


def _pump_failure(city: City, sensors: pd.DataFrame) -> Detector:
    from lifeline.drainage import faults

    return faults.pump_failure(city, sensors)


#: storm-driven drainage signals (rain, levels that follow it) have no daily profile and long
#: runs at a constant dry-weather value: the profile, step and stuck detectors leave them to
#: the drainage detectors
_NOT_DRAINAGE = ("drainage",)

SPECS: list[dict[str, Any]] = [
    {
        "name": "threshold",
        "description": "a reading outside its standard band (voltage ±10 %, methane 20 %LEL) "
        "or its sensor's valid range; score in band half-widths from the normal value",
        "build": _threshold,
        "policy": ThresholdPolicy(
            threshold=1.0,
            source="1 = the band edge: EN 50160:2010 §4.2.2 (±10 % voltage), 20 %LEL early "
            "warning, else the sensor's valid range",
        ),
        "warmup": "none (fixed bands)",
    },
    {
        "name": "cusum",
        "description": "a sustained shift from the sensor's learnt daily profile (two-sided "
        "CUSUM, k = 0.5 sigma); score in residual sigmas",
        "build": _cusum,
        "policy": ThresholdPolicy(
            threshold=10.0,
            clear_after=12,
            source="h = 10 sigmas with k = 0.5: in-control ARL ≈ 7e4 readings (≈ 240 days at "
            "5 min) by Siegmund's approximation (Siegmund 1985; Montgomery §9.1.3 gives "
            "h = 4-5 for a single chart, ARL ≈ 465, too many false alarms for a fleet); "
            "closes after 12 readings without a signal (FIR restart at h/2, Lucas & Crosier "
            "1982)",
        ),
        "warmup": "2 days of readings per sensor (576 at 5-min intervals)",
        "not_utilities": _NOT_DRAINAGE,
    },
    {
        "name": "stuck_sensor",
        "description": "the same value for longer than the sensor's own repetition makes "
        "plausible (runs at zero, e.g. a de-energised bus, excepted)",
        "build": _stuck,
        "policy": ThresholdPolicy(
            threshold=1.0,
            source="1 = a run with probability < 1e-6 under the sensor's learnt repetition, "
            "twice its longest normal run and at least 1 h",
        ),
        "warmup": "1 day of readings per sensor (288 at 5-min intervals)",
        "not_utilities": _NOT_DRAINAGE,
    },
    {
        "name": "rate_of_change",
        "description": "an abrupt step between consecutive readings, against the sensor's "
        "learnt noise of first differences",
        "build": _rate,
        "policy": ThresholdPolicy(
            threshold=1.0,
            source="1 = a step of 6 sigmas of the sensor's first differences (the replay's "
            "step detector, with its resolution floors)",
        ),
        "warmup": "6 h of readings per sensor (72 at 5-min intervals)",
        "not_utilities": _NOT_DRAINAGE,
    },
    {
        "name": "methane",
        "description": "methane in manholes graded 25/50 %LEL with cause (gas leak, other, "
        "sensor fault), trend and rising neighbours",
        "build": _methane,
        "policy": ThresholdPolicy(
            threshold=1.0,
            min_consecutive=2,
            severity_steps=(1.0, 2.0, 4.0),
            source="GB/T 50493-2019: first alarm ≤ 25 %LEL, second ≤ 50 %LEL (score = %LEL / "
            "25; severity 3 at the LEL); two readings in a row so a one-reading spike (a "
            "sensor fault) does not raise",
        ),
        "warmup": "none for the grade; the cause uses up to 12 h of the manhole's readings",
        "utility": "gas",
        "quantities": ("methane_pct_lel",),
    },
    {
        "name": "gas_pressure_drop",
        "description": "a leak-like pressure drop across the gas network's pressure sensors "
        "(network sensitivity scan over the last 6 h, every 5 min)",
        "build": _gas_pressure,
        "policy": ThresholdPolicy(
            threshold=1.0,
            source="statistic ≥ 150 and drop ≥ 1 mbar: the pressure-only leak rule of `lifeline "
            "gas locate` (docs/gas.md, calibrated on the development scenarios' odd half)",
        ),
        "warmup": "1 h (12 bins of 5 min) from at least 3 pressure sensors",
        "utility": "gas",
        "quantities": ("pressure_bar",),
        "elements": ("junction",),
        "needs_network": "gas",
    },
    {
        "name": "water-leaks",
        "description": "a burst in the water network: the hourly CUSUM of the calibrated "
        "pressure model over every candidate pipe, verified on the raw readings (a step of "
        "pressure and of net supply) and located on the pipes' leak signatures; the burst "
        "channel of `lifeline water leaks`",
        "build": _water_leaks,
        "policy": ThresholdPolicy(
            threshold=1.0,
            source="1 = a leak the batch command's logic reports at that hour, with the "
            "thresholds it learns on the network's own first 21 days (the CUSUM threshold "
            "from a bootstrap false-alarm budget, the raw-data step gate; lifeline/water/"
            "pipeline.py learn_bursts, docs/water.md)",
        ),
        "warmup": "21 days of readings of the network (14 to calibrate the pressure model, "
        "7 for the same-hour baseline)",
        "utility": "water",
        "quantities": ("pressure_m", "flow_m3h", "level_m"),
        "needs_network": "water",
    },
    {
        "name": "power_supply_loss",
        "description": "a feeder or transformer current, or a busbar voltage, under 5 % of its "
        "learnt normal value: the protective device operated",
        "build": _supply_loss,
        "policy": ThresholdPolicy(
            threshold=0.95,
            severity_steps=(1.0, 1.0, 1.0),
            clear_below=0.5,
            source="EN 50160:2010 §3.28: an interruption is a voltage under 5 % of the "
            "reference; severity 3 at once; clears when back over half of normal",
        ),
        "warmup": "1 h of readings per sensor (12 at 5-min intervals)",
        "utility": "power",
        "quantities": ("current_a", "voltage_pu"),
        "elements": ("line", "trafo", "bus"),
    },
    {
        "name": "power_overload",
        "description": "a line or transformer loaded over its rating in the network model",
        "build": _overload,
        "policy": ThresholdPolicy(
            threshold=1.0,
            min_consecutive=2,
            severity_steps=(1.0, 1.2, 1.5),
            source="100 % of the rating in the network model (pandapower max_i_ka, sn_mva); "
            "severity 3 at 150 %, IEC 60076-7's cyclic-loading limit for distribution "
            "transformers; two readings in a row (thermal inertia)",
        ),
        "warmup": "none (ratings from the network model)",
        "utility": "power",
        "quantities": ("current_a", "p_mw"),
        "elements": ("line", "trafo"),
        "needs_network": "power",
    },
    {
        "name": "power_voltage_band",
        "description": "a bus voltage outside its band (bus limits in the model, else "
        "GB/T 12325-2008 by nominal voltage)",
        "build": _voltage,
        "policy": ThresholdPolicy(
            threshold=1.0,
            min_consecutive=2,
            source="GB/T 12325-2008: ±7 % for 20 kV and below, +7/−10 % at 220 V, ±5 % at "
            "35 kV and above; two readings in a row (a dip is a power-quality event)",
        ),
        "warmup": "none (fixed bands)",
        "utility": "power",
        "quantities": ("voltage_pu",),
        "elements": ("bus",),
    },
    {
        "name": "power_outage",
        "description": "operated protective device and fault section inferred from smart-meter "
        "last gasps/restores, breaker trips/closes and fault passage indicators",
        "build": _outage,
        "policy": ThresholdPolicy(
            threshold=1.0,
            source="any inferred operated device (score = log2(1 + customers cut): severity 2 "
            "from 3 customers, 3 from 15)",
        ),
        "warmup": "none (the network model is the prior)",
        "utility": "power",
        "inputs": "events",
        "event_kinds": ("last_gasp", "restore", "breaker_trip", "breaker_close", "fpi"),
        "needs_network": "power",
    },
    {
        "name": "drainage_warning",
        "description": "waterlogging warnings (blue/yellow/orange/red) at the city's points: "
        "SWMM nowcast of ponding from observed rain, levels and rainfall nowcasts, every 15 min",
        "build": _drainage_warning,
        "policy": ThresholdPolicy(
            threshold=1.0,
            severity_steps=(1.0, 2.0, 3.0),
            clear_after=2,
            source="score in warning levels (lifeline/drainage/levels.py): 1 = blue, the "
            "point's closure depth (GB 51222-2017: 15 cm on a lane; Beijing: 27 cm at "
            "underpasses), 2 yellow 0.3 m, 3 orange 0.5 m (AIDR Guideline 7-3 H2/H3); "
            "severity 2 from yellow; closes after two issue times without a warning",
        ),
        "warmup": "none (the SWMM model is the prior; 2 h of rain before the first wet issue time)",
        "utility": "drainage",
        "quantities": ("rain_mm_h", "level_m", "depth_m", "flow_m3s"),
        "needs_network": "drainage",
    },
    {
        "name": "sewer_blockage",
        "description": "a manhole level high while it is dry and the next level sensor "
        "downstream is low (a blockage between them)",
        "build": _blockage,
        "policy": ThresholdPolicy(
            threshold=1.0,
            min_consecutive=3,
            clear_after=3,
            source="level at half the manhole's depth with under 1 mm/h of rain in the last "
            "hour and the downstream sensor under a quarter of its depth (issue 18's rule; a "
            "sewer sized for a 2-3-year storm runs far below half full in dry weather); three "
            "readings in a row (15 min)",
        ),
        "warmup": "none (rule on the network's topology)",
        "utility": "drainage",
        "quantities": ("rain_mm_h", "level_m"),
        "needs_network": "drainage",
    },
    {
        "name": "pump_failure",
        "description": "a drainage pump that reads stopped while its wet well is above its "
        "start-up depth, or runs while the well keeps rising",
        "build": _pump_failure,
        "policy": ThresholdPolicy(
            threshold=1.0,
            min_consecutive=2,
            severity_steps=(1.0, 1.5, 2.0),
            clear_after=2,
            source="start-up depth of the pump in the SWMM model ([PUMPS] Startup) + 5 cm "
            "while stopped, or 0.3 m of rise in 30 min while running; two readings in a row",
        ),
        "warmup": "none (start-up depths from the SWMM model)",
        "utility": "drainage",
        "quantities": ("pump_on", "level_m"),
        "needs_network": "drainage",
    },
]

for _spec in SPECS:
    register(DetectorSpec(**_spec))
