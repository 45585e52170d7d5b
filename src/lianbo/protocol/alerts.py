"""Emergency alerts on the wire: the signed notice players show, and their acks.

Server → terminal (fleet channel, and ``GET /terminal/v1/alerts``)::

    {"type": "alert", "notice": "<canonical JSON>", "signature": "<b64>", "key_id": "…"}
    {"type": "alert-cancel", "notice": "<canonical JSON>", "signature": "…", "key_id": "…"}

The server also puts ``"id"`` (the alert id) and ``"sent_at"`` (its epoch
seconds at publish) beside the notice, for routing and latency measurement;
they are not signed, so a player acts on the verified notice alone.

``notice`` is a JSON *string* holding the signed bytes, so a player (Python
or the browser's WebCrypto) verifies exactly what the server signed without
re-serialising. An alert notice::

    {"kind": "alert", "id": str, "revision": int, "replaces": [id, ...],
     "status": "Actual"|"Exercise"|"Test"|"System", "msg_type": "Alert"|"Update",
     "severity": "Extreme"|…, "level": 1..4, "colour": "red"|"orange"|"yellow"|"blue",
     "event": str, "texts": {lang: {"headline", "description", "instruction"}},
     "area": {"regions": [code], "polygons": [[[lat, lon], ...]],
              "circles": [{"lat", "lon", "radius_km"}]},
     "display": {"outdoor": "takeover"|"banner", "hall": …, "home": …},
     "resources": [{"mime_type", "url", "sha256", "size"}],
     "sent": iso, "onset": iso|null, "expires": iso}

A cancel notice: ``{"kind": "cancel", "id": str, "cancelled_at": iso}``.

Terminal → server: ``POST /terminal/v1/alerts/{id}/ack``
``{"state": one of ACK_STATES, "reason"?: str, "at": iso}``, or the same on
the fleet channel (hub socket or MQTT ``up``) without an HTTP request::

    {"type": "alert-ack", "ref": str, "alert_id": str, "state": str, "reason"?: str}

``ref`` is the screen's own id for that ack (at most 64 characters); the
server answers on the channel once the ack is in the store, echoing it::

    {"type": "alert-ack", "ref": str, "alert_id": str, "state": str, "changed": bool}
    {"type": "alert-ack", "ref": str, "alert_id": str, "refused": code, "message": str,
     "retry_after"?: number}

A refusal with ``retry_after`` (the server is stopping, the store is busy)
is sent again later; one without it (``not_found``: not this screen's
alert, ``invalid``: an unknown state) never will pass. An ack message over
``ACK_MESSAGE_MAX_BYTES`` or of another shape is dropped (and counted).

Rules every player keeps: refuse a notice whose signature does not verify
(ack ``failed`` with the reason); test its own position against polygons and
circles (``domain.alerting.geofence``) and ack ``outside-area`` when outside;
never show ``Test`` (ack ``received`` only); mark ``Exercise`` clearly
("演练 EXERCISE"); show an id once (an Update replaces the ids it lists;
a cancel or ``expires`` ends it). On every (re)connect it fetches
``GET /terminal/v1/alerts`` (the active notices for it), so an alert sent
while it was offline arrives within seconds of its return.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from numbers import Real
from typing import Any

from lianbo.protocol.envelope import signature_valid

ACK_MESSAGE_MAX_BYTES = 16 * 1024  # a reason of 2,000 characters fits, even escaped
REF_MAX = 64
ALERT_ID_MAX = 128
STATE_MAX = 32
REASON_MAX = 2000

ACK_STATES = ("received", "verified", "displayed", "outside-area", "failed", "cancelled")
"""Delivery states a terminal reports, in the order an alert moves through."""

DISPLAY_MODES = ("takeover", "banner")
TIERS = ("outdoor", "hall", "home")
FALLBACK_LANGUAGE = "zh-CN"


class NoticeRejected(Exception):
    """A notice a player must not act on; ``reason`` goes into the ``failed`` ack."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Notice:
    """A verified alert or cancel notice."""

    kind: str  # "alert" | "cancel"
    id: str
    body: dict[str, Any]

    @property
    def expires(self) -> datetime | None:
        value = self.body.get("expires")
        return datetime.fromisoformat(value) if isinstance(value, str) else None

    @property
    def shown_to_public(self) -> bool:
        """``Test`` (and ``System``) alerts are delivered and acked, never shown."""
        return self.kind == "alert" and self.body.get("status") in ("Actual", "Exercise")

    @property
    def exercise(self) -> bool:
        return self.body.get("status") == "Exercise"

    def display_for(self, tier: str) -> str:
        """``takeover`` or ``banner`` on a screen of ``tier``."""
        mode = self.body.get("display", {}).get(tier, "takeover")
        return mode if mode in DISPLAY_MODES else "takeover"

    def text_for(self, language: str) -> dict[str, str]:
        """Headline, description and instruction in ``language``, else zh-CN,
        else whichever language the notice has."""
        texts: dict[str, dict[str, str]] = self.body.get("texts", {})
        for lang in (language, FALLBACK_LANGUAGE):
            if lang in texts:
                return texts[lang]
            primary = lang.split("-")[0].lower()  # "en" reads an "en-US" text
            for key, text in texts.items():
                if key.split("-")[0].lower() == primary:
                    return text
        return next(iter(texts.values()), {})


