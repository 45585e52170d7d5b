"""Logging in, bearer tokens and console sessions, and the login limiter."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from datetime import timedelta

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.adapters.passwords import verify_password
from lianbo.domain.errors import RateLimited, Unauthorized
from lianbo.domain.ports import Clock
from lianbo.domain.tokens import digest, new_secret
from lianbo.domain.users import Actor, User
from lianbo.services import audit

API = "api"
SESSION = "session"


class LoginLimiter:
    """At most ``limit`` failed logins per minute per (username, address).

    In memory: one server process is the embedded default. Behind a load
    balancer each process limits on its own, which still bounds guessing.
    """

    def __init__(self, limit: int, window_seconds: float = 60.0) -> None:
        self.limit = limit
        self.window = window_seconds
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def check(self, key: tuple[str, str]) -> None:
        failures = self._recent(key)
        if len(failures) >= self.limit:
            retry = int(self.window - (time.monotonic() - failures[0])) + 1
            raise RateLimited("too many failed logins; try again later", retry_after=retry)

    def fail(self, key: tuple[str, str]) -> None:
        self._recent(key).append(time.monotonic())

    def clear(self, key: tuple[str, str]) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        failures = self._failures[key]
        horizon = time.monotonic() - self.window
        while failures and failures[0] < horizon:
            failures.popleft()
        return failures


def actor_of(user: User, address: str | None) -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        role=user.role,
        jurisdiction=user.region,
        address=address,
        language=user.language,
    )


async def login(
    uow: UnitOfWork,
    clock: Clock,
    limiter: LoginLimiter,
    *,
    username: str,
    password: str,
    address: str,
    kind: str,
    ttl: timedelta,
) -> tuple[str, User]:
    """Check a password and hand out a new token; the login is audited."""
    key = (username.lower(), address)
    limiter.check(key)
    found = await uow.users.by_username(username)
    user, password_hash = found if found else (None, None)
    if not verify_password(password_hash, password) or user is None or not user.active:
        limiter.fail(key)
        raise Unauthorized("wrong username or password")
    limiter.clear(key)
    token = new_secret()
    now = clock.now()
    await uow.tokens.add(digest(token), user.id, kind, now, now + ttl)
    await audit.record(
        uow,
        clock,
        actor_of(user, address),
        "auth.login",
        ("user", user.id),
        region=user.region,
        after={"kind": kind},
    )
    await uow.commit()
    return token, user


async def authenticate(
    uow: UnitOfWork, clock: Clock, token: str, address: str | None, *, kind: str | None = None
) -> Actor:
    """The actor behind a live token of the given kind, or Unauthorized."""
    found = await uow.tokens.user_for(digest(token), clock.now())
    if found is None or (kind is not None and found[1] != kind):
        raise Unauthorized("not signed in or the token has expired")
    return actor_of(found[0], address)


async def logout(uow: UnitOfWork, clock: Clock, actor: Actor, token: str) -> None:
    await uow.tokens.revoke(digest(token))
    await audit.record(
        uow, clock, actor, "auth.logout", ("user", actor.user_id), region=actor.jurisdiction
    )
    await uow.commit()
