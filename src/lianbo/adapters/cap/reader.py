"""CAP 1.2 XML → :class:`Alert`, parsed with defusedxml.

Refused outright (:class:`XmlRefused`, 400): documents over ``max_bytes``,
any DTD (so no entity expansion and no external entities), and XML that is
not well-formed. Everything else that breaks CAP 1.2 raises
:class:`CapInvalid` naming the element path (422). Children may come in any
order; their count is checked against the schema.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TypeVar
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from lianbo.adapters.cap.schema import NS, STRUCTURE, UNBOUNDED
from lianbo.domain.alerting import text as captext
from lianbo.domain.alerting.errors import CapInvalid, XmlRefused
from lianbo.domain.alerting.model import (
    Alert,
    Area,
    Category,
    Certainty,
    Info,
    MsgType,
    Pair,
    Point,
    Resource,
    ResponseType,
    Scope,
    Severity,
    Status,
    Urgency,
)
from lianbo.domain.alerting.rules import validate_alert
from lianbo.domain.text import describe, refused_character

MAX_BYTES = 5 * 1024 * 1024
E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


def parse_cap(data: bytes | str, *, max_bytes: int = MAX_BYTES) -> Alert:
    """Parse and validate one CAP 1.2 ``<alert>`` document."""
    raw = data.encode() if isinstance(data, str) else data
    root = parse_xml(raw, max_bytes=max_bytes)
    if root.tag != f"{{{NS}}}alert":
        raise CapInvalid("alert", f"not a CAP 1.2 alert: the root must be alert in {NS}")
    alert = _read_alert(_Node(root, "alert", "alert"))
    validate_alert(alert)
    return alert


def parse_xml(raw: bytes, *, max_bytes: int = MAX_BYTES) -> Element:
    """Parse untrusted XML safely or raise XmlRefused."""
    if len(raw) > max_bytes:
        raise XmlRefused(f"XML document of {len(raw)} bytes is over the {max_bytes}-byte limit")
    try:
        return SafeET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden:
        raise XmlRefused("XML with a DTD (<!DOCTYPE>) is refused") from None
    except defusedxml.EntitiesForbidden:
        raise XmlRefused("XML entity declarations are refused") from None
    except defusedxml.ExternalReferenceForbidden:
        raise XmlRefused("XML external references are refused") from None
    except defusedxml.DefusedXmlException as exc:
        raise XmlRefused(f"XML refused: {exc}") from None
    except ParseError as exc:
        raise XmlRefused(f"not well-formed XML: {exc}") from None


class _Node:
    """One element's children grouped by name, checked against the schema."""

    def __init__(self, element: Element, path: str, kind: str, parent: _Node | None = None) -> None:
        self.path = path
        # Polygons repeat in every language's info block: parse each text once.
        self.polygons: dict[str, tuple[Point, ...]] = parent.polygons if parent else {}
        allowed = {name: (low, high) for name, low, high in STRUCTURE[kind]}
        self.children: dict[str, list[Element]] = {name: [] for name in allowed}
        for child in element:
            local = child.tag.rpartition("}")[2] if child.tag.startswith(f"{{{NS}}}") else None
            if local not in allowed:
                raise CapInvalid(f"{path}/{child.tag}", f"unexpected element in {kind}")
            self.children[local].append(child)
        for name, (low, high) in allowed.items():
            count = len(self.children[name])
            if count < low:
                raise CapInvalid(f"{path}/{name}", "required element is missing")
            if high != UNBOUNDED and count > high:
                raise CapInvalid(f"{path}/{name}", f"at most {high} allowed, found {count}")

    def child(self, path: str, element: Element, kind: str) -> _Node:
        """A node for one child element, sharing this document's caches."""
        return _Node(element, path, kind, self)

    def polygon(self, path: str, text: str) -> tuple[Point, ...]:
        """A polygon, parsed once per distinct text in the document."""
        if text not in self.polygons:
            self.polygons[text] = _convert(path, text, captext.parse_polygon)
        return self.polygons[text]

    def many(self, name: str) -> list[tuple[str, Element]]:
        """(path, element) of each ``name`` child, numbered from 1."""
        return [(f"{self.path}/{name}[{n}]", e) for n, e in enumerate(self.children[name], 1)]

    def texts(self, name: str) -> list[tuple[str, str]]:
        """(path, text) of each ``name`` child."""
        return [(path, _text(path, e)) for path, e in self.many(name)]

    def opt(self, name: str) -> str | None:
        """Text of an optional single child."""
        found = self.children[name]
        return _text(f"{self.path}/{name}", found[0]) if found else None

    def req(self, name: str) -> str:
        """Text of a required single child."""
        return _text(f"{self.path}/{name}", self.children[name][0])

    def conv(self, name: str, convert: Callable[[str], T]) -> T | None:
        """An optional child converted; a ValueError names the element."""
        value = self.opt(name)
        return None if value is None else _convert(f"{self.path}/{name}", value, convert)

    def enum(self, name: str, cls: type[E]) -> E:
        """A required enumerated child."""
        return _enum(f"{self.path}/{name}", self.req(name), cls)


