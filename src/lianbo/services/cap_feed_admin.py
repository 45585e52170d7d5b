"""Subscribing to upstream CAP feeds: an admin adds, changes and removes
them, each a control act in the audit log (``cap_feed.*``). A pushing
feed's token is shown once and kept as a digest."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.alerting.feeds import DEFAULT_INTERVAL_S, Feed, FeedKind, FeedRules
from lianbo.domain.alerting.model import Severity
from lianbo.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from lianbo.domain.regions import normalise_code
from lianbo.domain.roles import Permission
from lianbo.domain.text import refused_character
from lianbo.domain.tokens import digest, new_secret
from lianbo.domain.users import Actor
from lianbo.services import audit
from lianbo.services.context import Context

TOKEN_PREFIX = "lbfeed_"  # tells a feed's token from a user's on the CAP import
_MAX_MAPPED = 5000


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """What an admin says about a feed (create, or change in full)."""

    name: str
    kind: str
    url: str | None = None
    interval_s: int = DEFAULT_INTERVAL_S
    region: str | None = None  # default: the admin's jurisdiction
    severities: list[str] = field(default_factory=lambda: ["Extreme"])
    events: list[str] = field(default_factory=list)
    geocodes: dict[str, dict[str, str]] = field(default_factory=dict)
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class FeedView:
    """A feed as its page shows it: settings, polling state, counts, inbox."""

    feed: Feed
    counts: dict[str, int]
    inbox: list[dict[str, Any]]
    token: str | None = None  # only in the answer that made it


def _require_admin(actor: Actor) -> None:
    if not actor.can(Permission.MANAGE_KEYS):
        raise Forbidden("only an admin subscribes to CAP feeds")


def _checked(spec: FeedSpec, actor: Actor) -> Feed:
    name = spec.name.strip()
    if not 1 <= len(name) <= 100 or refused_character(name) is not None:
        raise InvalidInput("name must be 1-100 printable characters", field="name")
    try:
        kind = FeedKind(spec.kind)
    except ValueError:
        raise InvalidInput("kind must be poll or push", field="kind") from None
    url = (spec.url or "").strip() or None
    if kind is FeedKind.POLL:
        parts = urlsplit(url or "")
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url or "") > 2000:
            raise InvalidInput("a polled feed needs an http(s) URL", field="url")
    if not 10 <= spec.interval_s <= 3600:
        raise InvalidInput("interval_s must be 10-3600 seconds", field="interval_s")
    region = normalise_code(spec.region or actor.jurisdiction, field="region")
    if not actor.sees(region):
        raise Forbidden(f"region {region} is outside your jurisdiction", field="region")
    known = {s.value for s in Severity}
    for n, severity in enumerate(spec.severities):
        if severity not in known:
            raise InvalidInput(f"not a CAP severity: {severity}", field=f"severities[{n}]")
    return Feed(
        id=uuid.uuid4().hex[:24],
        name=name,
        kind=kind,
        url=url if kind is FeedKind.POLL else None,
        interval_s=spec.interval_s,
        region=region,
        rules=FeedRules(tuple(spec.severities), tuple(e.strip() for e in spec.events)),
        geocodes=_mapping(spec.geocodes),
        enabled=spec.enabled,
    )


def _mapping(table: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """The geocode table: scheme -> value -> GB/T 2260 code (checked)."""
    if sum(len(values) for values in table.values()) > _MAX_MAPPED:
        raise InvalidInput(f"at most {_MAX_MAPPED} mapped geocodes", field="geocodes")
    return {
        scheme.strip(): {
            value.strip(): normalise_code(code, field=f"geocodes.{scheme}.{value}")
            for value, code in values.items()
        }
        for scheme, values in table.items()
    }


async def create(container: Context, uow: UnitOfWork, actor: Actor, spec: FeedSpec) -> FeedView:
    """Subscribe; a pushing feed's token is in the answer, once."""
    _require_admin(actor)
    feed = _checked(spec, actor)
    if await uow.cap_feeds.by_name(feed.name) is not None:
        raise Conflict(f"a feed named {feed.name} exists", field="name")
    token = TOKEN_PREFIX + new_secret() if feed.kind is FeedKind.PUSH else None
    now = container.clock.now()
    feed = replace(feed, next_poll_at=now if feed.kind is FeedKind.POLL else None)
    await uow.cap_feeds.add(feed, digest(token) if token else None, now, actor.username)
    await _audit(container, uow, actor, "cap_feed.create", feed, after=_facts(feed))
    await uow.commit()
    return FeedView(feed, {}, [], token)


