"""Upstream CAP feeds: sources another system's alerts come from, and the
rules that decide what each message becomes (docs/alerts.md, "Upstream
feeds").

A feed is polled (an Atom or RSS feed of CAP entries, or a URL serving one
CAP document) or pushes to us with its own token. Each message from it is
issued at once when the feed's rules say so (e.g. Extreme and Severe of the
listed event codes), else queued for an issuer's one-click confirmation.
Geocodes of other schemes become GB/T 2260 regions through the feed's
mapping table. Pure: the service does the I/O.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from lianbo.domain.alerting.model import GB_T_2260_NAMES, Alert, Area

GBT2260 = "GB/T 2260"  # the valueName our mapped geocodes are written with
DEFAULT_INTERVAL_S = 30
MAX_BACKOFF_S = 600
SEEN_KEPT = 500  # entry keys remembered per feed, so a poll skips what it took


class FeedKind(StrEnum):
    POLL = "poll"  # we fetch its URL
    PUSH = "push"  # it posts to POST /api/v1/alerts/cap with the feed's token


class Outcome(StrEnum):
    """What one message from a feed became."""

    ISSUED = "issued"
    QUEUED = "queued"  # pending an issuer's confirmation
    DUPLICATE = "duplicate"  # (sender, identifier, sent) seen before
    OUTSIDE = "outside"  # kept, not sent: outside the feed owner's jurisdiction
    REFUSED = "refused"  # not valid CAP, or refused for its signature
    FAILED = "failed"  # a poll, or an entry's document, could not be fetched


class FeedFault(StrEnum):
    """Why a poll failed (the catalogs word each: ``feeds.error.<code>``)."""

    HTTP = "http"  # detail: the status
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    HTML = "html"  # a web page (a login or maintenance page), not a feed
    TOO_LARGE = "too_large"  # detail: the limit in bytes
    NOT_A_FEED = "not_a_feed"
    DTD = "dtd"  # a DTD or entities: refused, never expanded
    BAD_XML = "bad_xml"
    INTERNAL = "internal"


def fault_text(fault: FeedFault, detail: str = "") -> str:
    """How a fault is kept (``last_error``): ``code`` or ``code:detail``."""
    return f"{fault.value}:{detail}"[:300] if detail else fault.value


def read_fault(text: str) -> tuple[FeedFault, str]:
    """The inverse of :func:`fault_text` (an unknown code reads as internal)."""
    code, _, detail = text.partition(":")
    try:
        return FeedFault(code), detail
    except ValueError:
        return FeedFault.INTERNAL, ""


@dataclass(frozen=True, slots=True)
class FeedRules:
    """Which messages go out at once; the rest wait for an issuer.

    ``severities``: CAP severities issued at once (empty: none); ``events``:
    event codes (any scheme's value) that must also match, empty for any."""

    severities: tuple[str, ...] = ("Extreme",)
    events: tuple[str, ...] = ()

    def issues_at_once(self, alert: Alert) -> bool:
        """True when ``alert`` goes out without waiting for an issuer."""
        infos = alert.infos
        if not any(i.severity.value in self.severities for i in infos):
            return False
        if not self.events:
            return True
        codes = {value for i in infos for _, value in i.event_codes}
        return bool(codes & set(self.events))


@dataclass(frozen=True, slots=True)
class Feed:
    """One upstream source, its rules, and where its polling stands."""

    id: str
    name: str
    kind: FeedKind
    url: str | None
    interval_s: int
    region: str  # the owner's jurisdiction: what it may reach
    rules: FeedRules
    # scheme (geocode valueName) -> value -> GB/T 2260 code
    geocodes: dict[str, dict[str, str]] = field(default_factory=dict)
    enabled: bool = True
    etag: str | None = None
    last_modified: str | None = None
    next_poll_at: datetime | None = None
    last_poll_at: datetime | None = None
    last_ok_at: datetime | None = None
    last_error: str | None = None
    failures: int = 0
    seen: tuple[str, ...] = ()


def next_poll(feed: Feed, now: datetime, ok: bool, rng: random.Random | None = None) -> datetime:
    """When to poll again: the interval after a good poll; after failures,
    twice the interval, doubling with each failure up to 10 minutes, with ±20 % jitter so feeds
    that failed together do not come back together."""
    if ok:
        return now + timedelta(seconds=feed.interval_s)
    wait = min(MAX_BACKOFF_S, feed.interval_s * 2**feed.failures)
    jitter = (rng or random.Random()).uniform(0.8, 1.2)
    return now + timedelta(seconds=wait * jitter)


def remembered(seen: tuple[str, ...], keys: list[str]) -> tuple[str, ...]:
    """The newest ``SEEN_KEPT`` entry keys, the new ones last."""
    merged = [k for k in seen if k not in keys] + keys
    return tuple(merged[-SEEN_KEPT:])


def mapped(alert: Alert, table: dict[str, dict[str, str]]) -> Alert:
    """``alert`` with a GB/T 2260 geocode added for each geocode of another
    scheme the feed's table maps (the original geocodes kept)."""
    if not table:
        return alert
    infos = tuple(
        replace(i, areas=tuple(_mapped_area(a, table) for a in i.areas)) for i in alert.infos
    )
    return alert if infos == alert.infos else replace(alert, infos=infos)


def _mapped_area(area: Area, table: dict[str, dict[str, str]]) -> Area:
    added = [
        (GBT2260, table[scheme][value])
        for scheme, value in area.geocodes
        if scheme.strip() not in GB_T_2260_NAMES and value in table.get(scheme, {})
    ]
    new = [g for g in dict.fromkeys(added) if g not in area.geocodes]
    return replace(area, geocodes=area.geocodes + tuple(new)) if new else area
