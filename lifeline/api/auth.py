"""Users, roles, password hashing (argon2), signed bearer tokens and a login rate limit.

Roles are ordered: ``viewer`` < ``operator`` < ``dispatcher`` < ``admin``; a user may be scoped to
one district (``district_id``), and then sees and acts only on that district. Users live in the
store's ``app_user`` table (created on first use, same SQL on DuckDB and PostgreSQL); passwords
are stored as argon2id hashes. Tokens are ``<payload>.<hmac-sha256>`` with the user name and an
expiry, signed with ``LIFELINE_API_SECRET`` (or a random per-process secret).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from lifeline.errors import InputError, NotFoundError

if TYPE_CHECKING:
    from lifeline.store import Store

ROLES: Final = ("viewer", "operator", "dispatcher", "admin")
_RANK: Final = {r: i for i, r in enumerate(ROLES)}
_NAME: Final = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
TOKEN_TTL_S: Final = 12 * 3600
#: argon2 parameters for new hashes (defaults of argon2-cffi; tests lower the cost)
HASH_PARAMS: dict[str, Any] = {}


@dataclass(frozen=True)
class User:
    """An authenticated user."""

    username: str
    role: str
    district_id: str | None = None

    def at_least(self, role: str) -> bool:
        """True when this user's role ranks at or above ``role``."""
        return _RANK[self.role] >= _RANK[role]

    def sees(self, district_id: str | None) -> bool:
        """True when an object of ``district_id`` is inside this user's scope."""
        return self.district_id is None or (district_id or None) == self.district_id


def check_role(role: str) -> str:
    """``role`` if it is one of :data:`ROLES`, else InputError."""
    if role not in _RANK:
        raise InputError(f"unknown role {role!r}; roles are {', '.join(ROLES)}", where="role")
    return role


class UserBook:
    """The ``app_user`` table of a store: add, list, verify passwords (argon2id)."""

    def __init__(self, store: Store) -> None:
        from argon2 import PasswordHasher

        self.store = store
        self._ph = PasswordHasher(**HASH_PARAMS)
        self._lock = threading.Lock()
        self._cache: dict[str, User] = {}
        store._execute(
            "CREATE TABLE IF NOT EXISTS app_user (username VARCHAR PRIMARY KEY, password_hash VARCHAR NOT NULL, "
            "role VARCHAR NOT NULL, district_id VARCHAR, created_at VARCHAR)"
        )

    def add(self, username: str, password: str, role: str, district_id: str | None = None) -> User:
        """Create or replace a user (``role`` one of :data:`ROLES`; ``district_id`` scopes it)."""
        if not _NAME.match(username):
            raise InputError(
                f"invalid user name {username!r} (letters, digits, _.@- up to 64)", where="username"
            )
        if len(password) < 8:
            raise InputError("password must have at least 8 characters", where="password")
        check_role(role)
        h = self._ph.hash(password)
        with self._lock:
            self.store._execute("DELETE FROM app_user WHERE username = ?", [username])
            self.store._execute(
                "INSERT INTO app_user (username, password_hash, role, district_id, created_at) VALUES (?, ?, ?, ?, ?)",
                [username, h, role, district_id or None, datetime.now(UTC).isoformat()],
            )
            self._cache.pop(username, None)
        return User(username, role, district_id or None)

    def list(self) -> list[User]:
        """Every user, by name."""
        df = self.store._query("SELECT username, role, district_id FROM app_user ORDER BY username")
        return [User(str(r.username), str(r.role), _opt(r.district_id)) for r in df.itertuples()]

    def get(self, username: str) -> User:
        """The user named ``username``; NotFoundError if absent."""
        with self._lock:
            if username in self._cache:
                return self._cache[username]
        df = self.store._query(
            "SELECT username, role, district_id FROM app_user WHERE username = ?", [username]
        )
        if df.empty:
            raise NotFoundError(f"no user {username!r}", where="app_user")
        r = df.iloc[0]
        u = User(str(r["username"]), str(r["role"]), _opt(r["district_id"]))
        with self._lock:
            self._cache[username] = u
        return u

    def verify(self, username: str, password: str) -> User | None:
        """The user if ``password`` matches, else None (constant work for unknown users)."""
        from argon2.exceptions import InvalidHashError, VerificationError

        df = self.store._query("SELECT password_hash FROM app_user WHERE username = ?", [username])
        h = str(df["password_hash"].iloc[0]) if len(df) else _DUMMY_HASH
        try:
            self._ph.verify(h, password)
        except (VerificationError, InvalidHashError):
            return None
        return self.get(username) if len(df) else None


_DUMMY_HASH: Final = "$argon2id$v=19$m=65536,t=3,p=4$DGMo5f7UcInslAeaxIfzhQ$O+BUAZsR2ySMbyjZOzKD904X74po0HsTmhBFHp+GVyY"


def _opt(v: object) -> str | None:
    if v is None:
        return None
    s = str(v)
    return None if s in ("", "nan", "None", "<NA>") else s


class TokenSigner:
    """HMAC-SHA256 signed bearer tokens carrying the user name and an expiry (UTC seconds)."""

    def __init__(self, secret: str | None = None, ttl_s: int = TOKEN_TTL_S) -> None:
        key = secret or os.environ.get("LIFELINE_API_SECRET") or secrets.token_hex(32)
        self._key = key.encode()
        self.ttl_s = ttl_s

    def issue(self, username: str, now: float | None = None) -> tuple[str, int]:
        """A token for ``username`` and its expiry (epoch seconds)."""
        exp = int((now if now is not None else time.time()) + self.ttl_s)
        body = (
            base64.urlsafe_b64encode(json.dumps({"u": username, "exp": exp}).encode())
            .decode()
            .rstrip("=")
        )
        return f"{body}.{self._sig(body)}", exp

    def read(self, token: str, now: float | None = None) -> str | None:
        """The user name in a valid, unexpired token, else None."""
        body, _, sig = token.partition(".")
        if not body or not hmac.compare_digest(sig, self._sig(body)):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, TypeError):
            return None
        if int(data.get("exp", 0)) < (now if now is not None else time.time()):
            return None
        return str(data.get("u") or "") or None

    def _sig(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()


class LoginLimiter:
    """At most ``max_failures`` failed logins per ``window_s`` per client address and per user."""

    def __init__(self, max_failures: int = 5, window_s: float = 60.0) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._fail: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, keys: list[str], now: float | None = None) -> float:
        """Seconds to wait before another attempt (0 = allowed)."""
        t = now if now is not None else time.monotonic()
        wait = 0.0
        with self._lock:
            for k in keys:
                q = self._fail.get(k)
                if not q:
                    continue
                while q and q[0] <= t - self.window_s:
                    q.popleft()
                if len(q) >= self.max_failures:
                    wait = max(wait, q[0] + self.window_s - t)
        return wait

    def failed(self, keys: list[str], now: float | None = None) -> None:
        """Record a failed attempt for each key."""
        t = now if now is not None else time.monotonic()
        with self._lock:
            for k in keys:
                self._fail.setdefault(k, deque()).append(t)

    def succeeded(self, keys: list[str]) -> None:
        """Forget the failures of these keys."""
        with self._lock:
            for k in keys:
                self._fail.pop(k, None)
