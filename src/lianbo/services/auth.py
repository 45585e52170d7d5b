"""Logging in, bearer tokens and console sessions, and the login limiter."""

from __future__ import annotations

from datetime import datetime, timedelta

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
    """At most ``limit`` failed logins per window per (username, address),
    counted in the store: every process of a deployment shares one count.

    The window is read from the injected clock. Two processes checking the
    same key at the same instant can each let one more attempt through; the
    count still stops guessing after ``limit`` plus the attempts in flight.
    """

    def __init__(self, limit: int, window_seconds: float = 60.0) -> None:
        self.limit = limit
        self.window = timedelta(seconds=window_seconds)

    async def check(self, uow: UnitOfWork, key: str, now: datetime) -> None:
        """Refuse (RateLimited) while ``key`` has ``limit`` recent failures."""
        count, oldest = await uow.login_failures.since(key, now - self.window)
        if count >= self.limit and oldest is not None:
            retry = int((oldest + self.window - now).total_seconds()) + 1
            raise RateLimited("too many failed logins; try again later", retry_after=retry)

    async def fail(self, uow: UnitOfWork, key: str, now: datetime) -> None:
        """Count a failure now (committed: the login that failed rolls back),
        and forget every failure that left the window."""
        await uow.login_failures.add(key, now)
        await uow.login_failures.prune(now - self.window)
        await uow.commit()

    async def clear(self, uow: UnitOfWork, key: str) -> None:
        """A good login forgets the key's failures (with the login's commit)."""
        await uow.login_failures.clear(key)


def limiter_key(username: str, address: str) -> str:
    """The store's name for (username, address): a digest, so what people
    typed as a username (sometimes a password) is never kept."""
    return digest(f"{username.lower()}\0{address}")


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
    key = limiter_key(username, address)
    now = clock.now()
    await limiter.check(uow, key, now)
    found = await uow.users.by_username(username)
    user, password_hash = found if found else (None, None)
    if not verify_password(password_hash, password) or user is None or not user.active:
        await limiter.fail(uow, key, now)
        raise Unauthorized("wrong username or password")
    await limiter.clear(uow, key)
    token = new_secret()
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
