"""The data model as tables: column names (with units) and their types.

These are the contracts between the town builder, the store, ingestion, detectors and incidents.
Every table is a pandas DataFrame with exactly these columns (extra columns are allowed where
noted). Timestamps are timezone-aware UTC. Geometry is stored in the city's CRS (metres, from
the city package's ``crs``) as ``x_m``/``y_m`` for points and WKT for lines.
"""

from __future__ import annotations

from typing import Final

#: lifeline utilities, plus "telecom": the host of some manholes that carry methane detectors
#: (an asset's owner, never an incident's utility)
UTILITIES: Final = ("water", "power", "gas", "drainage", "telecom")

#: column -> dtype ("string", "float64", "int64", "bool", "datetime64[ns, UTC]")
ASSET: Final[dict[str, str]] = {
    "asset_id": "string",  # globally unique, prefixed by utility, e.g. "water:pipe:P12"
    "utility": "string",  # water|power|gas|drainage
    "kind": "string",  # pipe, valve, junction, tank, pump, reservoir, bus, line, switch, trafo, load, regulator, manhole, …
    "ref": "string",  # the element's id/index inside its utility's network model
    "name": "string",
    "x_m": "float64",  # point position (for lines: midpoint), town CRS metres
    "y_m": "float64",
    "geometry_wkt": "string",  # LINESTRING/POINT in the town CRS
    "zone_id": "string",  # DMA / feeder / gas district
    "district_id": "string",  # administrative district
    "install_year": "int64",
    "material": "string",
    "diameter_m": "float64",
    "length_m": "float64",
    "design_life_y": "float64",
}

CUSTOMER: Final[dict[str, str]] = {
    "customer_id": "string",
    "name": "string",
    "category": "string",  # household, hospital, school, care_home, pumping_station, industry, …
    "critical": "bool",
    "x_m": "float64",
    "y_m": "float64",
    "power_asset_id": "string",  # the LV load (or MV bus) serving it
    "gas_asset_id": "string",  # the gas house connection / sink ("" if none)
    "water_asset_id": "string",  # the water junction serving it
    "district_id": "string",
    "address": "string",
}

SENSOR: Final[dict[str, str]] = {
    "sensor_id": "string",
    "asset_id": "string",  # the asset it sits on (a manhole asset for methane detectors)
    "utility": "string",
    "quantity": "string",  # pressure_m, flow_m3h, level_m, pressure_bar, methane_pct_lel, voltage_pu, current_a, p_mw, meter_kwh, …
    "unit": "string",  # m, m3/h, bar, %LEL, pu, A, MW, kWh
    "interval_s": "int64",
    "valid_min": "float64",
    "valid_max": "float64",
    "x_m": "float64",
    "y_m": "float64",
    "element": "string",  # the network element it measures: node:<id>, link:<id>, bus:<idx>, … ("" for a manhole)
    "host": "string",  # methane detectors: the utility owning the manhole (power|telecom|drainage|water)
}

READING: Final[dict[str, str]] = {
    "sensor_id": "string",
    "ts": "datetime64[ns, UTC]",
    "value": "float64",
    "quality": "int64",  # 0 good; >0 flagged (see lifeline.ingest.validate)
}

REJECTED: Final[dict[str, str]] = {
    "received_at": "datetime64[ns, UTC]",
    "source": "string",  # file:line, mqtt topic, http batch id
    "reason": "string",  # one of lifeline.ingest.validate.Reason
    "detail": "string",
    "raw": "string",  # the record as received
}

ALARM: Final[dict[str, str]] = {
    "alarm_id": "string",
    "ts": "datetime64[ns, UTC]",
    "utility": "string",
    "detector": "string",
    "severity": "int64",  # 1 (low) .. 3 (high)
    "sensors": "string",  # JSON list of sensor ids
    "score": "float64",
    "location": "string",  # JSON: candidate assets with confidence, x_m/y_m
    "detail": "string",  # JSON
    "state": "string",  # open while the condition lasts, closed when it has ended
    "updated_at": "datetime64[ns, UTC]",  # event time of the last update of the episode
    "ended_at": "datetime64[ns, UTC]",  # event time the episode closed (null while open)
}

