"""lifeline.ingest: files, HTTP batches and MQTT → one validator → the store.

    from lifeline.ingest import ingest_frame, ingest_files, validate, parse_http_batch, Reason

Names are imported lazily so that ``lifeline --help`` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_NAMES = {
    "validate": "lifeline.ingest.validate",
    "validate_batch": "lifeline.ingest.validate",
    "Reason": "lifeline.ingest.validate",
    "SensorIndex": "lifeline.ingest.validate",
    "FUTURE_TOLERANCE": "lifeline.ingest.validate",
    "IngestReport": "lifeline.ingest.service",
    "ingest_frame": "lifeline.ingest.service",
    "ingest_files": "lifeline.ingest.service",
    "read_file": "lifeline.ingest.files",
    "parse_http_batch": "lifeline.ingest.jsonin",
    "MqttIngestor": "lifeline.ingest.mqtt",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(import_module(_NAMES[name]), name)
    raise AttributeError(f"module 'lifeline.ingest' has no attribute {name!r}")
