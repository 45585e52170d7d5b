"""An Atom 1.0 feed (RFC 4287) of alerts, each entry carrying its CAP
document inline and linking to it, the way public CAP feeds are served.

An entry's document may be given (``Entry``): a signed one is embedded as
it is, so a reader that takes the ``<alert>`` out of the feed can check its
signature (exclusive C14N makes the element verifiable on its own)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from lianbo.adapters.cap.writer import to_cap_xml
from lianbo.domain.alerting.model import Alert

ATOM = "http://www.w3.org/2005/Atom"
CAP_MIME = "application/cap+xml"
_DECLARATION = re.compile(rb"^(\xef\xbb\xbf)?\s*<\?xml[^>]*\?>\s*")


@dataclass(frozen=True, slots=True)
class Entry:
    """One alert of the feed, its link, and its CAP document (UTF-8 bytes)."""

    alert: Alert
    link: str
    document: bytes


def atom_feed(
    alerts: Sequence[Alert | Entry],
    feed_url: str,
    *,
    cap_url: Callable[[Alert], str] | None = None,
    title: str = "lianbo emergency alerts",
    now: datetime | None = None,
) -> bytes:
    """The feed as UTF-8 bytes, newest alert first as given.

    ``cap_url(alert)`` gives each entry's link to its CAP document (default
    ``<feed_url>#<identifier>``) unless the entry is an :class:`Entry`;
    ``now`` stamps an empty feed."""
    entries = [
        a if isinstance(a, Entry) else Entry(a, _link(a, feed_url, cap_url), to_cap_xml(a))
        for a in alerts
    ]
    updated = max((e.alert.sent for e in entries), default=now or datetime.now(UTC))
    head = (
        f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="{ATOM}">'
        f"<id>{escape(feed_url)}</id><title>{escape(title)}</title>"
        f"<updated>{_stamp(updated)}</updated>"
        f'<link rel="self" href={quoteattr(feed_url)}/>'
        f"<author><name>{escape(title)}</name></author>"
    )
    return head.encode() + b"".join(_entry(e) for e in entries) + b"</feed>\n"


def _link(alert: Alert, feed_url: str, cap_url: Callable[[Alert], str] | None) -> str:
    return cap_url(alert) if cap_url else f"{feed_url}#{alert.identifier}"


def _stamp(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _entry(entry: Entry) -> bytes:
    alert, link = entry.alert, entry.link
    info = alert.infos[0] if alert.infos else None
    title = (info.headline or info.event) if info else alert.msg_type.value
    author = (info.sender_name if info else None) or alert.sender
    summary = f"<summary>{escape(info.description)}</summary>" if info and info.description else ""
    head = (
        f"<entry><id>{escape(f'urn:cap:{alert.sender}:{alert.identifier}')}</id>"
        f"<title>{escape(title)}</title>"
        f"<updated>{_stamp(alert.sent)}</updated><published>{_stamp(alert.sent)}</published>"
        f"<author><name>{escape(author)}</name></author>"
        f'<link rel="alternate" type="{CAP_MIME}" href={quoteattr(link)}/>'
        f'{summary}<content type="{CAP_MIME}">'
    )
    document = _DECLARATION.sub(b"", entry.document, count=1)
    return head.encode() + document + b"</content></entry>"
