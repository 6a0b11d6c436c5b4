"""FastAPI dependencies: the shared context, the authenticated user, role requirements.

Tokens come in ``Authorization: Bearer <token>``; the SSE endpoint also accepts ``?token=``
(browsers' EventSource cannot set headers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, status

from lifeline.api.auth import ROLES, User
from lifeline.api.context import ApiContext
from lifeline.errors import NotFoundError


def get_ctx(request: Request) -> ApiContext:
    """The API instance's :class:`ApiContext`."""
    ctx: ApiContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ApiContext, Depends(get_ctx)]


def _unauthorized(msg: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=msg, headers={"WWW-Authenticate": "Bearer"}
    )


def current_user(
    request: Request,
    ctx: Ctx,
    token: Annotated[
        str | None, Query(description="Bearer token (only for EventSource clients)")
    ] = None,
) -> User:
    """The user of the request's bearer token; 401 when missing, invalid or expired."""
    auth = request.headers.get("authorization", "")
    tok = auth[7:].strip() if auth.lower().startswith("bearer ") else (token or "")
    if not tok:
        raise _unauthorized("missing bearer token: log in at POST /api/auth/login")
    name = ctx.signer.read(tok)
    if name is None:
        raise _unauthorized("invalid or expired token: log in again")
    try:
        return ctx.users.get(name)
    except NotFoundError:
        raise _unauthorized(f"user {name!r} no longer exists") from None


CurrentUser = Annotated[User, Depends(current_user)]


def require(role: str) -> Callable[[User], User]:
    """A dependency admitting users whose role ranks at least ``role`` (403 otherwise)."""
    assert role in ROLES

    def dep(user: CurrentUser) -> User:
        if not user.at_least(role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"role {user.role!r} may not do this; needs {role} or above",
            )
        return user

    return dep


Operator = Annotated[User, Depends(require("operator"))]
Dispatcher = Annotated[User, Depends(require("dispatcher"))]
Admin = Annotated[User, Depends(require("admin"))]


def check_scope(user: User, district_id: str | None, what: str) -> None:
    """404 (not 403, to avoid leaking existence) when ``what`` lies outside the user's district."""
    if not user.sees(district_id):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"{what} not found in district {user.district_id}"
        )
