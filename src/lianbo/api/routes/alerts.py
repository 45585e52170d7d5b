"""/api/v1/alerts: issue (JSON or CAP XML), confirm, cancel, read; the Atom feed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from lianbo.adapters.cap import MAX_BYTES
from lianbo.api.alert_schemas import (
    AlertCreate,
    AlertDetail,
    AlertIssued,
    AlertOut,
    DeliveryOut,
    FeedReceipt,
    ReachOut,
)
from lianbo.api.deps import ActorDep, ContainerDep, UowDep, bearer_token, current_actor
from lianbo.api.routes.common import Limit, Offset
from lianbo.api.schemas import Page
from lianbo.domain import idempotency as keys
from lianbo.domain.alerting.errors import XmlRefused
from lianbo.domain.alerting.feeds import Outcome
from lianbo.domain.canonical import canonical_json
from lianbo.domain.errors import InvalidInput, Unauthorized
from lianbo.services import (
    alert_intake,
    alert_reads,
    alerts,
    cap_feed_admin,
    cap_feeds,
    idempotency,
)
from lianbo.services.alerts import Issued
from lianbo.services.context import Context, UnitOfWork

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
feed_router = APIRouter(tags=["alerts"])

CAP_TYPES = ("application/cap+xml", "application/xml", "text/xml")
CAP_MIME = "application/cap+xml"


# ADR 0015. Read as a plain string so a malformed key is our 400 naming the
# header, not a schema 422; documented in openapi_table (IDEMPOTENCY_KEY).
IdempotencyKey = Annotated[str | None, Header(alias=keys.HEADER)]


def _issued(issued: Issued, response: Response) -> AlertIssued:
    response.status_code = 201 if issued.created else 200
    if issued.replayed:
        response.headers[keys.REPLAYED] = "true"
    base = AlertOut.of(issued.alert).model_dump()
    return AlertIssued(**base, created=issued.created, reach=ReachOut.of(issued.reach))


@router.post("", status_code=201)
async def issue_alert(
    body: AlertCreate,
    response: Response,
    actor: ActorDep,
    container: ContainerDep,
    uow: UowDep,
    idempotency_key: IdempotencyKey = None,
) -> AlertIssued:
    """Issue an alert written in JSON (201; 200 with the same alert when it
    repeats one already issued; with an ``Idempotency-Key``, a retry answers
    like the first request)."""
    payload = canonical_json(body.model_dump(mode="json"))
    held = idempotency.claim(idempotency_key, actor, "alert.issue", payload)
    issued = await alert_intake.issue_json(container, uow, actor, body.draft(), body.replaces, held)
    return _issued(issued, response)


async def _cap_body(request: Request) -> bytes:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in CAP_TYPES:
        raise InvalidInput(f"send CAP XML as {CAP_MIME} (got {kind or 'no content type'})")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:  # stop reading: a bomb never reaches memory whole
            raise XmlRefused(f"XML document over the {MAX_BYTES}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/cap", status_code=201)
async def import_cap(
    request: Request,
    response: Response,
    container: ContainerDep,
    uow: UowDep,
    idempotency_key: IdempotencyKey = None,
) -> AlertIssued | FeedReceipt:
    """Import one CAP 1.2 (or 1.1) message (``application/cap+xml``); the same
    message again is the same alert (200), with or without an
    ``Idempotency-Key``. Cosmetic faults are ``warnings`` on the answer.
    With a pushing feed's token (``lbfeed_…``) the feed's rules decide
    (docs/alerts.md, "Upstream feeds")."""
    token = bearer_token(request) or ""
    if token.startswith(cap_feed_admin.TOKEN_PREFIX):
        return await _pushed(request, response, container, uow, token)
    actor = await current_actor(request, container, uow)
    alerts.require_issuer(actor)
    data = await _cap_body(request)
    held = idempotency.claim(idempotency_key, actor, "alert.issue", data)
    issued = await alert_intake.issue_cap(container, uow, actor, data, held)
    return _issued(issued, response)


_PUSHED_STATUS = {Outcome.ISSUED: 201, Outcome.QUEUED: 201, Outcome.OUTSIDE: 202}


async def _pushed(
    request: Request, response: Response, container: Context, uow: UnitOfWork, token: str
) -> FeedReceipt:
    feed = await cap_feed_admin.pushing(uow, token)
    if feed is None:
        raise Unauthorized("unknown or disabled feed token")
    receipt = await cap_feeds.receive(container, feed, await _cap_body(request))
    if receipt.error is not None and receipt.outcome is Outcome.REFUSED:
        raise receipt.error
    response.status_code = _PUSHED_STATUS.get(receipt.outcome, 200)
    alert = AlertOut.of(receipt.alert) if receipt.alert else None
    return FeedReceipt(feed=feed.name, outcome=receipt.outcome.value, alert=alert)


@router.get("")
async def list_alerts(
    actor: ActorDep,
    uow: UowDep,
    state: Annotated[str | None, Query(max_length=24)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[AlertOut]:
    found, total = await alert_reads.list_alerts(uow, actor, state, limit=limit, offset=offset)
    return Page(items=[AlertOut.of(a) for a in found], total=total)


@router.get("/{alert_id}")
async def get_alert(alert_id: str, actor: ActorDep, uow: UowDep) -> AlertDetail:
    """The alert with delivery counts and sent→displayed latency."""
    return AlertDetail.of_board(await alert_reads.board(uow, actor, alert_id))


@router.get("/{alert_id}/deliveries")
async def list_deliveries(
    alert_id: str,
    actor: ActorDep,
    uow: UowDep,
    state: Annotated[list[str] | None, Query(max_length=7)] = None,
    tier: Annotated[str | None, Query(max_length=8)] = None,
    region: Annotated[str | None, Query(max_length=12)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[DeliveryOut]:
    """Delivery rows; ``state=sent&state=received`` lists screens not yet showing it."""
    found, total = await alert_reads.deliveries(
        uow, actor, alert_id, state or [], tier=tier, region=region, limit=limit, offset=offset
    )
    return Page(items=[DeliveryOut.of(d) for d in found], total=total)


@router.get("/{alert_id}/progress")
async def get_progress(alert_id: str, actor: ActorDep, uow: UowDep) -> dict[str, object]:
    """Delivery states counted by tier and by region code."""
    return await alert_reads.progress(uow, actor, alert_id)


@router.get("/{alert_id}/cap")
async def export_cap(
    alert_id: str, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> Response:
    """The CAP 1.2 XML document (a CAP 1.1 import is exported as 1.2), with
    the sender's signature or ours (docs/alerts.md, "Signed messages")."""
    document = await alert_reads.cap_xml(container, uow, actor, alert_id)
    return Response(document, media_type=CAP_MIME)


@router.post("/{alert_id}/confirm")
async def confirm_alert(
    alert_id: str, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> AlertOut:
    """A second issuer confirms a pending alert (two-person rule)."""
    return AlertOut.of(await alerts.confirm(container, uow, actor, alert_id))


@router.post("/{alert_id}/cancel")
async def cancel_alert(
    alert_id: str, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> AlertOut:
    """Take an alert off every screen."""
    return AlertOut.of(await alerts.cancel(container, uow, actor, alert_id))


@feed_router.get("/feeds/alerts.atom")
async def alerts_feed(request: Request, container: ContainerDep) -> Response:
    """Active Actual alerts as an Atom feed of CAP entries (public)."""
    base = container.settings.public_url.rstrip("/")
    body = await alert_reads.feed(
        container, f"{base}/feeds/alerts.atom", lambda i: f"{base}/api/v1/alerts/{i}/cap"
    )
    return Response(body, media_type="application/atom+xml")
