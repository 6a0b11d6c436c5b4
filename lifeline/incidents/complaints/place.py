"""Place complaints on the network: nearest customer (KD-tree over x_m/y_m) or an address match.

Order of evidence per complaint: coordinates in the city's CRS (``x_m``/``y_m``), then WGS84
``lon``/``lat`` (projected to the city's CRS, which the placer must be given), then the
``address`` column, then an address of a customer quoted inside the free text. Anything else is
left unplaced with a reason.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lifeline.errors import InputError

#: a complaint further than this from every customer is not placed by coordinates (metres)
DEFAULT_MAX_DISTANCE_M = 500.0
_PUNCT = re.compile(r"[\s,.;:，。；：、#\-—/()（）]+")


def normalise_address(text: str) -> str:
    """Normalised address key: NFKC, lower case, punctuation/whitespace removed, 号/栋/单元 kept."""
    s = unicodedata.normalize("NFKC", str(text or "")).lower()
    s = s.replace("no.", "").replace("number", "")
    return _PUNCT.sub("", s)


@dataclass
class Placer:
    """Places points and addresses on a customer table (columns of ``schema.CUSTOMER``) whose
    coordinates are metres in ``crs`` (the city's; needed to place lon/lat complaints)."""

    customers: pd.DataFrame
    crs: str | None = None
    max_distance_m: float = DEFAULT_MAX_DISTANCE_M

    def __post_init__(self) -> None:
        from scipy.spatial import cKDTree

        need = {"customer_id", "x_m", "y_m"}
        missing = need - set(self.customers.columns)
        if missing:
            raise InputError(f"customer table lacks columns {sorted(missing)}", where="customers")
        self.customers = self.customers.reset_index(drop=True)
        xy = self.customers[["x_m", "y_m"]].to_numpy(dtype=float)
        self._tree = cKDTree(xy) if len(xy) else None
        addr = (
            self.customers["address"]
            if "address" in self.customers.columns
            else pd.Series([""] * len(self.customers))
        )
        self._addr: dict[str, int] = {}
        counts: dict[str, int] = {}
        for i, a in enumerate(addr.fillna("")):
            key = normalise_address(a)
            if key:
                counts[key] = counts.get(key, 0) + 1
                self._addr.setdefault(key, i)
        #: addresses shared by several customers cannot place a complaint on one of them
        self.ambiguous = {k: n for k, n in counts.items() if n > 1}
        for k in self.ambiguous:
            del self._addr[k]
        # longest keys first so "和平路12号3单元" beats "和平路12号"
        self._addr_keys = sorted(self._addr, key=len, reverse=True)
        self._transformer: Any = None

    def nearest(self, x_m: float, y_m: float) -> tuple[int, float] | None:
        """Index of the nearest customer and its distance (m), or None if beyond ``max_distance_m``."""
        if self._tree is None:
            return None
        d, i = self._tree.query([x_m, y_m])
        if not math.isfinite(d) or d > self.max_distance_m:
            return None
        return int(i), float(d)

    def match_address(self, text: str, allow_substring: bool = True) -> int | None:
        """Index of the customer whose normalised address equals (or is quoted inside) ``text``."""
        key = normalise_address(text)
        if not key:
            return None
        if key in self._addr:
            return self._addr[key]
        if allow_substring:
            for k in self._addr_keys:
                if len(k) >= 4 and k in key:
                    return self._addr[k]
        return None

    def lonlat_to_xy(self, lon: float, lat: float) -> tuple[float, float]:
        """Project WGS84 lon/lat (degrees) to the city's CRS (metres)."""
        if not self.crs:
            raise InputError(
                "a complaint gives lon/lat but the city's CRS is not known", where="crs"
            )
        if self._transformer is None:
            from pyproj import Transformer

            self._transformer = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)
        x, y = self._transformer.transform(lon, lat)
        return float(x), float(y)

    def place(self, complaints: pd.DataFrame) -> pd.DataFrame:
        """Return ``complaints`` with customer_id, district_id, x_m, y_m, place_method, place_reason filled.

        ``place_method`` is one of ``xy``, ``lonlat``, ``address``, ``text_address`` or
        ``unplaced``; ``place_reason`` explains an unplaced row (or gives the distance in m).
        """
        out = complaints.copy().reset_index(drop=True)
        for col in ("customer_id", "district_id", "place_method", "place_reason"):
            out[col] = (
                pd.Series([""] * len(out), dtype="string")
                if col not in out.columns
                else out[col].astype("string").fillna("")
            )
        for col in ("x_m", "y_m"):
            out[col] = (
                pd.to_numeric(out[col], errors="coerce") if col in out.columns else float("nan")
            )
        for i, row in out.iterrows():
            idx, method, reason = self._place_row(row)
            if idx is None:
                out.at[i, "place_method"] = "unplaced"
                out.at[i, "place_reason"] = reason
                continue
            c = self.customers.iloc[idx]
            out.at[i, "customer_id"] = str(c["customer_id"])
            out.at[i, "district_id"] = str(c.get("district_id", "") or "")
            if method in ("address", "text_address") or not math.isfinite(
                float(row.get("x_m", float("nan")))
            ):
                out.at[i, "x_m"] = float(c["x_m"])
                out.at[i, "y_m"] = float(c["y_m"])
            out.at[i, "place_method"] = method
            out.at[i, "place_reason"] = reason
        return out

    def _place_row(self, row: pd.Series) -> tuple[int | None, str, str]:
        x, y = _num(row.get("x_m")), _num(row.get("y_m"))
        reasons = []
        if x is not None and y is not None:
            hit = self.nearest(x, y)
            if hit:
                return hit[0], "xy", f"nearest customer at {hit[1]:.0f} m"
            reasons.append(f"no customer within {self.max_distance_m:.0f} m of ({x:.0f}, {y:.0f})")
        lon, lat = _num(row.get("lon")), _num(row.get("lat"))
        if lon is not None and lat is not None and not self.crs:
            reasons.append("lon/lat given but the city's CRS is not known")
        elif lon is not None and lat is not None:
            px, py = self.lonlat_to_xy(lon, lat)
            hit = self.nearest(px, py)
            if hit:
                return hit[0], "lonlat", f"nearest customer at {hit[1]:.0f} m"
            reasons.append(
                f"no customer within {self.max_distance_m:.0f} m of lon/lat ({lon}, {lat})"
            )
        addr = str(row.get("address") or "")
        if addr and addr.lower() not in ("nan", "<na>"):
            idx = self.match_address(addr)
            if idx is not None:
                return idx, "address", "address matched"
            n = self.ambiguous.get(normalise_address(addr))
            reasons.append(
                f"address {addr!r} is shared by {n} customers"
                if n
                else f"address {addr!r} not in the address table"
            )
        idx = self.match_address(str(row.get("text") or ""), allow_substring=True)
        if idx is not None:
            return idx, "text_address", "address found in the text"
        if not reasons:
            reasons.append("no coordinates and no address")
        return None, "unplaced", "; ".join(reasons)


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None
