"""/api/v1/cap-feeds: upstream CAP sources an admin subscribes to (docs/alerts.md,
"Upstream feeds"). A pushing feed posts to ``POST /api/v1/alerts/cap`` with
the token its creation answered with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from lianbo.api.deps import ActorDep, ContainerDep, UowDep
from lianbo.api.text import Line
from lianbo.domain.alerting.feeds import Outcome, read_fault
from lianbo.services import cap_feed_admin
from lianbo.services.cap_feed_admin import FeedSpec, FeedView
from lianbo.web.i18n import translate

router = APIRouter(prefix="/api/v1/cap-feeds", tags=["alerts"])


class FeedIn(BaseModel):
    name: Line = Field(max_length=100)
    kind: Line = Field(max_length=8)  # poll | push
    url: Line | None = Field(default=None, max_length=2000)
    interval_s: int = 30
    region: Line | None = Field(default=None, max_length=12)
    # severities issued at once (the rest wait for an issuer), and event
    # codes that must match too (empty: any)
    severities: list[Line] = Field(default_factory=lambda: ["Extreme"], max_length=5)
    events: list[Line] = Field(default_factory=list, max_length=100)
    # geocode scheme -> value -> GB/T 2260 code
    geocodes: dict[Line, dict[Line, Line]] = Field(default_factory=dict)
    enabled: bool = True

    def spec(self) -> FeedSpec:
        return FeedSpec(**self.model_dump())


class FeedOut(BaseModel):
    id: str
    name: str
    kind: str
    url: str | None
    interval_s: int
    region: str
    severities: list[str]
    events: list[str]
    mapped_geocodes: int
    enabled: bool
    last_poll_at: datetime | None
    last_ok_at: datetime | None
    next_poll_at: datetime | None
    last_error: str | None  # in English, from the catalog
    last_error_code: str | None  # feeds.error.<code>: http, timeout, html, dtd, …
    failures: int
    counts: dict[str, int]
    messages: list[dict[str, Any]]
    token: str | None = None  # a pushing feed's token: in the answer that made it, only

    @classmethod
    def of(cls, view: FeedView) -> FeedOut:
        feed = view.feed
        return cls(
            id=feed.id,
            name=feed.name,
            kind=feed.kind.value,
            url=feed.url,
            interval_s=feed.interval_s,
            region=feed.region,
            severities=list(feed.rules.severities),
            events=list(feed.rules.events),
            mapped_geocodes=sum(len(v) for v in feed.geocodes.values()),
            enabled=feed.enabled,
            last_poll_at=feed.last_poll_at,
            last_ok_at=feed.last_ok_at,
            next_poll_at=feed.next_poll_at,
            last_error=_words(feed.last_error),
            last_error_code=read_fault(feed.last_error)[0].value if feed.last_error else None,
            failures=feed.failures,
            counts=view.counts,
            messages=[_message(m) for m in view.inbox],
            token=view.token,
        )


def _words(fault: str | None) -> str | None:
    if fault is None:
        return None
    code, detail = read_fault(fault)
    return translate("en", f"feeds.error.{code.value}", detail=detail)


def _message(row: dict[str, Any]) -> dict[str, Any]:
    """An inbox row; a failed fetch's fault in words."""
    if row["outcome"] == Outcome.FAILED.value:
        return row | {"detail": _words(row["detail"])}
    return row


@router.get("")
async def list_feeds(actor: ActorDep, uow: UowDep) -> list[FeedOut]:
    return [FeedOut.of(v) for v in await cap_feed_admin.listing(uow, actor)]


@router.post("", status_code=201)
async def create_feed(
    body: FeedIn, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> FeedOut:
    return FeedOut.of(await cap_feed_admin.create(container, uow, actor, body.spec()))


@router.get("/{feed_id}")
async def get_feed(feed_id: str, actor: ActorDep, uow: UowDep) -> FeedOut:
    """The feed, its counts per outcome and its latest 50 messages."""
    return FeedOut.of(await cap_feed_admin.view(uow, actor, feed_id))


@router.put("/{feed_id}")
async def change_feed(
    feed_id: str, body: FeedIn, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> FeedOut:
    return FeedOut.of(await cap_feed_admin.change(container, uow, actor, feed_id, body.spec()))


@router.delete("/{feed_id}", status_code=204)
async def delete_feed(
    feed_id: str, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> Response:
    await cap_feed_admin.remove(container, uow, actor, feed_id)
    return Response(status_code=204)
