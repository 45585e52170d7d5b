"""The stored form of a newly issued alert, and the facts the audit log keeps."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from lianbo.domain.alerting import lifecycle
from lianbo.domain.alerting.lifecycle import NOT_DISSEMINATED, AlertState
from lianbo.domain.alerting.model import Alert, MsgType, Status
from lianbo.domain.alerting.records import StoredAlert
from lianbo.domain.users import Actor
from lianbo.services import alert_notice as notices
from lianbo.services.context import Context


def effective_expires(alert: Alert, default_hours: int) -> datetime:
    """When the alert ends: its latest info expiry, else ``default_hours``
    after it was sent."""
    found = [i.expires for i in alert.infos if i.expires is not None]
    return max(found) if found else alert.sent + timedelta(hours=default_hours)


def needs_confirmation(container: Context, alert: Alert) -> bool:
    """The two-person rule: an Actual Alert or Update of a listed severity."""
    if alert.status is not Status.ACTUAL or alert.msg_type in NOT_DISSEMINATED:
        return False
    severity = notices.severity_of(alert).value
    return severity in container.settings.alert_confirm_severities


def initial_state(container: Context, alert: Alert) -> AlertState:
    """``recorded``, ``pending-confirmation`` or (about to be) ``active``."""
    confirm = needs_confirmation(container, alert)
    return lifecycle.initial_state(alert.status, alert.msg_type, confirm)


def chain(referenced: list[StoredAlert]) -> tuple[int, list[str]]:
    """Revision and the ids an Update replaces (what they replaced, too, so a
    screen that missed a step still clears it)."""
    replaces: dict[str, None] = {}
    for ref in referenced:
        replaces[ref.id] = None
        replaces.update(dict.fromkeys(ref.replaces))
    return max((r.revision for r in referenced), default=0) + 1, list(replaces)


def new_record(
    container: Context,
    actor: Actor,
    alert: Alert,
    cap_xml: str,
    referenced: list[StoredAlert],
    now: datetime,
) -> StoredAlert:
    """The row of a message just taken in (not yet signed or targeted)."""
    severity = notices.severity_of(alert)
    revision, replaces = chain(referenced) if alert.msg_type is MsgType.UPDATE else (1, [])
    return StoredAlert(
        id=uuid.uuid4().hex,
        sender=alert.sender,
        identifier=alert.identifier,
        sent=alert.sent,
        status=alert.status.value,
        msg_type=alert.msg_type.value,
        severity=severity.value,
        level=notices.level_of(severity)[0] if severity.value != "Unknown" else None,
        event=notices.event_of(alert)[:255],
        area=notices.area_json(alert),
        texts=notices.texts_of(alert),
        onset=notices.onset_of(alert),
        expires=effective_expires(alert, container.settings.alert_default_hours),
        state=initial_state(container, alert),
        issuer=actor.username,
        issuer_id=actor.user_id,
        confirmed_by=None,
        region=actor.jurisdiction,
        revision=revision,
        replaces=replaces,
        topics=[],
        targeted=0,
        notice=None,
        signature=None,
        key_id=None,
        cancel_notice=None,
        cancel_signature=None,
        cancel_key_id=None,
        cap_xml=cap_xml,
        created_at=now,
        activated_at=None,
        ended_at=None,
        superseded_by=None,
    )


def facts(alert: StoredAlert) -> dict[str, object]:
    """What the audit log keeps about an alert."""
    return {
        "identifier": alert.identifier,
        "sender": alert.sender,
        "status": alert.status,
        "msg_type": alert.msg_type,
        "severity": alert.severity,
        "state": alert.state.value,
        "targeted": alert.targeted,
        "replaces": alert.replaces,
    }
