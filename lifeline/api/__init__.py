"""FastAPI service: one router per resource, auth and roles, live push (SSE), metrics, dashboard.

from lifeline.api import create_app
"""

from __future__ import annotations

from typing import Any


def create_app(*args: Any, **kwargs: Any) -> Any:
    """See :func:`lifeline.api.app.create_app` (imported lazily: FastAPI is not needed to run the CLI)."""
    from lifeline.api.app import create_app as _create

    return _create(*args, **kwargs)


__all__ = ["create_app"]
