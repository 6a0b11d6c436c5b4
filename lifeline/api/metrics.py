"""Prometheus metrics of one API instance (its own registry, so several apps can coexist).

* ``lifeline_readings_ingested_total{utility,source}`` — readings stored (ingest rate = ``rate()``)
* ``lifeline_readings_rejected_total{reason,source}`` — rejected records per reason
* ``lifeline_alarms_total{utility}`` and ``lifeline_alarm_latency_seconds`` — time from the
  alarm's timestamp (the reading that raised it) to its publication on the bus
* ``lifeline_incident_actions_total{action}``, ``lifeline_http_requests_total{method,status}``,
  ``lifeline_sse_clients``, ``lifeline_login_failures_total``
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Metrics:
    """The collectors, registered on a private :class:`prometheus_client.CollectorRegistry`."""

    registry: Any = field(default=None)

    def __post_init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        r = self.registry
        self.ingested = Counter(
            "lifeline_readings_ingested", "Readings stored", ["utility", "source"], registry=r
        )
        self.rejected = Counter(
            "lifeline_readings_rejected",
            "Records rejected by the validator",
            ["reason", "source"],
            registry=r,
        )
        self.alarms = Counter("lifeline_alarms", "Alarms published", ["utility"], registry=r)
        self.alarm_latency = Histogram(
            "lifeline_alarm_latency_seconds",
            "Seconds from an alarm's timestamp to its publication",
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
            registry=r,
        )
        self.actions = Counter(
            "lifeline_incident_actions", "Incident actions taken", ["action"], registry=r
        )
        self.requests = Counter(
            "lifeline_http_requests", "HTTP requests", ["method", "status"], registry=r
        )
        self.sse_clients = Gauge("lifeline_sse_clients", "Connected SSE clients", registry=r)
        self.login_failures = Counter("lifeline_login_failures", "Failed logins", registry=r)

    def count_ingest(self, report: dict[str, Any], source: str) -> None:
        """Add an :class:`~lifeline.ingest.service.IngestReport` (``as_dict()``) to the counters."""
        for util, c in report.get("per_utility", {}).items():
            if c.get("stored"):
                self.ingested.labels(util or "unknown", source).inc(c["stored"])
        for reason, n in report.get("rejected", {}).items():
            self.rejected.labels(reason, source).inc(n)

    def count_alarm(self, alarm: dict[str, Any]) -> None:
        """Count an alarm episode when it opens (its ``state`` open and never updated)."""
        if alarm.get("state") == "open" and alarm.get("updated_at") in (None, alarm.get("ts")):
            self.alarms.labels(str(alarm.get("utility") or "")).inc()

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST
