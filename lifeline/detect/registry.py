"""The detector registry: every detector lifeline runs, what it watches and its default policy.

A :class:`DetectorSpec` says which sensors (utility, quantity, element kind) or which meter
events a detector scores, how to build it for a city, its default :class:`ThresholdPolicy`
(with the source of its threshold) and how long it needs to warm up. The live engine builds one
instance per spec that has something to watch in the city; a city's ``policies.yaml`` may
override any policy field per detector name, or switch a detector off::

    cusum: {threshold: 6.0, source: "tuned on our 2025 history"}
    stuck_sensor: {enabled: false}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from lifeline.detect.base import Detector, ThresholdPolicy

if TYPE_CHECKING:
    from lifeline.model.city import City


@dataclass(frozen=True)
class DetectorSpec:
    """One registered detector."""

    name: str
    description: str
    build: Callable[[City, pd.DataFrame], Detector]  # (city, the sensors it watches) -> detector
    policy: ThresholdPolicy
    warmup: str  # what it needs before it scores, in words ("2 h of readings per sensor")
    utility: str = ""  # "" = any utility
    inputs: str = "readings"  # readings | events
    quantities: tuple[str, ...] = ()  # () = any quantity
    elements: tuple[str, ...] = ()  # element kinds (node, link, bus, …); ("",) = manholes; () = any
    event_kinds: tuple[str, ...] = ()  # for inputs == "events"
    needs_network: str = ""  # a utility whose network model the city must have
    extra: dict[str, Any] = field(default_factory=dict)

    def watches(self, sensors: pd.DataFrame) -> pd.Series:
        """Boolean mask over ``sensors`` (``schema.SENSOR``) of the sensors this detector scores."""
        m = pd.Series(self.inputs == "readings", index=sensors.index)
        if self.utility:
            m &= sensors["utility"].astype(str) == self.utility
        if self.quantities:
            m &= sensors["quantity"].astype(str).isin(self.quantities)
        if self.elements:
            kind = sensors.get("element", pd.Series("", index=sensors.index)).fillna("").astype(str)
            m &= kind.str.split(":", n=1).str[0].isin(self.elements)
        return m


_REGISTRY: dict[str, DetectorSpec] = {}


def register(spec: DetectorSpec) -> DetectorSpec:
    """Add ``spec`` to the registry (a name registers once; the last registration wins)."""
    _REGISTRY[spec.name] = spec
    return spec


def specs() -> list[DetectorSpec]:
    """Every registered detector, in name order (imports the modules that register them)."""
    import lifeline.detect.catalog  # noqa: F401  (registers the built-in detectors)

    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def policy_for(spec: DetectorSpec, overrides: dict[str, Any] | None) -> ThresholdPolicy:
    """The spec's default policy with a city's overrides (``policies.yaml``) applied."""
    o = (overrides or {}).get(spec.name) or {}
    allowed = {
        "threshold",
        "min_consecutive",
        "severity_steps",
        "clear_below",
        "clear_after",
        "source",
    }
    kw: dict[str, Any] = {
        k: (tuple(v) if k == "severity_steps" else v) for k, v in o.items() if k in allowed
    }
    return replace(spec.policy, **kw) if kw else spec.policy


def enabled(spec: DetectorSpec, overrides: dict[str, Any] | None) -> bool:
    """False when a city's ``policies.yaml`` says ``<name>: {enabled: false}``."""
    o = (overrides or {}).get(spec.name) or {}
    return not (isinstance(o, dict) and o.get("enabled") is False)


@dataclass
class Instance:
    """A detector built for a city: the spec, the detector, its policy and the sensor ids it
    watches (empty for event detectors)."""

    spec: DetectorSpec
    detector: Detector
    policy: ThresholdPolicy
    sensor_ids: frozenset[str]


def build_detectors(city: City, names: list[str] | None = None) -> list[Instance]:
    """One instance per registered detector that has something to watch in ``city`` (sensors
    of its quantities, or a network for event detectors), optionally only ``names``."""
    out = []
    for spec in specs():
        if names is not None and spec.name not in names:
            continue
        if not enabled(spec, city.policies):
            continue
        if spec.needs_network and not city.has(spec.needs_network):
            continue
        sensors = (
            city.sensors[spec.watches(city.sensors)]
            if spec.inputs == "readings"
            else city.sensors.iloc[0:0]
        )
        if spec.inputs == "readings" and sensors.empty:
            continue
        det = spec.build(city, sensors)
        out.append(
            Instance(
                spec,
                det,
                policy_for(spec, city.policies),
                frozenset(sensors["sensor_id"].astype(str)),
            )
        )
    return out
