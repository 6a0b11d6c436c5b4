"""The FastAPI application factory.

    from lifeline.api import create_app
    app = create_app("duckdb:///tmp/x.duckdb")      # or a Store, or None for LIFELINE_DB

Mounts one router per resource under ``/api``, the dashboard at ``/`` (static files of
:mod:`lifeline.web`), Prometheus metrics at ``/metrics`` and the OpenAPI docs at ``/docs``.
Errors are JSON ``{"detail": …, "where": …, "error": …}``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from lifeline.errors import (
    ConfigError,
    IngestError,
    InputError,
    LifelineError,
    NotFoundError,
    StateError,
    StoreError,
)

if TYPE_CHECKING:
    from lifeline.store import Store

log = logging.getLogger(__name__)
WEB_DIR = Path(__file__).resolve().parent.parent / "web"

_STATUS: dict[type[LifelineError], int] = {
    NotFoundError: 404,
    StateError: 409,
    InputError: 422,
    IngestError: 422,
    ConfigError: 400,
    StoreError: 503,
}

DEMO_USERS: tuple[tuple[str, str, str, str | None], ...] = (
    ("admin", "admin-demo-2026", "admin", None),
    ("dispatcher", "dispatch-demo-2026", "dispatcher", None),
    ("operator", "operator-demo-2026", "operator", None),
    ("viewer", "viewer-demo-2026", "viewer", None),
)


def status_for(exc: LifelineError) -> int:
    """HTTP status of a LifelineError (most specific class wins; 400 by default)."""
    for cls in type(exc).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return 400


def seed_demo_users(
    store: Store, district_user: str | None = None
) -> list[tuple[str, str, str, str | None]]:
    """Create the demo users (printed by ``lifeline serve --demo``) if they do not exist; with
    ``district_user`` also an operator scoped to that district. Returns (name, password, role, district)."""
    from lifeline.api.auth import UserBook

    book = UserBook(store)
    have = {u.username for u in book.list()}
    users = list(DEMO_USERS)
    if district_user:
        users.append(
            (
                f"operator_{district_user}".replace(" ", "_")[:64],
                "district-demo-2026",
                "operator",
                district_user,
            )
        )
    for name, pw, role, d in users:
        if name not in have:
            book.add(name, pw, role, d)
    return users


def create_app(
    store: Store | str | None = None,
    *,
    secret: str | None = None,
    tile_url: str = "",
    replay_source: Any = None,
    close_store: bool | None = None,
) -> FastAPI:
    """Build the API on ``store`` (a Store, a store URL, or None for ``LIFELINE_DB``).

    ``secret`` signs tokens (default ``LIFELINE_API_SECRET`` or random per process);
    ``tile_url`` is an optional XYZ base-map URL for the dashboard (offline without it);
    ``replay_source`` is a factory ``(date=, seed=) -> DaySource`` for the scenarios router.
    """
    from lifeline.api.auth import TokenSigner, UserBook
    from lifeline.api.context import ApiContext
    from lifeline.api.routes import ROUTERS
    from lifeline.store import open_store

    own = not hasattr(store, "read_table")
    st: Store = open_store(store if isinstance(store, str) else None) if own else store  # type: ignore[assignment]
    ctx = ApiContext(
        store=st,
        users=UserBook(st),
        signer=TokenSigner(secret),
        tile_url=tile_url,
        replay_source=replay_source,
    )
    do_close = own if close_store is None else close_store

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if ctx.replay is not None:
            ctx.replay.stop(5)
        for hook in getattr(app.state, "on_shutdown", []):
            hook()
        if do_close:
            st.close()

    app = FastAPI(
        title="lifeline",
        version="0.1.0",
        description="Urban lifeline safety platform API: water, power and gas networks, readings, alarms, "
        "complaints, incidents with their plans and lifecycle, KPIs and live events (SSE). "
        "Log in at POST /api/auth/login and send `Authorization: Bearer <token>`.",
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.on_shutdown = []
    for r in ROUTERS:
        app.include_router(r)
    _handlers(app)

    @app.middleware("http")
    async def count_requests(request: Request, call_next: Any) -> Response:
        resp: Response = await call_next(request)
        ctx.metrics.requests.labels(request.method, str(resp.status_code)).inc()
        return resp

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        body, ctype = ctx.metrics.render()
        return Response(body, media_type=ctype)

    @app.get("/api/config", tags=["config"], summary="Dashboard configuration (public)")
    def config() -> dict[str, Any]:
        return {"tile_url": ctx.tile_url, "languages": ["zh-CN", "en"], "default_language": "zh-CN"}

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, Any]:
        return {"ok": True, "store": st.kind}

    if WEB_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")

        @app.get("/", include_in_schema=False)
        def index() -> FileResponse:
            return FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    return app


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(LifelineError)
    async def lifeline_error(request: Request, exc: LifelineError) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.message, "where": exc.where, "error": type(exc).__name__},
            status_code=status_for(exc),
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc.detail), "where": None, "error": "http"},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    from pandas.errors import OutOfBoundsDatetime

    async def out_of_range(request: Request, exc: Exception) -> JSONResponse:
        # e.g. a timestamp beyond pandas' range (years 1677–2262): bad input, not a server error
        return JSONResponse(
            {"detail": f"value out of range: {exc}", "where": None, "error": "validation"},
            status_code=422,
        )

    app.add_exception_handler(OverflowError, out_of_range)
    app.add_exception_handler(OutOfBoundsDatetime, out_of_range)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = exc.errors()
        first = errs[0] if errs else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        msg = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in errs[:5]
        )
        return JSONResponse(
            {"detail": msg or "invalid request", "where": where or None, "error": "validation"},
            status_code=422,
        )
