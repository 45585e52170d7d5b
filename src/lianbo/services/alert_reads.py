"""Reading alerts back: lists, the delivery board, CAP export, the feed."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lianbo.adapters.cap import Entry, atom_feed, parse_cap
from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.alerting.deliveries import DeliveryState
from lianbo.domain.alerting.lifecycle import AlertState
from lianbo.domain.alerting.records import Delivery, StoredAlert
from lianbo.domain.alerting.signatures import SignatureReason
from lianbo.domain.errors import InvalidInput
from lianbo.domain.users import Actor
from lianbo.services.alerts import visible
from lianbo.services.context import Context

STATES_FILTER: tuple[str, ...] = tuple(AlertState)
DELIVERY_STATES: tuple[str, ...] = tuple(DeliveryState)


@dataclass(frozen=True, slots=True)
class Board:
    """An alert with its delivery counts and sent→displayed latency."""

    alert: StoredAlert
    counts: dict[str, int]
    latency_ms: dict[str, float | None]
    references: list[str]


def percentiles_ms(seconds: Sequence[float]) -> dict[str, float | None]:
    """p50, p99 and max in milliseconds (nearest rank)."""
    ordered = sorted(seconds)
    if not ordered:
        return {"p50": None, "p99": None, "max": None}

    def rank(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, math.ceil(p * len(ordered)) - 1)] * 1000, 1)

    return {"p50": rank(0.5), "p99": rank(0.99), "max": rank(1.0)}


async def list_alerts(
    uow: UnitOfWork, actor: Actor, state: str | None, *, limit: int, offset: int
) -> tuple[list[StoredAlert], int]:
    """Alerts issued in the caller's jurisdiction, newest first."""
    if state is not None and state not in STATES_FILTER:
        raise InvalidInput(f"state must be one of {', '.join(STATES_FILTER)}", field="state")
    wanted = AlertState(state) if state is not None else None
    return await uow.alerts.search(actor.jurisdiction, wanted, limit=limit, offset=offset)


async def board(uow: UnitOfWork, actor: Actor, alert_id: str) -> Board:
    alert = await visible(uow, actor, alert_id)
    counts = await uow.deliveries.counts(alert_id)
    latencies = await uow.deliveries.display_latencies(alert_id)
    references = await uow.alerts.references(alert_id)
    return Board(alert, counts, percentiles_ms(latencies), references)


async def deliveries(
    uow: UnitOfWork,
    actor: Actor,
    alert_id: str,
    states: list[str],
    *,
    tier: str | None,
    region: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Delivery], int]:
    """One alert's delivery rows (e.g. ``state=sent&state=received``: the
    screens not yet displaying)."""
    await visible(uow, actor, alert_id)
    for state in states:
        if state not in DELIVERY_STATES:
            raise InvalidInput(f"state must be one of {', '.join(DELIVERY_STATES)}", field="state")
    return await uow.deliveries.deliveries(
        alert_id, states or None, tier=tier, region=region, limit=limit, offset=offset
    )


async def progress(uow: UnitOfWork, actor: Actor, alert_id: str) -> dict[str, Any]:
    """Delivery states counted by tier and by region code."""
    await visible(uow, actor, alert_id)
    by_tier: dict[str, dict[str, int]] = {}
    by_region: dict[str, dict[str, int]] = {}
    for tier, region, state, n in await uow.deliveries.progress(alert_id):
        for bucket, key in ((by_tier, tier), (by_region, region)):
            counts = bucket.setdefault(key, {"total": 0})
            counts[state] = counts.get(state, 0) + n
            counts["total"] += n
    return {"alert_id": alert_id, "by_tier": by_tier, "by_region": by_region}


async def cap_xml(container: Context, uow: UnitOfWork, actor: Actor, alert_id: str) -> bytes:
    """The CAP 1.2 document as received (imported) or written (JSON), signed
    (``served``)."""
    return served(container, await visible(uow, actor, alert_id))


def served(container: Context, alert: StoredAlert) -> bytes:
    """The document we serve for an alert: as its sender signed it (their
    signature speaks for it, and ours would cover theirs), else with our own
    enveloped signature when the control centre has a certificate (ADR 0027)."""
    kept = alert.cap_xml.encode("utf-8")
    signature = alert.cap_signature
    if signature is not None and signature.reason is not SignatureReason.UNSIGNED:
        return kept
    signer = container.cap_signer
    return signer.sign(kept) if signer is not None else kept


async def feed(container: Context, url: str, cap_url: Callable[[str], str]) -> bytes:
    """Atom feed of the active Actual alerts, newest first (public); each
    entry carries the document ``served`` gives."""
    now = container.clock.now()
    async with container.uow() as uow:
        active = [a for a in await uow.alerts.active(now) if a.status == "Actual"]
    active = [a for a in active if a.state is AlertState.ACTIVE]
    active.sort(key=lambda a: a.sent, reverse=True)
    entries = [Entry(parse_cap(a.cap_xml), cap_url(a.id), served(container, a)) for a in active]
    return atom_feed(entries, url, now=now)
