"""Alert API shapes (DESIGN.md API sketch; field names are binding)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from lianbo.api.text import LINE_RULE, Line, Text
from lianbo.domain.alerting.model import Category, Certainty, Circle, Severity, Status, Urgency
from lianbo.domain.alerting.reach import Reach
from lianbo.domain.alerting.records import Delivery, StoredAlert
from lianbo.domain.alerting.signatures import SignatureCheck
from lianbo.domain.alerting.warnings import CapWarning
from lianbo.services.alert_compose import AlertDraft, Texts
from lianbo.services.alert_reads import Board
from lianbo.web.i18n import translate

Short = Annotated[Line, Field(max_length=255)]
Long = Annotated[Text, Field(max_length=8000)]
Language = Annotated[
    str,
    Field(min_length=2, max_length=35, pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$"),
    LINE_RULE,
]
Coordinate = Annotated[list[float], Field(min_length=2, max_length=2)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextsIn(Strict):
    headline: Short
    description: Long
    instruction: Long | None = None


class CircleIn(Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_km: float = Field(ge=0, le=20_000)


class AreaIn(Strict):
    regions: list[Annotated[Line, Field(max_length=12)]] = Field(
        default_factory=list, max_length=500
    )
    polygons: list[Annotated[list[Coordinate], Field(max_length=5000)]] = Field(
        default_factory=list, max_length=100
    )
    circles: list[CircleIn] = Field(default_factory=list, max_length=100)
    description: Short | None = None


class AlertCreate(Strict):
    """``POST /api/v1/alerts``; ``replaces`` (alert ids) makes it an Update."""

    status: Status = Status.ACTUAL
    severity: Severity
    urgency: Urgency = Urgency.IMMEDIATE
    certainty: Certainty = Certainty.OBSERVED
    category: Category = Category.OTHER
    event: Short = Field(min_length=1)
    headline: Short = Field(min_length=1)
    description: Long
    instruction: Long | None = None
    language: Language = "zh-CN"
    translations: dict[Language, TextsIn] = Field(default_factory=dict, max_length=20)
    area: AreaIn
    expires_at: AwareDatetime
    onset_at: AwareDatetime | None = None
    replaces: list[Annotated[Line, Field(max_length=32)]] = Field(
        default_factory=list, max_length=20
    )

    def draft(self, sender_name: str | None = None) -> AlertDraft:
        return AlertDraft(
            severity=self.severity,
            event=self.event,
            texts=Texts(self.headline, self.description, self.instruction),
            expires=self.expires_at,
            status=self.status,
            urgency=self.urgency,
            certainty=self.certainty,
            category=self.category,
            language=self.language,
            translations={
                lang: Texts(t.headline, t.description, t.instruction)
                for lang, t in self.translations.items()
            },
            regions=tuple(self.area.regions),
            polygons=tuple(tuple((p[0], p[1]) for p in ring) for ring in self.area.polygons),
            circles=tuple(Circle(c.lat, c.lon, c.radius_km) for c in self.area.circles),
            onset=self.onset_at,
            area_desc=self.area.description,
            sender_name=sender_name,
        )


class WarningOut(BaseModel):
    """What the message got wrong without being refused: the element, the
    kind (``code``) and the words from the message catalog (English)."""

    path: str
    code: str
    message: str

    @classmethod
    def of(cls, warning: CapWarning) -> WarningOut:
        code = warning.code.value
        text = translate("en", f"alerts.warning.{code}", detail=warning.detail)
        return cls(path=warning.path, code=code, message=text)


class SignatureOut(BaseModel):
    """The message's XML-DSig as checked when it arrived: ``verified``,
    ``unverified`` or ``invalid``, why not verified (``reason``), who signed
    it and the words from the message catalog (English)."""

    state: str
    reason: str | None
    signer: str | None
    fingerprint: str | None
    message: str

    @classmethod
    def of(cls, check: SignatureCheck) -> SignatureOut:
        key = f"alerts.signature.{check.reason.value if check.reason else check.state.value}"
        return cls(
            state=check.state.value,
            reason=check.reason.value if check.reason else None,
            signer=check.signer,
            fingerprint=check.fingerprint,
            message=translate("en", key),
        )


class AlertOut(BaseModel):
    id: str
    state: str
    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    severity: str
    level: int | None
    event: str
    texts: dict[str, Any]
    area: dict[str, Any]
    onset: datetime | None
    expires: datetime
    issuer: str
    confirmed_by: str | None
    region: str
    revision: int
    replaces: list[str]
    superseded_by: str | None
    targeted: int
    topics: list[str]
    created_at: datetime
    activated_at: datetime | None
    ended_at: datetime | None
    warnings: list[WarningOut]
    # Null for an alert written here (not received as a CAP document).
    cap_signature: SignatureOut | None

    @classmethod
    def of(cls, alert: StoredAlert) -> AlertOut:
        made = ("warnings", "cap_signature")
        values = {name: getattr(alert, name) for name in cls.model_fields if name not in made}
        signature = alert.cap_signature
        return cls(
            **values,
            warnings=[WarningOut.of(w) for w in alert.warnings],
            cap_signature=SignatureOut.of(signature) if signature else None,
        )


class AlertDetail(AlertOut):
    """``GET /api/v1/alerts/{id}``: the alert with its delivery board."""

    counts: dict[str, int]
    latency_ms: dict[str, float | None]
    references: list[str]
    notice: str | None
    signature: str | None
    key_id: str | None

    @classmethod
    def of_board(cls, board: Board) -> AlertDetail:
        base = AlertOut.of(board.alert).model_dump()
        return cls(
            **base,
            counts=board.counts,
            latency_ms=board.latency_ms,
            references=board.references,
            notice=board.alert.notice,
            signature=board.alert.signature,
            key_id=board.alert.key_id,
        )


class DeliveryOut(BaseModel):
    terminal_id: str
    tier: str
    region: str
    state: str
    reason: str | None
    sent_at: datetime
    received_at: datetime | None
    verified_at: datetime | None
    displayed_at: datetime | None
    outside_area_at: datetime | None
    failed_at: datetime | None
    cancelled_at: datetime | None

    @classmethod
    def of(cls, d: Delivery) -> DeliveryOut:
        return cls(**{name: getattr(d, name) for name in cls.model_fields})


class AckIn(Strict):
    """``POST /terminal/v1/alerts/{id}/ack``; ``state`` is checked by the
    service so a bad one is a 400 naming the allowed states."""

    state: Annotated[Line, Field(max_length=32)]
    reason: Annotated[Text, Field(max_length=2000)] | None = None
    at: AwareDatetime | None = None


class AckOut(BaseModel):
    alert_id: str
    state: str
    changed: bool


class TerminalAlerts(BaseModel):
    terminal: dict[str, Any]
    alerts: list[dict[str, Any]]


class FeedReceipt(BaseModel):
    """What a pushed message became: ``issued``, ``queued`` (for an issuer's
    confirmation), ``duplicate`` or ``outside`` (kept, not sent)."""

    feed: str
    outcome: str
    alert: AlertOut | None


class ReachOut(BaseModel):
    """Screens the alert targets (or will, once confirmed): in all, per tier,
    and per region (county, or the jurisdiction when deeper) and tier."""

    total: int
    by_tier: dict[str, int]
    by_region: dict[str, dict[str, int]]

    @classmethod
    def of(cls, reach: Reach) -> ReachOut:
        return cls(**reach.as_json())


class AlertIssued(AlertOut):
    """The answer to an issue: ``created`` is false for a duplicate message;
    ``reach``: how many screens it targets per region and tier (``warnings``
    say when a drawn shape reaches past the jurisdiction)."""

    created: bool
    reach: ReachOut