async def change(
    container: Context, uow: UnitOfWork, actor: Actor, feed_id: str, spec: FeedSpec
) -> FeedView:
    """Replace a feed's settings (its polling state and token stay)."""
    before = await visible(uow, actor, feed_id)
    checked = _checked(spec, actor)
    if checked.kind is not before.kind:
        raise InvalidInput("a feed's kind cannot change; add a new feed", field="kind")
    other = await uow.cap_feeds.by_name(checked.name)
    if other is not None and other.id != feed_id:
        raise Conflict(f"a feed named {checked.name} exists", field="name")
    after = replace(checked, id=feed_id)
    await uow.cap_feeds.change(
        feed_id,
        name=after.name,
        url=after.url,
        interval_s=after.interval_s,
        region=after.region,
        severities=list(after.rules.severities),
        events=list(after.rules.events),
        geocodes=after.geocodes,
        enabled=after.enabled,
        next_poll_at=container.clock.now(),  # a changed feed is polled at once
    )
    await _audit(
        container, uow, actor, "cap_feed.change", after, before=_facts(before), after=_facts(after)
    )
    await uow.commit()
    return await view(uow, actor, feed_id)


async def remove(container: Context, uow: UnitOfWork, actor: Actor, feed_id: str) -> None:
    """Unsubscribe: the feed and its inbox go; its alerts stay."""
    feed = await visible(uow, actor, feed_id)
    await uow.cap_feeds.remove(feed_id)
    await _audit(container, uow, actor, "cap_feed.delete", feed, before=_facts(feed))
    await uow.commit()


async def visible(uow: UnitOfWork, actor: Actor, feed_id: str) -> Feed:
    """The feed, for an admin whose jurisdiction holds it (else 404)."""
    _require_admin(actor)
    feed = await uow.cap_feeds.get(feed_id)
    if feed is None or not actor.sees(feed.region):
        raise NotFound("no such feed")
    return feed


async def view(uow: UnitOfWork, actor: Actor, feed_id: str) -> FeedView:
    """One feed with its counts and latest messages."""
    feed = await visible(uow, actor, feed_id)
    return FeedView(feed, await uow.cap_feeds.counts(feed_id), await uow.cap_feeds.inbox(feed_id))


async def listing(uow: UnitOfWork, actor: Actor) -> list[FeedView]:
    """Every feed in the admin's jurisdiction, with counts."""
    _require_admin(actor)
    feeds = await uow.cap_feeds.within(actor.jurisdiction)
    return [FeedView(f, await uow.cap_feeds.counts(f.id), []) for f in feeds]


async def pushing(uow: UnitOfWork, token: str) -> Feed | None:
    """The enabled pushing feed a token belongs to."""
    feed = await uow.cap_feeds.by_token_hash(digest(token))
    return feed if feed is not None and feed.enabled and feed.kind is FeedKind.PUSH else None


def _facts(feed: Feed) -> dict[str, object]:
    return {
        "name": feed.name,
        "kind": feed.kind.value,
        "url": feed.url,
        "interval_s": feed.interval_s,
        "region": feed.region,
        "severities": list(feed.rules.severities),
        "events": list(feed.rules.events),
        "mapped_geocodes": sum(len(v) for v in feed.geocodes.values()),
        "enabled": feed.enabled,
    }


async def _audit(
    container: Context,
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    feed: Feed,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    await audit.record(
        uow,
        container.clock,
        actor,
        action,
        ("cap_feed", feed.id),
        region=feed.region,
        before=before,
        after=after,
    )
