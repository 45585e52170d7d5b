"""Emergency alerts (应急广播): the list, the composer and its live preview."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from shapely.geometry.base import BaseGeometry

from lianbo.api.deps import ContainerDep, UowDep
from lianbo.domain.alerting.model import Severity, Status, Urgency
from lianbo.domain.errors import DomainError, Forbidden, InvalidInput
from lianbo.domain.idempotency import KeyInProgress, KeyReused
from lianbo.services import area_preview
from lianbo.services import outlines as outline_service
from lianbo.services import regions as region_service
from lianbo.services.area_preview import Screen
from lianbo.services.context import UnitOfWork
from lianbo.web import charts, outline_layer
from lianbo.web.forms import FormErrors, collect, form_text, page_number, status_of
from lianbo.web.pages import alert_area, alert_calls
from lianbo.web.render import LOCAL_ZONE, render
from lianbo.web.session import Console, ConsoleDep, PostConsoleDep

router = APIRouter(include_in_schema=False)

SEVERITIES = (Severity.EXTREME, Severity.SEVERE, Severity.MODERATE, Severity.MINOR)
STATUSES = (Status.ACTUAL, Status.EXERCISE, Status.TEST)
URGENCIES = (Urgency.IMMEDIATE, Urgency.EXPECTED, Urgency.FUTURE)
# Languages a second text block may be written in (Sichuan: Tibetan, Yi).
TRANSLATION_LANGUAGES = ("en", "bo", "ii")
TEXT_FIELDS = ("event", "headline", "description", "instruction")
FORM_FIELDS = ("severity", "status", "urgency", "expires_at", *TEXT_FIELDS)
AREA_FIELDS = ("region_codes", "polygons", "circles")
PAGE_SIZE = 50
JSON_PART = re.compile(r"area\.(polygons|circles|regions)\[(\d+)\]")
DEFAULT_HOURS = 2
# What the form's idempotency key (ADR 0015) means to the person sending it.
FORM_SENT: dict[type[DomainError], str] = {
    KeyReused: "this form was already sent with other content and its alert stands "
    "(see the alert list); send again to issue this text as another alert",
    KeyInProgress: "this form's alert is still being issued; look at the alert list",
}


@router.get("/alerts")
async def alert_list(request: Request, console: ConsoleDep, uow: UowDep) -> Response:
    """Alerts inside the jurisdiction, newest first."""
    page = page_number(request.query_params.get("page"))
    items, total = await alert_calls.list_alerts(
        uow, console.actor, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    pages = max(1, -(-total // PAGE_SIZE))
    return render(
        request,
        "alerts.html",
        {
            "section": "alerts",
            "alerts": items,
            "total": total,
            "page": page,
            "pages": pages,
            "prev_url": f"/alerts?page={page - 1}" if page > 1 else "",
            "next_url": f"/alerts?page={page + 1}" if page < pages else "",
            "can_issue": alert_calls.can_issue(console.actor),
        },
    )


@router.get("/alerts/new")
async def composer(
    request: Request, console: ConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """The empty composer; only issuers may open it."""
    _require_issuer(console)
    expires = container.clock.now() + timedelta(hours=DEFAULT_HOURS)
    values = {
        "severity": Severity.SEVERE.value,
        "status": Status.ACTUAL.value,
        "urgency": Urgency.IMMEDIATE.value,
        "expires_at": expires.astimezone(LOCAL_ZONE).strftime("%Y-%m-%dT%H:%M"),
        "tr_language": "en",
        "regions": [],
    }
    return await _composer(request, uow, console, values, FormErrors())


@router.post("/alerts/preview")
async def preview(
    request: Request, console: PostConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """The targeted screens for the area as it stands (HTMX, on every change)."""
    _require_issuer(console)
    form = await request.form()
    text = await form_text(request)
    screens = await area_preview.screens_within(uow, console.actor.jurisdiction)
    context: dict[str, Any] = {"problem": None, "part_kind": "", "part_number": "", "empty": False}
    try:
        area = alert_area.read_area(text, [str(v) for v in form.getlist("region")])
    except InvalidInput as problem:
        context["problem"] = problem.message
        return render(request, "alerts_preview.html", {**context, "map": None, "dots": []})
    outline = None  # only shapes are warned against it: read it only for them
    if area.polygons or area.circles:
        outline = await area_preview.jurisdiction_outline(container, uow, console.actor)
    result = alert_area.preview(console.actor, area, screens, outline)
    if result.refused is not None:
        kind, number = alert_area.part_name(result.refused.field, result.refused.message)
        context.update(problem=result.refused.message, part_kind=kind, part_number=number)
    context["empty"] = area.empty
    context["outside"] = [(*alert_area.part_name(w.path), w) for w in result.warnings]
    context["region_names"] = await region_service.region_names(uow, result.reach.by_region)
    map_view = _map(screens, await outline_service.outline(uow, console.actor.jurisdiction))
    dots = _dots(result.targeted, map_view) if map_view else []
    # A refusal is still a 200: HTMX swaps only 2xx answers, and the issuer
    # must see which part of the area is outside while drawing.
    return render(
        request,
        "alerts_preview.html",
        {**context, "preview": result, "map": map_view, "dots": dots},
    )


@router.post("/alerts/new")
async def issue(
    request: Request, console: PostConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """Issue the alert; mistakes come back next to their fields."""
    _require_issuer(console)
    form = await request.form()
    text = await form_text(request)
    values: dict[str, Any] = {k: v.strip() for k, v in text.items()}
    values["regions"] = [str(v) for v in form.getlist("region")]
    errors = FormErrors()
    body = _body(values, errors)
    if body is not None and not errors:
        # The key this form was rendered with: a double submit, or the same
        # form sent again after a 502, issues the alert once (ADR 0015).
        key = values.get("idempotency_key") or None
        try:
            alert_id = await alert_calls.issue(uow, container, console.actor, body, key)
        except DomainError as problem:
            errors.add(_form_error(problem))
            status = status_of(problem)
        else:
            return RedirectResponse(f"/alerts/{alert_id}", status_code=303)
    else:
        status = 400
    return await _composer(request, uow, console, values, errors, status=status)


def _form_error(problem: DomainError) -> InvalidInput:
    """The service names API fields or CAP element paths; point at form fields.

    Only the message and the field move: the page answers with the original
    error's status (403 for jurisdiction, 422 for an expired alert ...).
    """
    if isinstance(problem, KeyReused | KeyInProgress):
        return InvalidInput(FORM_SENT[type(problem)])
    path = problem.field or ""
    name = path.split(".")[-1].split("/")[-1].split("[")[0]
    if name in FORM_FIELDS:
        return InvalidInput(problem.message, field=name)
    if name == "expires":
        return InvalidInput(problem.message, field="expires_at")
    if "area" in path or name in ("polygon", "circle", "geocode", "regions"):
        return InvalidInput(_outside_text(problem), field="area")
    return InvalidInput(problem.message)


def _outside_text(problem: DomainError) -> str:
    """The service's message with the part it names (``area.polygons[0]`` → polygon 1)."""
    found = JSON_PART.search(problem.field or "")
    if not found:
        return problem.message
    kind = {"polygons": "polygon", "circles": "circle", "regions": "region"}[found.group(1)]
    return f"{problem.message} ({kind} {int(found.group(2)) + 1})"


