"""Typed request and response models of the API (pydantic 2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

Utility = Literal["water", "power", "gas", "drainage"]
Role = Literal["viewer", "operator", "dispatcher", "admin"]


class ErrorOut(BaseModel):
    """Every error: a message, the place (field, file, id) when known, and the error kind."""

    detail: str
    where: str | None = None
    error: str = "error"


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class UserOut(BaseModel):
    username: str
    role: Role
    district_id: str | None = None


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8, max_length=256)
    role: Role
    district_id: str | None = None


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: int = Field(description="Expiry, seconds since the epoch (UTC)")
    user: UserOut


class AssetOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    asset_id: str
    utility: str | None = None
    kind: str | None = None
    name: str | None = None
    x_m: float | None = None
    y_m: float | None = None
    lon: float | None = None
    lat: float | None = None
    zone_id: str | None = None
    district_id: str | None = None
    diameter_m: float | None = None
    length_m: float | None = None


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    total: int
    items: list[T]


class SensorOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    sensor_id: str
    asset_id: str | None = None
    utility: str | None = None
    quantity: str | None = None
    unit: str | None = None
    interval_s: int | None = None
    valid_min: float | None = None
    valid_max: float | None = None
    lon: float | None = None
    lat: float | None = None
    district_id: str | None = None
    last_ts: datetime | None = None
    last_value: float | None = None


class ReadingOut(BaseModel):
    ts: datetime
    value: float
    quality: int = 0


class Threshold(BaseModel):
    name: str = Field(description="valid_min, valid_max, low, high")
    value: float
    kind: Literal["valid_range", "alarm"] = "alarm"


class SensorReadingsOut(BaseModel):
    sensor: SensorOut
    readings: list[ReadingOut]
    thresholds: list[Threshold]


class IngestOut(BaseModel):
    batch_id: str
    stored: int
    rejected: dict[str, int]
    rejected_total: int


class AlarmIn(BaseModel):
    alarm_id: str | None = None
    ts: datetime
    utility: Utility
    detector: str = "external"
    severity: int = Field(default=2, ge=1, le=3)
    sensors: list[str] = Field(default_factory=list)
    score: float = 1.0
    location: list[dict[str, Any]] = Field(
        default_factory=list, description="candidates: asset_id, x_m, y_m, confidence"
    )
    detail: dict[str, Any] = Field(default_factory=dict)


class AlarmOut(BaseModel):
    alarm_id: str
    ts: datetime
    utility: str
    detector: str | None = None
    severity: int | None = None
    sensors: list[str] = Field(default_factory=list)
    score: float | None = None
    location: Any = None
    detail: Any = None
    district_id: str | None = None
    state: str | None = None  # open while the condition lasts, closed after
    updated_at: datetime | None = None
    ended_at: datetime | None = None


class ComplaintIn(BaseModel):
    complaint_id: str | None = None
    ts: datetime | None = None
    channel: str = "hotline"
    text: str = Field(min_length=1, max_length=2000)
    address: str | None = None
    x_m: float | None = None
    y_m: float | None = None
    utility: str | None = None
    category: str | None = None
    customer_id: str | None = None


class ComplaintOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    complaint_id: str
    ts: datetime
    channel: str | None = None
    text: str | None = None
    address: str | None = None
    x_m: float | None = None
    y_m: float | None = None
    utility: str | None = None
    category: str | None = None
    customer_id: str | None = None
    district_id: str | None = None


class IncidentIn(BaseModel):
    utility: Utility | None = None
    kind: str | None = Field(
        default=None, description="e.g. water_main_burst; inferred when omitted"
    )
    alarm_ids: list[str] = Field(default_factory=list)
    complaint_ids: list[str] = Field(default_factory=list)
    x_m: float | None = None
    y_m: float | None = None
    lon: float | None = None
    lat: float | None = None
    district_id: str | None = None
    grade: str | None = None
    note: str = ""


class IncidentSummary(BaseModel):
    incident_id: str
    state: str
    utility: str
    kind: str = ""
    grade: str = ""
    opened_at: datetime
    updated_at: datetime
    district_id: str | None = None
    x_m: float | None = None
    y_m: float | None = None
    lon: float | None = None
    lat: float | None = None
    n_evidence: int = 0
    approved: bool = False
    next_states: list[str] = Field(default_factory=list)


class IncidentDetail(IncidentSummary):
    model_config = ConfigDict(extra="allow")
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    grouping: list[dict[str, Any]] = Field(default_factory=list)
    location: dict[str, Any] = Field(default_factory=dict)
    timeline: dict[str, str] = Field(default_factory=dict)
    audit: list[dict[str, Any]] = Field(default_factory=list)
    impact: dict[str, Any] = Field(default_factory=dict)
    cascade: list[dict[str, Any]] = Field(default_factory=list)
    grading: dict[str, Any] = Field(default_factory=dict)
    routing: dict[str, Any] = Field(default_factory=dict)
    plan: dict[str, Any] = Field(default_factory=dict)
    actions: list[dict[str, Any]] = Field(default_factory=list)
    safety: list[dict[str, Any]] = Field(default_factory=list)
    approval: dict[str, Any] = Field(default_factory=dict)
    narrative: str = ""


class ActionIn(BaseModel):
    note: str = Field(default="", max_length=2000)
    to_state: str | None = Field(
        default=None, description="advance only: the target state (default: the next one)"
    )


class ActionOut(BaseModel):
    incident: IncidentDetail
    result: dict[str, Any]


class KpiOut(BaseModel):
    incidents: int
    open: int
    by_state: dict[str, int]
    by_grade: dict[str, int]
    by_utility: dict[str, int]
    mean_minutes: dict[str, float | None]
    measured: dict[str, int] = Field(
        default_factory=dict, description="per time-to KPI: how many incidents it is measured on"
    )
    customer_minutes_lost: float
    per_period: list[dict[str, Any]]
    per_incident: list[dict[str, Any]]


class ReplayIn(BaseModel):
    date: str = Field(default="2026-07-15", description="the simulated day (UTC)")
    speed: float = Field(
        default=600.0, gt=0, le=1e6, description="simulated seconds per wall-clock second"
    )
    seed: int = 0
    step_s: int = Field(
        default=900, ge=60, le=86400, description="simulated seconds per replay step"
    )


class ReplayOut(BaseModel):
    running: bool
    phase: str = Field(
        default="idle",
        description="idle | preparing (loading the city, simulating the day) | replaying | finished | stopped | failed",
    )
    phase_detail: str = Field(
        default="",
        description="While preparing: the step under way, e.g. 'calibrating the detectors'.",
    )
    date: str | None = None
    speed: float | None = None
    sim_time: datetime | None = None
    steps_done: int = 0
    steps_total: int = 0
    readings: int = 0
    alarms: int = 0
    incidents: int = 0
    error: str | None = None
