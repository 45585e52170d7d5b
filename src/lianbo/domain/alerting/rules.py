"""CAP 1.2 rules a schema cannot state, checked on the model.

Every failure raises :class:`CapInvalid` naming the element path the way the
XML reader names it (``alert/info[2]/area[1]/polygon[3]``), so the same
message reaches the user whether the alert came in as XML or JSON. Rules
the reference validator treats as cosmetic (a restriction on a message that
is not Restricted, a geocode scheme we do not target by) are returned as
warnings instead (``warnings``): the message is accepted.
"""

from __future__ import annotations

import math
from datetime import datetime

from lianbo.domain.alerting.errors import CapInvalid
from lianbo.domain.alerting.model import (
    GB_T_2260_NAMES,
    Alert,
    Area,
    Circle,
    Info,
    MsgType,
    Point,
    Scope,
)
from lianbo.domain.alerting.warnings import CapWarning, WarningCode
from lianbo.domain.errors import InvalidInput
from lianbo.domain.regions import normalise_code

_FORBIDDEN_ID_CHARS = frozenset(" ,<&\t\r\n")


def validate_alert(alert: Alert) -> tuple[CapWarning, ...]:
    """Raise CapInvalid on the first rule the alert breaks; return the
    cosmetic faults it has."""
    _check_identity(alert)
    warnings = _check_scope(alert)
    if alert.msg_type in (MsgType.UPDATE, MsgType.CANCEL) and not alert.references:
        raise CapInvalid("alert/references", f"a {alert.msg_type} must reference earlier alerts")
    for n, ref in enumerate(alert.references, 1):
        if ref.key == alert.key:
            raise CapInvalid("alert/references", f"reference {n} is this alert itself")
    for i, info in enumerate(alert.infos, 1):
        warnings += _check_info(f"alert/info[{i}]", info, alert.sent)
    return tuple(warnings)


def _check_identity(alert: Alert) -> None:
    for name, value in (("identifier", alert.identifier), ("sender", alert.sender)):
        if not value or _FORBIDDEN_ID_CHARS & set(value):
            raise CapInvalid(f"alert/{name}", "must be non-empty without spaces, commas, < or &")
    _check_time("alert/sent", alert.sent)
    for n, ref in enumerate(alert.references, 1):
        _check_time(f"alert/references[{n}]", ref.sent)


def _check_scope(alert: Alert) -> list[CapWarning]:
    warnings = []
    if alert.restriction is not None and alert.scope is not Scope.RESTRICTED:
        # cap-library: a mismatch, not a reason to drop the message.
        path = "alert/restriction"
        warnings.append(CapWarning(path, WarningCode.RESTRICTION_SCOPE, alert.scope.value))
    if alert.addresses and alert.scope is not Scope.PRIVATE:
        raise CapInvalid("alert/addresses", "only allowed when scope is Private")
    if alert.scope is Scope.PRIVATE and not alert.addresses:
        raise CapInvalid("alert/addresses", "required when scope is Private")
    return warnings


def _check_time(path: str, value: datetime) -> None:
    if value.utcoffset() is None:
        raise CapInvalid(path, "a time needs an explicit UTC offset")
    if value.microsecond:
        raise CapInvalid(path, "CAP times are whole seconds")


def _check_info(path: str, info: Info, sent: datetime) -> list[CapWarning]:
    if not info.categories:
        raise CapInvalid(f"{path}/category", "at least one category is required")
    if not info.event.strip():
        raise CapInvalid(f"{path}/event", "must not be empty")
    for name in ("effective", "onset", "expires"):
        value = getattr(info, name)
        if value is not None:
            _check_time(f"{path}/{name}", value)
    if info.expires is not None:
        for name, earlier in (("sent", sent), ("effective", info.effective), ("onset", info.onset)):
            if earlier is not None and info.expires <= earlier:
                raise CapInvalid(f"{path}/expires", f"must be after {name}")
    for n, resource in enumerate(info.resources, 1):
        if resource.size is not None and resource.size < 0:
            raise CapInvalid(f"{path}/resource[{n}]/size", "must not be negative")
    warnings: list[CapWarning] = []
    for n, area in enumerate(info.areas, 1):
        warnings += check_area(f"{path}/area[{n}]", area)
    return warnings


def check_area(path: str, area: Area) -> list[CapWarning]:
    """Check one area's geometry, geocodes and altitudes; return a warning
    for each geocode in a scheme we do not target by."""
    if not area.area_desc.strip():
        raise CapInvalid(f"{path}/areaDesc", "must not be empty")
    for n, ring in enumerate(area.polygons, 1):
        check_polygon(f"{path}/polygon[{n}]", ring)
    for n, circle in enumerate(area.circles, 1):
        check_circle(f"{path}/circle[{n}]", circle)
    warnings: dict[str, CapWarning] = {}  # one per scheme: NWS lists dozens of UGC codes
    for n, (name, value) in enumerate(area.geocodes, 1):
        if name.strip() not in GB_T_2260_NAMES:  # SAME, UGC, FIPS6...: kept, not targeted
            warning = CapWarning(f"{path}/geocode[{n}]", WarningCode.GEOCODE_SCHEME, name)
            warnings.setdefault(name, warning)
            continue
        try:
            normalise_code(value)
        except InvalidInput as exc:
            raise CapInvalid(f"{path}/geocode[{n}]", exc.message) from None
    for name in ("altitude", "ceiling"):
        value = getattr(area, name)
        if value is not None and not math.isfinite(value):
            raise CapInvalid(f"{path}/{name}", "must be a finite number")
    if area.ceiling is not None:
        if area.altitude is None:
            raise CapInvalid(f"{path}/ceiling", "a ceiling needs an altitude")
        if area.ceiling < area.altitude:
            raise CapInvalid(f"{path}/ceiling", "must not be below the altitude")
    return list(warnings.values())


def check_polygon(path: str, ring: tuple[Point, ...]) -> None:
    """A closed ring of at least four points with coordinates in range."""
    if len(ring) < 4:
        raise CapInvalid(path, "a polygon needs at least 4 points")
    if ring[0] != ring[-1]:
        raise CapInvalid(path, "a polygon must be closed (first point == last point)")
    lats, lons = zip(*ring, strict=True)
    finite = math.isfinite(math.fsum(lats) + math.fsum(lons))
    if finite and min(lats) >= -90 and max(lats) <= 90 and min(lons) >= -180 and max(lons) <= 180:
        return
    for n, (lat, lon) in enumerate(ring, 1):
        if not _coordinates_ok(lat, lon):
            raise CapInvalid(path, f"point {n} is out of range: {lat},{lon}")


def check_circle(path: str, circle: Circle) -> None:
    """Centre in range and a finite, non-negative radius."""
    if not _coordinates_ok(circle.lat, circle.lon):
        raise CapInvalid(path, f"centre out of range: {circle.lat},{circle.lon}")
    if not math.isfinite(circle.radius_km) or circle.radius_km < 0:
        raise CapInvalid(path, "the radius must be a non-negative number of km")


def _coordinates_ok(lat: float, lon: float) -> bool:
    return -90 <= lat <= 90 and -180 <= lon <= 180  # False for NaN too
