"""Log in (bearer tokens), who am I, and user administration (admin)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status

from lifeline.api.deps import Admin, Ctx, CurrentUser
from lifeline.api.models import LoginIn, TokenOut, UserIn, UserOut

router = APIRouter(prefix="/api", tags=["auth"])


@router.post(
    "/auth/login",
    response_model=TokenOut,
    summary="Exchange user name and password for a bearer token",
)
def login(body: LoginIn, request: Request, ctx: Ctx) -> TokenOut:
    """Failed attempts are rate-limited per client address and per user name (429 with Retry-After)."""
    host = request.client.host if request.client else "?"
    keys = [f"ip:{host}", f"user:{body.username}"]
    wait = ctx.limiter.retry_after(keys)
    if wait > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"too many failed logins; retry in {wait:.0f} s",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    user = ctx.users.verify(body.username, body.password)
    if user is None:
        ctx.limiter.failed(keys)
        ctx.metrics.login_failures.inc()
        ctx.audit(body.username, "login_failed", f"user:{body.username}", {"client": host})
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="wrong user name or password")
    ctx.limiter.succeeded(keys)
    token, exp = ctx.signer.issue(user.username)
    ctx.audit(user, "login", f"user:{user.username}", {"client": host})
    return TokenOut(access_token=token, expires_at=exp, user=UserOut(**user.__dict__))


@router.get("/auth/me", response_model=UserOut, summary="The user of the bearer token")
def me(user: CurrentUser) -> UserOut:
    return UserOut(**user.__dict__)


@router.get("/users", response_model=list[UserOut], summary="All users (admin)")
def list_users(_: Admin, ctx: Ctx) -> list[UserOut]:
    return [UserOut(**u.__dict__) for u in ctx.users.list()]


@router.post(
    "/users", response_model=UserOut, status_code=201, summary="Create or replace a user (admin)"
)
def add_user(body: UserIn, admin: Admin, ctx: Ctx) -> UserOut:
    u = ctx.users.add(body.username, body.password, body.role, body.district_id)
    ctx.audit(
        admin, "add_user", f"user:{u.username}", {"role": u.role, "district_id": u.district_id}
    )
    return UserOut(**u.__dict__)
