"""CAP 1.2 (and 1.1) XML → :class:`Alert`, parsed with defusedxml.

Refused outright (:class:`XmlRefused`, 400): documents over ``max_bytes``,
any DTD (so no entity expansion and no external entities), and XML that is
not well-formed. Everything else that breaks CAP raises :class:`CapInvalid`
naming the element path (422); so does CAP 1.0, naming the version.
Children may come in any order; their count is checked against the schema.

What the reference validator (google/cap-library) treats as cosmetic is a
warning, not a refusal (``domain.alerting.warnings``): an empty optional
element is read as absent, a CAP 1.1 message is read into the same model
(``Very Likely`` as ``Likely``; a resource without a mimeType as
``application/octet-stream``) and exported as 1.2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from lianbo.adapters.cap.schema import NS, NS_1_0, NS_1_1, STRUCTURE, STRUCTURE_1_1, UNBOUNDED
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
from lianbo.domain.alerting.warnings import CapWarning, WarningCode, merged
from lianbo.domain.text import describe, refused_character

MAX_BYTES = 5 * 1024 * 1024
E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


# Values CAP 1.1 does not know (added in 1.2): refused in a 1.1 message.
_NOT_IN_1_1 = frozenset({ResponseType.AVOID, ResponseType.ALL_CLEAR})
_VERY_LIKELY = "Very Likely"  # CAP 1.0, kept in 1.1 for compatibility, gone in 1.2
_NO_MIME_TYPE = "application/octet-stream"
# Optional repeated elements an empty instance of which is skipped, with a warning.
_SKIPPED_WHEN_EMPTY = frozenset({"code", "responseType", "polygon", "circle"})
# CAP 1.2 (and 1.1) end an alert with any XML-DSig elements: an enveloped signature.
_SIGNATURE = "{http://www.w3.org/2000/09/xmldsig#}Signature"


@dataclass(frozen=True, slots=True)
class CapReading:
    """A message read: the alert, its CAP version and what it got wrong
    without being wrong."""

    alert: Alert
    version: str
    warnings: tuple[CapWarning, ...]
    signed: bool = False  # carries an enveloped <Signature> (adapters.cap.dsig checks it)


def parse_cap(data: bytes | str, *, max_bytes: int = MAX_BYTES) -> Alert:
    """Parse and validate one CAP 1.2 (or 1.1) ``<alert>`` document."""
    return read_cap(data, max_bytes=max_bytes).alert


def read_cap(data: bytes | str, *, max_bytes: int = MAX_BYTES) -> CapReading:
    """Parse and validate one ``<alert>`` document, keeping its warnings."""
    raw = data.encode() if isinstance(data, str) else data
    root = parse_xml(raw, max_bytes=max_bytes)
    namespace, _, local = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", "")
    if local == "alert" and namespace in NS_1_0:
        raise CapInvalid("alert", "CAP 1.0 is not accepted: send CAP 1.2 or 1.1")
    if local != "alert" or namespace not in (NS, NS_1_1):
        raise CapInvalid("alert", f"not a CAP alert: the root must be alert in {NS} (or 1.1)")
    warnings: list[CapWarning] = []
    if namespace == NS_1_1:
        warnings.append(CapWarning("alert", WarningCode.CAP_1_1))
    document = _Document(namespace, warnings)
    alert = _read_alert(_Node(root, "alert", "alert", document))
    version = namespace.rpartition(":")[2]
    return CapReading(alert, version, merged(warnings, validate_alert(alert)), document.signed)


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


class _Document:
    """What every node of one document shares: its namespace (so its CAP
    version), the polygons parsed so far and the warnings found so far."""

    def __init__(self, namespace: str, warnings: list[CapWarning]) -> None:
        self.namespace = namespace
        self.v1_1 = namespace == NS_1_1
        self.structure = STRUCTURE_1_1 if self.v1_1 else STRUCTURE
        # Polygons repeat in every language's info block: parse each text once.
        self.polygons: dict[str, tuple[Point, ...]] = {}
        self.warnings = warnings
        self.signed = False

    def warn(self, path: str, code: WarningCode, detail: str = "") -> None:
        """Note a cosmetic fault; the message is still accepted."""
        self.warnings.append(CapWarning(path, code, detail))


class _Node:
    """One element's children grouped by name, checked against the schema."""

    def __init__(self, element: Element, path: str, kind: str, document: _Document) -> None:
        self.path = path
        self.document = document
        allowed = {name: (low, high) for name, low, high in document.structure[kind]}
        self.children: dict[str, list[Element]] = {name: [] for name in allowed}
        prefix = f"{{{document.namespace}}}"
        for child in element:
            if kind == "alert" and child.tag == _SIGNATURE:
                document.signed = True  # checked by adapters.cap.dsig, not read here
                continue
            local = child.tag.rpartition("}")[2] if child.tag.startswith(prefix) else None
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
        return _Node(element, path, kind, self.document)

    def polygon(self, path: str, text: str) -> tuple[Point, ...]:
        """A polygon, parsed once per distinct text in the document."""
        polygons = self.document.polygons
        if text not in polygons:
            polygons[text] = _convert(path, text, captext.parse_polygon)
        return polygons[text]

    def many(self, name: str) -> list[tuple[str, Element]]:
        """(path, element) of each ``name`` child, numbered from 1."""
        return [(f"{self.path}/{name}[{n}]", e) for n, e in enumerate(self.children[name], 1)]

    def texts(self, name: str) -> list[tuple[str, str]]:
        """(path, text) of each ``name`` child; an empty optional one (an
        NWS ``<polygon/>``) is skipped with a warning."""
        found = [(path, _text(path, e)) for path, e in self.many(name)]
        if name not in _SKIPPED_WHEN_EMPTY:
            return found
        for path, text in found:
            if not text:
                self.document.warn(path, WarningCode.EMPTY_ELEMENT, name)
        return [(path, text) for path, text in found if text]

    def opt(self, name: str) -> str | None:
        """Text of an optional single child; an empty one (``<restriction/>``)
        is read as absent, with a warning."""
        found = self.children[name]
        if not found:
            return None
        path = f"{self.path}/{name}"
        text = _text(path, found[0])
        if not text:
            self.document.warn(path, WarningCode.EMPTY_ELEMENT, name)
            return None
        return text

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
        response_types=tuple(_response_type(node, p, t) for p, t in node.texts("responseType")),
        urgency=node.enum("urgency", Urgency),
        severity=node.enum("severity", Severity),
        certainty=_certainty(node),
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


def _response_type(node: _Node, path: str, text: str) -> ResponseType:
    value = _enum(path, text, ResponseType)
    if node.document.v1_1 and value in _NOT_IN_1_1:
        raise CapInvalid(path, f"{value.value!r} is a CAP 1.2 responseType, not CAP 1.1")
    return value


def _certainty(node: _Node) -> Certainty:
    """The certainty; CAP 1.1's legacy "Very Likely" is read as Likely."""
    path = f"{node.path}/certainty"
    text = node.req("certainty")
    if node.document.v1_1 and text == _VERY_LIKELY:
        node.document.warn(path, WarningCode.LEGACY_CERTAINTY, text)
        return Certainty.LIKELY
    return _enum(path, text, Certainty)


def _pairs(node: _Node, name: str) -> tuple[Pair, ...]:
    pairs = []
    for path, element in node.many(name):
        pair = node.child(path, element, name)
        pairs.append((pair.req("valueName"), pair.req("value")))
    return tuple(pairs)


def _read_resource(node: _Node) -> Resource:
    return Resource(
        resource_desc=node.req("resourceDesc"),
        mime_type=node.opt("mimeType") or _NO_MIME_TYPE,  # required in 1.2 (the schema)
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