def _body(values: dict[str, Any], errors: FormErrors) -> dict[str, Any] | None:
    """The JSON API body (DESIGN.md alert sketch) from the form."""
    if values.get("severity") not in {s.value for s in SEVERITIES}:
        errors.add(InvalidInput("choose a warning level", field="severity"))
    for name in ("event", "headline"):
        if not values.get(name):
            errors.add(InvalidInput(f"{name} must not be empty", field=name))
    area = collect(errors, lambda: alert_area.read_area(values, values["regions"]))
    if area is not None and area.empty:
        errors.add(InvalidInput("choose regions or draw an area on the map", field="area"))
    expires = collect(errors, lambda: _local_time(values.get("expires_at", "")))
    if errors or area is None or expires is None:
        return None
    status = _one_of(values.get("status"), STATUSES)
    urgency = _one_of(values.get("urgency"), URGENCIES)
    body: dict[str, Any] = {
        "status": status,
        "severity": values["severity"],
        "urgency": urgency,
        "certainty": "Observed",
        "event": values["event"],
        "headline": values["headline"],
        "description": values.get("description") or values["headline"],
        "instruction": values.get("instruction") or None,
        "language": "zh-CN",
        "area": area.as_json(),
        "expires_at": expires.isoformat(),
    }
    language = values.get("tr_language", "")
    if values.get("tr_headline") and language in TRANSLATION_LANGUAGES:
        body["translations"] = {
            language: {
                "headline": values["tr_headline"],
                "description": values.get("tr_description") or values["tr_headline"],
                "instruction": values.get("tr_instruction") or None,
            }
        }
    return body


