"""Waterlogging warning levels (蓝色 / 黄色 / 橙色 / 红色): from predicted ponding to a colour.

A point is warned **blue** when its predicted ponding reaches the point's own closure threshold
(the ``threshold_m`` of ``waterlogging_points.csv``: 15 cm on a traffic lane after
GB 51222-2017, 27 cm at an underpass after Beijing's closure practice), and **yellow**, **orange**
and **red** at larger depths. The levels are configurable per city in ``policies.yaml``::

    drainage_warning:
      levels:
        - {level: yellow, depth_m: 0.30, source: "…"}
        - {level: orange, depth_m: 0.50, source: "…"}
        - {level: red, depth_m: 1.20, source: "…"}

The detector's score is continuous in warning levels: 1 at blue, 2 at yellow, 3 at orange, 4 at
red, linear in depth between them (and 4 + depth/red - 1 above red, capped at 5), so the
default policy (threshold 1, severity steps 1/2/3) gives severity 1 for blue, 2 for yellow, 3
for orange and red.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lifeline.errors import ConfigError

LEVELS = ("blue", "yellow", "orange", "red")
#: depths (m) of the levels above blue, with their sources (blue is the point's threshold)
DEFAULT_LEVELS: tuple[dict[str, Any], ...] = (
    {
        "level": "blue",
        "ratio": 1.0,
        "source": "the point's closure threshold (waterlogging_points.csv): GB 51222-2017 "
        "城镇内涝防治技术标准 — more than 15 cm of water on one traffic lane is waterlogging; "
        "27 cm at underpasses, the depth at which Beijing closes a flooded underpass",
    },
    {
        "level": "yellow",
        "depth_m": 0.30,
        "source": "AIDR Handbook 7 Guideline 7-3 (2017) flood hazard class H2 above 0.3 m: "
        "unsafe for small vehicles",
    },
    {
        "level": "orange",
        "depth_m": 0.50,
        "source": "AIDR Guideline 7-3 hazard class H3 above 0.5 m: unsafe for all vehicles, "
        "children and the elderly",
    },
    {
        "level": "red",
        "depth_m": 1.20,
        "source": "AIDR Guideline 7-3 hazard class H4 above 1.2 m: unsafe for people and vehicles",
    },
)


@dataclass(frozen=True)
class WarningLevels:
    """Depth breakpoints of the levels above blue (m) and the source of each level."""

    depths_m: tuple[float, float, float]
    sources: dict[str, str]

    @classmethod
    def of(cls, policies: dict[str, Any] | None) -> WarningLevels:
        """The levels of a city (``policies.yaml`` ``drainage_warning.levels``) over the
        defaults; ConfigError names the field that is wrong."""
        rows = {r["level"]: dict(r) for r in DEFAULT_LEVELS}
        conf = ((policies or {}).get("drainage_warning") or {}).get("levels") or []
        if not isinstance(conf, list):
            raise ConfigError("must be a list", where="policies.yaml: drainage_warning.levels")
        for i, r in enumerate(conf):
            where = f"policies.yaml: drainage_warning.levels[{i}]"
            if not isinstance(r, dict) or r.get("level") not in LEVELS[1:]:
                raise ConfigError(f"level must be one of {', '.join(LEVELS[1:])}", where=where)
            if not str(r.get("source") or "").strip():
                raise ConfigError("every level needs its source", where=where)
            try:
                depth = float(r["depth_m"])
            except (KeyError, TypeError, ValueError) as exc:
                raise ConfigError("depth_m must be a number (m)", where=where) from exc
            rows[r["level"]] = {"level": r["level"], "depth_m": depth, "source": str(r["source"])}
        depths = tuple(float(rows[k]["depth_m"]) for k in LEVELS[1:])
        if not (0 < depths[0] < depths[1] < depths[2]):
            raise ConfigError(
                f"depths must increase from yellow to red, got {depths}",
                where="policies.yaml: drainage_warning.levels",
            )
        return cls(depths, {k: str(rows[k]["source"]) for k in LEVELS})  # type: ignore[arg-type]

    def breakpoints(self, threshold_m: float) -> list[float]:
        """Depths (m) at which a point of closure threshold ``threshold_m`` reaches blue,
        yellow, orange and red (each at least 1 cm above the one before)."""
        out = [float(threshold_m)]
        for d in self.depths_m:
            out.append(max(d, out[-1] + 0.01))
        return out

    def score(self, depth_m: float, threshold_m: float) -> float:
        """The continuous level score of a predicted ponding depth (module doc)."""
        b = [0.0, *self.breakpoints(threshold_m)]
        d = max(float(depth_m), 0.0)
        for k in range(4):
            if d < b[k + 1]:
                return k + (d - b[k]) / (b[k + 1] - b[k])
        return min(4.0 + d / b[4] - 1.0, 5.0)

    def level(self, depth_m: float, threshold_m: float) -> str:
        """``""`` below blue, else the colour of a predicted ponding depth."""
        s = self.score(depth_m, threshold_m)
        return "" if s < 1 else LEVELS[min(int(s), 4) - 1]