def _text(path: str, element: Element) -> str:
    if len(element):
        raise CapInvalid(path, "must hold text, not elements")
    text = (element.text or "").strip()
    # XML already excludes NUL and most controls; DEL and the rest of the
    # one text rule (domain.text) are checked here, for every CAP text.
    character = refused_character(text, multiline=True)
    if character is not None:
        raise CapInvalid(path, f"contains a control character ({describe(character)})")
    return text


def _convert(path: str, value: str, convert: Callable[[str], T]) -> T:
    try:
        return convert(value)
    except ValueError as exc:
        raise CapInvalid(path, str(exc) or f"bad value {value!r}") from None


def _enum(path: str, value: str, cls: type[E]) -> E:
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise CapInvalid(path, f"{value!r} is not one of {allowed}") from None


def _read_alert(node: _Node) -> Alert:
    return Alert(
        identifier=node.req("identifier"),
        sender=node.req("sender"),
        sent=_convert(f"{node.path}/sent", node.req("sent"), captext.parse_datetime),
        status=node.enum("status", Status),
        msg_type=node.enum("msgType", MsgType),
        scope=node.enum("scope", Scope),
        source=node.opt("source"),
        restriction=node.opt("restriction"),
        addresses=node.conv("addresses", captext.split_quoted) or (),
        codes=tuple(value for _, value in node.texts("code")),
        note=node.opt("note"),
        references=node.conv("references", captext.parse_references) or (),
        incidents=node.conv("incidents", captext.split_quoted) or (),
        infos=tuple(_read_info(node.child(p, e, "info")) for p, e in node.many("info")),
    )


def _read_info(node: _Node) -> Info:
    time = captext.parse_datetime
    return Info(
        language=node.opt("language") or "en-US",
        categories=tuple(_enum(p, t, Category) for p, t in node.texts("category")),
        event=node.req("event"),
        response_types=tuple(_enum(p, t, ResponseType) for p, t in node.texts("responseType")),
        urgency=node.enum("urgency", Urgency),
        severity=node.enum("severity", Severity),
        certainty=node.enum("certainty", Certainty),
        audience=node.opt("audience"),
        event_codes=_pairs(node, "eventCode"),
        effective=node.conv("effective", time),
        onset=node.conv("onset", time),
        expires=node.conv("expires", time),
        sender_name=node.opt("senderName"),
        headline=node.opt("headline"),
        description=node.opt("description"),
        instruction=node.opt("instruction"),
        web=node.opt("web"),
        contact=node.opt("contact"),
        parameters=_pairs(node, "parameter"),
        resources=tuple(
            _read_resource(node.child(p, e, "resource")) for p, e in node.many("resource")
        ),
        areas=tuple(_read_area(node.child(p, e, "area")) for p, e in node.many("area")),
    )


def _pairs(node: _Node, name: str) -> tuple[Pair, ...]:
    pairs = []
    for path, element in node.many(name):
        pair = node.child(path, element, name)
        pairs.append((pair.req("valueName"), pair.req("value")))
    return tuple(pairs)


def _read_resource(node: _Node) -> Resource:
    return Resource(
        resource_desc=node.req("resourceDesc"),
        mime_type=node.req("mimeType"),
        size=node.conv("size", int),
        uri=node.opt("uri"),
        deref_uri=node.opt("derefUri"),
        digest=node.opt("digest"),
    )


def _read_area(node: _Node) -> Area:
    return Area(
        area_desc=node.req("areaDesc"),
        polygons=tuple(node.polygon(p, t) for p, t in node.texts("polygon")),
        circles=tuple(_convert(p, t, captext.parse_circle) for p, t in node.texts("circle")),
        geocodes=_pairs(node, "geocode"),
        altitude=node.conv("altitude", float),
        ceiling=node.conv("ceiling", float),
    )