def _one_of(raw: Any, choices: tuple[Status, ...] | tuple[Urgency, ...]) -> str:
    """The chosen value when it is offered, else the first (the default)."""
    offered = [c.value for c in choices]
    return str(raw) if raw in offered else offered[0]


def _local_time(raw: str) -> datetime:
    """A ``datetime-local`` value, read as Beijing time."""
    try:
        return datetime.fromisoformat(raw.strip()).replace(tzinfo=LOCAL_ZONE)
    except ValueError:
        raise InvalidInput("expiry is not a date and time", field="expires_at") from None


def _require_issuer(console: Console) -> None:
    if not alert_calls.can_issue(console.actor):
        raise Forbidden("only alert issuers may compose alerts")


async def _composer(
    request: Request,
    uow: UnitOfWork,
    console: Console,
    values: dict[str, Any],
    errors: FormErrors,
    *,
    status: int = 200,
) -> Response:
    screens = await area_preview.screens_within(uow, console.actor.jurisdiction)
    top = await region_service.children(uow, console.actor, None)
    choices = list(top)
    # One level below the jurisdiction (a nationwide admin picks provinces).
    for node in top if len(top) == 1 else ():
        if node.has_children:
            choices += await region_service.children(uow, console.actor, node.region.code)
    drawn = await outline_layer.outlines_for(uow, console.actor.jurisdiction, pick=True)
    map_view = _map(screens, outline_layer.home_of(drawn))
    if map_view is not None:
        map_view["outlines"] = outline_layer.paths(drawn, map_view["projection"])
        points = ((s.name, s.tier, s.lat, s.lon) for s in screens)
        map_view["dots"] = charts.dots(points, map_view["projection"], list(alert_area.TIERS))
    # A hand-made POST may leave any field out; the form shows it empty.
    values.setdefault("tr_language", TRANSLATION_LANGUAGES[0])
    values.setdefault("regions", [])
    for name in (*FORM_FIELDS, *AREA_FIELDS, "tr_headline", "tr_description", "tr_instruction"):
        values.setdefault(name, "")
    values["idempotency_key"] = uuid.uuid4().hex  # new for each render of the form
    return render(
        request,
        "alerts_new.html",
        {
            "section": "alerts-new",
            "values": values,
            "errors": errors,
            "severities": [s.value for s in SEVERITIES],
            "statuses": [s.value for s in STATUSES],
            "urgencies": [u.value for u in URGENCIES],
            "translation_languages": TRANSLATION_LANGUAGES,
            "region_choices": choices,
            "map": map_view,
        },
        status=status,
    )


def _map(screens: list[Screen], home: BaseGeometry | None) -> dict[str, Any] | None:
    """The composer's map: the jurisdiction's outline and its screens (the
    preview's dots use the same projection, so they land on the base map)."""
    positions = ((s.lat, s.lon) for s in screens)
    projection = outline_layer.fit(positions, home, alert_area.MAP_WIDTH)
    if projection is None:
        return None
    meridians, parallels = charts.grid(projection)
    return {"projection": projection, "meridians": meridians, "parallels": parallels, "dots": []}


def _dots(screens: list[Screen], map_view: dict[str, Any]) -> list[charts.Dot]:
    points = ((s.name, "targeted", s.lat, s.lon) for s in screens)
    return charts.dots(points, map_view["projection"], ["targeted"])
