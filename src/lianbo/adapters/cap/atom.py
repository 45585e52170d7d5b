"""An Atom 1.0 feed (RFC 4287) of alerts, each entry carrying its CAP
document inline and linking to it, the way public CAP feeds are served."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from lianbo.adapters.cap.writer import to_cap_xml
from lianbo.domain.alerting.model import Alert

ATOM = "http://www.w3.org/2005/Atom"
CAP_MIME = "application/cap+xml"
_DECLARATION = b"<?xml version='1.0' encoding='utf-8'?>\n"


def atom_feed(
    alerts: Sequence[Alert],
    feed_url: str,
    *,
    cap_url: Callable[[Alert], str] | None = None,
    title: str = "lianbo emergency alerts",
    now: datetime | None = None,
) -> bytes:
    """The feed as UTF-8 bytes, newest alert first as given.

    ``cap_url(alert)`` gives each entry's link to its CAP document (default
    ``<feed_url>#<identifier>``); ``now`` stamps an empty feed."""
    updated = max((a.sent for a in alerts), default=now or datetime.now(UTC))
    head = (
        f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="{ATOM}">'
        f"<id>{escape(feed_url)}</id><title>{escape(title)}</title>"
        f"<updated>{_stamp(updated)}</updated>"
        f'<link rel="self" href={quoteattr(feed_url)}/>'
        f"<author><name>{escape(title)}</name></author>"
    )
    entries = [_entry(a, cap_url(a) if cap_url else f"{feed_url}#{a.identifier}") for a in alerts]
    return head.encode() + b"".join(entries) + b"</feed>\n"


def _stamp(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _entry(alert: Alert, link: str) -> bytes:
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
    document = to_cap_xml(alert).removeprefix(_DECLARATION)
    return head.encode() + document + b"</content></entry>"
