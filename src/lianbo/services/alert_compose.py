"""An alert written in lianbo's JSON API, as the CAP 1.2 message it is.

Alerts composed here become CAP like imported ones, so one path stores,
checks, exports and disseminates both. Each language is one info block;
the area (region codes as GB/T 2260 geocodes, polygons, circles) is the
same in every block, as CAP senders write it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lianbo.domain.alerting.model import (
    Alert,
    Area,
    Category,
    Certainty,
    Circle,
    Info,
    MsgType,
    Point,
    Reference,
    Scope,
    Severity,
    Status,
    Urgency,
)
from lianbo.domain.regions import full_form, normalise_code

AREA_DESC_MAX = 200


@dataclass(frozen=True, slots=True)
class Texts:
    headline: str
    description: str
    instruction: str | None = None


@dataclass(frozen=True, slots=True)
class AlertDraft:
    """What the JSON API takes (already type-checked by the API schema)."""

    severity: Severity
    event: str
    texts: Texts
    expires: datetime
    status: Status = Status.ACTUAL
    urgency: Urgency = Urgency.IMMEDIATE
    certainty: Certainty = Certainty.OBSERVED
    category: Category = Category.OTHER
    language: str = "zh-CN"
    translations: dict[str, Texts] = field(default_factory=dict)
    regions: tuple[str, ...] = ()
    polygons: tuple[tuple[Point, ...], ...] = ()
    circles: tuple[Circle, ...] = ()
    onset: datetime | None = None
    area_desc: str | None = None
    sender_name: str | None = None


def _area(draft: AlertDraft) -> Area:
    codes = [normalise_code(r, field=f"area.regions[{n}]") for n, r in enumerate(draft.regions)]
    described = draft.area_desc or "; ".join(
        [*codes, *([f"{len(draft.polygons)} polygon(s)"] if draft.polygons else [])]
        + ([f"{len(draft.circles)} circle(s)"] if draft.circles else [])
    )
    return Area(
        area_desc=described[:AREA_DESC_MAX] or "-",
        polygons=draft.polygons,
        circles=draft.circles,
        geocodes=tuple(("GB/T2260", full_form(c)) for c in codes),
    )


def _second(value: datetime | None) -> datetime | None:
    return value.replace(microsecond=0) if value is not None else None


def compose(
    draft: AlertDraft,
    *,
    identifier: str,
    sender: str,
    sent: datetime,
    references: tuple[Reference, ...] = (),
) -> Alert:
    """The CAP message for ``draft``; an Update when it references alerts."""
    area = _area(draft)
    texts = {draft.language: draft.texts} | {
        lang: t for lang, t in draft.translations.items() if lang != draft.language
    }
    infos = tuple(
        Info(
            categories=(draft.category,),
            event=draft.event,
            urgency=draft.urgency,
            severity=draft.severity,
            certainty=draft.certainty,
            language=language,
            onset=_second(draft.onset),
            expires=_second(draft.expires),
            sender_name=draft.sender_name,
            headline=text.headline,
            description=text.description,
            instruction=text.instruction,
            areas=(area,),
        )
        for language, text in texts.items()
    )
    return Alert(
        identifier=identifier,
        sender=sender,
        sent=sent.replace(microsecond=0),
        status=draft.status,
        msg_type=MsgType.UPDATE if references else MsgType.ALERT,
        scope=Scope.PUBLIC,
        references=references,
        infos=infos,
    )
