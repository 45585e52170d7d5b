"""An alert and its deliveries as kept: the records the store loads and the
services, API and console read. Their states and what may follow what are
``lifecycle`` and ``deliveries``; the repositories in ``adapters/db``
make each change atomic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lianbo.domain.alerting.deliveries import DeliveryState
from lianbo.domain.alerting.lifecycle import AlertState
from lianbo.domain.alerting.signatures import SignatureCheck
from lianbo.domain.alerting.warnings import CapWarning


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """An alert as kept: CAP identity, what players get, and its life."""

    id: str
    sender: str
    identifier: str
    sent: datetime
    status: str
    msg_type: str
    severity: str
    level: int | None
    event: str
    area: dict[str, Any]
    texts: dict[str, Any]
    onset: datetime | None
    expires: datetime
    state: AlertState
    issuer: str
    issuer_id: str
    confirmed_by: str | None
    region: str
    revision: int
    replaces: list[str]
    topics: list[str]
    targeted: int
    notice: str | None
    signature: str | None
    key_id: str | None
    cancel_notice: str | None
    cancel_signature: str | None
    cancel_key_id: str | None
    cap_xml: str
    created_at: datetime
    activated_at: datetime | None
    ended_at: datetime | None
    superseded_by: str | None
    # What the message got wrong without being refused (domain.alerting.warnings).
    warnings: tuple[CapWarning, ...] = ()
    # Its XML-DSig as checked on arrival (domain.alerting.signatures); None
    # for an alert written here.
    cap_signature: SignatureCheck | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One alert sent to one screen, and how far it got."""

    alert_id: str
    terminal_id: str
    tier: str
    region: str
    state: DeliveryState
    reason: str | None
    sent_at: datetime
    received_at: datetime | None
    verified_at: datetime | None
    displayed_at: datetime | None
    outside_area_at: datetime | None
    failed_at: datetime | None
    cancelled_at: datetime | None
