"""The new-schedule form: reading what was typed into a ``ScheduleRequest``.

Times are typed as Beijing wall-clock time (``datetime-local`` inputs) and
stored as instants. Every field is parsed so all mistakes show at once, and
the service's field names (``targets.regions.0``, ``daily_window.start``)
are folded onto the form's inputs so each message sits next to its input.
"""

from __future__ import annotations

from datetime import datetime

from lianbo.domain.errors import DomainError, InvalidInput
from lianbo.domain.schedules import (
    DEFAULT_TIMEZONE,
    SCHEDULABLE,
    DailyWindow,
    PriorityClass,
    Targets,
    parse_window,
)
from lianbo.domain.terminals import Tier
from lianbo.services.schedules import ScheduleRequest
from lianbo.web.forms import FormErrors, collect, split_labels
from lianbo.web.render import LOCAL_ZONE

TEXT_FIELDS = (
    "name",
    "playlist_id",
    "regions",
    "groups",
    "tags",
    "starts_at",
    "ends_at",
    "window_start",
    "window_end",
    "rrule",
    "priority",
)
# Years a broadcast schedule can sensibly name; beyond them date arithmetic overflows.
YEARS = (2000, 2200)
PRIORITIES: tuple[str, ...] = tuple(p.value for p in SCHEDULABLE)
TIER_VALUES: tuple[str, ...] = tuple(t.value for t in Tier)


def form_field(service_field: str | None) -> str | None:
    """The form input a service error belongs to."""
    if not service_field:
        return None
    if service_field.startswith("targets."):
        return service_field.split(".")[1]
    if service_field.startswith("daily_window"):
        return "window"
    if service_field == "timezone":
        return None
    return service_field


def add_error(errors: FormErrors, problem: DomainError) -> None:
    """Note a service error against the form input it concerns."""
    errors.add(DomainError(problem.message, field=form_field(problem.field)))


def local_instant(raw: str, field_name: str) -> datetime:
    """A ``datetime-local`` value (Beijing time) as an aware instant."""
    if not raw:
        raise InvalidInput("a date and time is required", field=field_name)
    try:
        typed = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"not a date and time: {raw!r}", field=field_name) from None
    if not YEARS[0] <= typed.year <= YEARS[1]:
        raise InvalidInput(f"not a date and time: {raw!r}", field=field_name)
    if typed.tzinfo is None:
        typed = typed.replace(tzinfo=LOCAL_ZONE)
    return typed


def _window(values: dict[str, str]) -> DailyWindow | None:
    start, end = values["window_start"], values["window_end"]
    if not start and not end:
        return None
    if not start or not end:
        raise InvalidInput("a daily window needs both a start and an end", field="window")
    try:
        return parse_window(start[:5], end[:5])
    except InvalidInput as problem:
        raise InvalidInput(problem.message, field="window") from None


def _priority(raw: str) -> PriorityClass:
    if raw not in PRIORITIES:
        raise InvalidInput(f"priority must be one of {', '.join(PRIORITIES)}", field="priority")
    return PriorityClass(raw)


def read_request(
    values: dict[str, str], tiers: list[str], sync: bool, errors: FormErrors
) -> ScheduleRequest | None:
    """The typed form as a request, or None with every problem in ``errors``."""
    starts_at = collect(errors, lambda: local_instant(values["starts_at"], "starts_at"))
    ends_at = collect(errors, lambda: local_instant(values["ends_at"], "ends_at"))
    window = collect(errors, lambda: _window(values))
    priority = collect(errors, lambda: _priority(values["priority"]))
    if not values["name"]:
        errors.add(InvalidInput("name must not be empty", field="name"))
    if not values["playlist_id"]:
        errors.add(InvalidInput("choose a playlist", field="playlist_id"))
    regions = split_labels(values["regions"])
    if not regions:
        errors.add(InvalidInput("at least one target region is needed", field="regions"))
    if starts_at and ends_at and ends_at <= starts_at:
        errors.add(InvalidInput("ends_at must be after starts_at", field="ends_at"))
    if errors or starts_at is None or ends_at is None or priority is None:
        return None
    return ScheduleRequest(
        name=values["name"],
        playlist_id=values["playlist_id"],
        targets=Targets(
            regions,
            tuple(Tier(t) for t in tiers if t in TIER_VALUES),
            split_labels(values["groups"]),
            split_labels(values["tags"]),
        ),
        starts_at=starts_at,
        ends_at=ends_at,
        priority=priority,
        timezone=DEFAULT_TIMEZONE,
        rrule=values["rrule"] or None,
        daily_window=window,
        sync=sync,
    )
