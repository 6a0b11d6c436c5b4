"""One router per resource; :data:`ROUTERS` lists them in the order they are mounted."""

from __future__ import annotations

from fastapi import APIRouter

from lifeline.api.routes import (
    alarms,
    assets,
    auth,
    complaints,
    engine,
    events,
    incidents,
    kpis,
    mapdata,
    networks,
    readings,
    scenarios,
    sensors,
)

ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    assets.router,
    sensors.router,
    readings.router,
    alarms.router,
    complaints.router,
    incidents.router,
    kpis.router,
    networks.router,
    mapdata.router,
    scenarios.router,
    engine.router,
    events.router,
)
