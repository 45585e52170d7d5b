""":class:`Alert` → CAP 1.2 XML, children in the order the schema fixes.

``parse_cap(to_cap_xml(alert)) == alert`` for every valid alert: floats are
written with ``repr`` (shortest exact form) and times to the second with
their own offset.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from xml.etree.ElementTree import Element, SubElement, tostring

from lianbo.adapters.cap.schema import NS, qname
from lianbo.domain.alerting import text as captext
from lianbo.domain.alerting.model import Alert, Area, Info, Pair, Resource


def to_cap_xml(alert: Alert) -> bytes:
    """The alert as a UTF-8 CAP 1.2 document with an XML declaration."""
    xml: bytes = tostring(
        to_element(alert), encoding="utf-8", xml_declaration=True, default_namespace=NS
    )
    return xml


def to_element(alert: Alert) -> Element:
    """The alert as an ``{urn:oasis:names:tc:emergency:cap:1.2}alert`` element."""
    root = Element(qname("alert"))
    _add(root, "identifier", alert.identifier)
    _add(root, "sender", alert.sender)
    _add(root, "sent", _time(alert.sent))
    _add(root, "status", alert.status.value)
    _add(root, "msgType", alert.msg_type.value)
    _add(root, "source", alert.source)
    _add(root, "scope", alert.scope.value)
    _add(root, "restriction", alert.restriction)
    _add(root, "addresses", captext.join_quoted(alert.addresses) if alert.addresses else None)
    _add_all(root, "code", alert.codes)
    _add(root, "note", alert.note)
    refs = captext.format_references(alert.references) if alert.references else None
    _add(root, "references", refs)
    _add(root, "incidents", captext.join_quoted(alert.incidents) if alert.incidents else None)
    for info in alert.infos:
        _add_info(SubElement(root, qname("info")), info)
    return root


def _add(parent: Element, name: str, value: str | None) -> None:
    if value is not None:
        SubElement(parent, qname(name)).text = value


def _add_all(parent: Element, name: str, values: Iterable[str]) -> None:
    for value in values:
        _add(parent, name, value)


def _add_pairs(parent: Element, name: str, pairs: Iterable[Pair]) -> None:
    for value_name, value in pairs:
        pair = SubElement(parent, qname(name))
        _add(pair, "valueName", value_name)
        _add(pair, "value", value)


def _time(value: datetime | None) -> str | None:
    return None if value is None else captext.format_datetime(value)


def _num(value: float | int | None) -> str | None:
    """An xs:decimal / xs:integer: no exponent, and exact for floats."""
    return None if value is None else format(Decimal(repr(value)), "f")


def _add_info(parent: Element, info: Info) -> None:
    _add(parent, "language", info.language)
    _add_all(parent, "category", (c.value for c in info.categories))
    _add(parent, "event", info.event)
    _add_all(parent, "responseType", (r.value for r in info.response_types))
    _add(parent, "urgency", info.urgency.value)
    _add(parent, "severity", info.severity.value)
    _add(parent, "certainty", info.certainty.value)
    _add(parent, "audience", info.audience)
    _add_pairs(parent, "eventCode", info.event_codes)
    _add(parent, "effective", _time(info.effective))
    _add(parent, "onset", _time(info.onset))
    _add(parent, "expires", _time(info.expires))
    for name in ("sender_name", "headline", "description", "instruction", "web", "contact"):
        camel = "senderName" if name == "sender_name" else name
        _add(parent, camel, getattr(info, name))
    _add_pairs(parent, "parameter", info.parameters)
    for resource in info.resources:
        _add_resource(SubElement(parent, qname("resource")), resource)
    for area in info.areas:
        _add_area(SubElement(parent, qname("area")), area)


def _add_resource(parent: Element, resource: Resource) -> None:
    _add(parent, "resourceDesc", resource.resource_desc)
    _add(parent, "mimeType", resource.mime_type)
    _add(parent, "size", _num(resource.size))
    _add(parent, "uri", resource.uri)
    _add(parent, "derefUri", resource.deref_uri)
    _add(parent, "digest", resource.digest)


def _add_area(parent: Element, area: Area) -> None:
    _add(parent, "areaDesc", area.area_desc)
    _add_all(parent, "polygon", (captext.format_polygon(ring) for ring in area.polygons))
    _add_all(parent, "circle", (captext.format_circle(c) for c in area.circles))
    _add_pairs(parent, "geocode", area.geocodes)
    _add(parent, "altitude", _num(area.altitude))
    _add(parent, "ceiling", _num(area.ceiling))