METER_EVENT: Final[dict[str, str]] = {
    "event_id": "string",  # deterministic: kind, subject and time
    "ts": "datetime64[ns, UTC]",
    "kind": "string",  # last_gasp|restore|breaker_trip|breaker_close|fpi|zero_consumption|reverse_flow
    "utility": "string",  # power for meters and switchgear, water or gas for their meters
    "customer_id": "string",  # meter events: the customer whose meter sent it
    "element": "string",  # switchgear events: switch:<idx>
    "source": "string",  # mqtt topic, http batch, file, drill
}

CHECKPOINT: Final[dict[str, str]] = {
    "name": "string",  # the engine partition ("engine" when there is one)
    "watermark": "datetime64[ns, UTC]",  # event time fully processed
    "saved_at": "datetime64[ns, UTC]",
    "state": "string",  # JSON: detector, episode and correlator state
}

META: Final[dict[str, str]] = {
    "key": "string",  # city.name, city.crs, city.timezone, city.root, …
    "value": "string",
}

COMPLAINT: Final[dict[str, str]] = {
    "complaint_id": "string",
    "ts": "datetime64[ns, UTC]",
    "channel": "string",  # hotline, app, …
    "text": "string",
    "address": "string",
    "x_m": "float64",
    "y_m": "float64",
    "utility": "string",  # classified
    "category": "string",  # classified
    "customer_id": "string",  # placed
}

INCIDENT: Final[dict[str, str]] = {
    "incident_id": "string",
    "state": "string",
    "utility": "string",
    "grade": "string",  # IV, III, II, I
    "opened_at": "datetime64[ns, UTC]",
    "updated_at": "datetime64[ns, UTC]",
    "district_id": "string",
    "x_m": "float64",
    "y_m": "float64",
    "body": "string",  # JSON: location, alarms, complaints, cascade, plan, actions, timeline
}

AUDIT: Final[dict[str, str]] = {
    "ts": "datetime64[ns, UTC]",
    "actor": "string",
    "action": "string",
    "object_id": "string",
    "detail": "string",  # JSON
}

DEPENDENCY: Final[dict[str, str]] = {
    "asset_id": "string",  # the dependent asset, e.g. water:pump:PS1
    "utility": "string",
    "depends_on_asset_id": "string",  # e.g. power:bus:123
    "depends_on_utility": "string",
    "kind": "string",  # supply (needs power from), proximity (cable duct next to gas main), flooding, …
    "distance_m": "float64",
}

ZONE: Final[dict[str, str]] = {
    "zone_id": "string",
    "utility": "string",
    "kind": "string",  # dma, feeder, gas_district
    "name": "string",
    "district_id": "string",
}

DISTRICT: Final[dict[str, str]] = {
    "district_id": "string",
    "name": "string",
    "name_zh": "string",
    "level": "string",  # city, district, street
    "parent_id": "string",
    "geometry_wkt": "string",
}

TABLES: Final[dict[str, dict[str, str]]] = {
    "asset": ASSET,
    "customer": CUSTOMER,
    "sensor": SENSOR,
    "reading": READING,
    "rejected": REJECTED,
    "alarm": ALARM,
    "meter_event": METER_EVENT,
    "checkpoint": CHECKPOINT,
    "meta": META,
    "complaint": COMPLAINT,
    "incident": INCIDENT,
    "audit": AUDIT,
    "dependency": DEPENDENCY,
    "zone": ZONE,
    "district": DISTRICT,
}


def empty_frame(table: str):  # type: ignore[no-untyped-def]
    """Return an empty DataFrame with the columns and dtypes of ``table``."""
    import pandas as pd

    cols = TABLES[table]
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in cols.items()})


def conform(table: str, df):  # type: ignore[no-untyped-def]
    """Return ``df`` with exactly the columns of ``table`` in order, cast to their dtypes.

    Missing columns are filled with nulls; extra columns are dropped.
    """
    import pandas as pd

    cols = TABLES[table]
    out = pd.DataFrame(index=df.index)
    for c, t in cols.items():
        missing = float("nan") if t == "float64" else pd.NA
        s = df[c] if c in df.columns else pd.Series(missing, index=df.index)
        if t.startswith("datetime64"):
            out[c] = pd.to_datetime(s, utc=True)
        elif t == "bool":
            out[c] = s.fillna(False).astype(bool)
        elif t == "int64":
            out[c] = pd.to_numeric(s, errors="coerce").astype("Int64")
        else:
            out[c] = s.astype(t)
    return out.reset_index(drop=True)