def push_body(notice_json: bytes, signature_b64: str, key_id: str) -> dict[str, Any]:
    """The body of an ``alert`` / ``alert-cancel`` push (without ``type``)."""
    return {"notice": notice_json.decode("utf-8"), "signature": signature_b64, "key_id": key_id}


def verify_notice(body: dict[str, Any], keys: dict[str, str]) -> Notice:
    """Check a pushed (or fetched) notice against the control centre's keys.

    ``keys`` maps key ids to raw Ed25519 public keys (base64). Raises
    NoticeRejected with a short reason ("unsigned", "unknown key",
    "bad signature", "malformed").
    """
    notice, signature, key_id = body.get("notice"), body.get("signature"), body.get("key_id")
    if not isinstance(notice, str):
        raise NoticeRejected("malformed")
    if not signature or not isinstance(signature, str):
        raise NoticeRejected("unsigned")
    if not isinstance(key_id, str) or key_id not in keys:
        raise NoticeRejected("unknown key")
    if not signature_valid(notice.encode("utf-8"), signature, keys[key_id]):
        raise NoticeRejected("bad signature")
    try:
        data = json.loads(notice)
    except ValueError:
        raise NoticeRejected("malformed") from None
    if not isinstance(data, dict) or data.get("kind") not in ("alert", "cancel"):
        raise NoticeRejected("malformed")
    if not isinstance(data.get("id"), str):
        raise NoticeRejected("malformed")
    return Notice(kind=data["kind"], id=data["id"], body=data)


def ack_body(state: str, at: datetime, reason: str | None = None) -> dict[str, Any]:
    """The JSON a terminal posts to ``/terminal/v1/alerts/{id}/ack``."""
    if state not in ACK_STATES:
        raise ValueError(f"unknown ack state {state!r}")
    body: dict[str, Any] = {"state": state, "at": at.isoformat()}
    if reason:
        body["reason"] = reason
    return body


@dataclass(frozen=True, slots=True)
class ChannelAck:
    """An ``alert-ack`` a screen sent up the channel (its shape checked)."""

    ref: str
    alert_id: str
    state: str
    reason: str | None = None

    def body(self) -> dict[str, Any]:
        """The message body (without ``type``)."""
        body: dict[str, Any] = {"ref": self.ref, "alert_id": self.alert_id, "state": self.state}
        if self.reason:
            body["reason"] = self.reason
        return body


@dataclass(frozen=True, slots=True)
class AckAnswer:
    """The server's answer to a ``ChannelAck``: the state now, or a refusal."""

    ref: str
    alert_id: str
    state: str | None = None
    changed: bool = False
    refused: str | None = None
    message: str = ""
    retry_after: float | None = None

    @property
    def final(self) -> bool:
        """Done with: stored, or refused for good (a retry would not pass)."""
        return self.refused is None or self.retry_after is None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ref": self.ref, "alert_id": self.alert_id}
        if self.refused is None:
            return {**body, "state": self.state, "changed": self.changed}
        body |= {"refused": self.refused, "message": self.message}
        if self.retry_after is not None:
            body["retry_after"] = self.retry_after
        return body


def ack_problem(data: dict[str, Any], size: int) -> str | None:
    """What is wrong with an ``alert-ack`` message either way, or None."""
    if size > ACK_MESSAGE_MAX_BYTES:
        return "alert-ack over 16 KB"
    if not _text(data.get("ref"), REF_MAX) or not _text(data.get("alert_id"), ALERT_ID_MAX):
        return "alert-ack needs a string ref and alert_id"
    return None


def channel_ack(body: dict[str, Any]) -> ChannelAck:
    """The screen's ack in an ``alert-ack`` message (``ack_problem`` passed);
    ValueError for a state or reason that is not text of a sensible length
    (whether the state is a known one is the store's 400)."""
    state, reason = body.get("state"), body.get("reason")
    if not isinstance(state, str) or not _text(state, STATE_MAX):
        raise ValueError("alert-ack needs a string state")
    if reason is not None and not (isinstance(reason, str) and len(reason) <= REASON_MAX):
        raise ValueError("alert-ack reason is text of at most 2,000 characters")
    return ChannelAck(body["ref"], body["alert_id"], state, reason or None)


def ack_answer(body: dict[str, Any]) -> AckAnswer | None:
    """The server's answer in an ``alert-ack`` message; None when unreadable."""
    ref, alert_id = body.get("ref"), body.get("alert_id")
    if not isinstance(ref, str) or not isinstance(alert_id, str):
        return None
    refused = body.get("refused")
    if isinstance(refused, str):
        wait = body.get("retry_after")
        retry = float(wait) if isinstance(wait, Real) and not isinstance(wait, bool) else None
        return AckAnswer(
            ref, alert_id, refused=refused, message=str(body.get("message", "")), retry_after=retry
        )
    state = body.get("state")
    if not isinstance(state, str):
        return None
    return AckAnswer(ref, alert_id, state=state, changed=body.get("changed") is True)


def _text(value: object, limit: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit
