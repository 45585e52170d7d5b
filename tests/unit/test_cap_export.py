"""CAP 1.2 export: schema order and content, exact round trips, Atom feed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from lianbo.adapters.cap import atom_feed, parse_cap, to_cap_xml
from lianbo.domain.alerting.model import (
    Alert,
    Area,
    Category,
    Certainty,
    Circle,
    Info,
    MsgType,
    Reference,
    Resource,
    ResponseType,
    Scope,
    Severity,
    Status,
    Urgency,
)
from tests.integration.alerts.samples import SAMPLES

NS = "urn:oasis:names:tc:emergency:cap:1.2"
XSD = Path(__file__).parents[1] / "integration" / "alerts" / "CAP-v1.2.xsd"
CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 7, 10, 14, tzinfo=CST)

# CAP 1.2 §3.2 element order, written out independently of the adapter's table.
ALERT_ORDER = [
    "identifier",
    "sender",
    "sent",
    "status",
    "msgType",
    "source",
    "scope",
    "restriction",
    "addresses",
    "code",
    "note",
    "references",
    "incidents",
    "info",
]
INFO_ORDER = [
    "language",
    "category",
    "event",
    "responseType",
    "urgency",
    "severity",
    "certainty",
    "audience",
    "eventCode",
    "effective",
    "onset",
    "expires",
    "senderName",
    "headline",
    "description",
    "instruction",
    "web",
    "contact",
    "parameter",
    "resource",
    "area",
]
RESOURCE_ORDER = ["resourceDesc", "mimeType", "size", "uri", "derefUri", "digest"]
AREA_ORDER = ["areaDesc", "polygon", "circle", "geocode", "altitude", "ceiling"]
ENUMS = {
    "status": {"Actual", "Exercise", "System", "Test", "Draft"},
    "msgType": {"Alert", "Update", "Cancel", "Ack", "Error"},
    "scope": {"Public", "Restricted", "Private"},
    "urgency": {"Immediate", "Expected", "Future", "Past", "Unknown"},
    "severity": {"Extreme", "Severe", "Moderate", "Minor", "Unknown"},
    "certainty": {"Observed", "Likely", "Possible", "Unlikely", "Unknown"},
}


def full_alert() -> Alert:
    """Every optional field set, awkward floats and text included."""
    area = Area(
        area_desc="武侯区 & 高新区 <core>",
        polygons=(((30.1, 104.0), (30.2, 104.1e0), (30.15, 104.3333333333333), (30.1, 104.0)),),
        circles=(Circle(30.66, 104.06, 0.1), Circle(0.0, -179.99999, 1e-5)),
        geocodes=(("GB/T2260", "510107"), ("地名", "武侯")),
        altitude=1e-05,
        ceiling=12345.678,
    )
    info = Info(
        categories=(Category.MET, Category.SAFETY),
        event="地震",
        urgency=Urgency.IMMEDIATE,
        severity=Severity.EXTREME,
        certainty=Certainty.OBSERVED,
        language="zh-CN",
        response_types=(ResponseType.SHELTER, ResponseType.ALL_CLEAR),
        audience="全体市民",
        event_codes=(("GB/T 28594", "11A01"),),
        effective=T0,
        onset=T0 + timedelta(minutes=1),
        expires=T0 + timedelta(hours=6),
        sender_name="四川省地震局",
        headline="地震预警",
        description="line 1\nline 2",
        instruction="就近避险",
        web="https://example.cn/a?b=1&c=2",
        contact="12345",
        parameters=(("level", "I"),),
        resources=(Resource("图片", "image/png", 10, "https://x/y.png", "aGVsbG8=", "abc"),),
        areas=(area,),
    )
    return Alert(
        identifier="EQ-1",
        sender="cea@gov.cn",
        sent=T0,
        status=Status.EXERCISE,
        msg_type=MsgType.UPDATE,
        scope=Scope.RESTRICTED,
        source="演练",
        restriction="内部",
        codes=("a", "b"),
        note="note",
        references=(Reference("cea@gov.cn", "EQ-0", T0 - timedelta(hours=1)),),
        incidents=("inc 1", "inc2"),
        infos=(info, replace(info, language="en")),
    )


def _local(element: ET.Element) -> str:
    assert element.tag.startswith(f"{{{NS}}}"), element.tag
    return element.tag.split("}")[1]


def _assert_ordered(parent: ET.Element, order: list[str]) -> None:
    names = [_local(child) for child in parent]
    assert names == sorted(names, key=order.index), names


def _check_structure(doc: bytes) -> None:
    root = ET.fromstring(doc)
    assert root.tag == f"{{{NS}}}alert"
    _assert_ordered(root, ALERT_ORDER)
    for name in ("identifier", "sender", "sent", "status", "msgType", "scope"):
        assert root.find(f"{{{NS}}}{name}") is not None, name
    for info in root.findall(f"{{{NS}}}info"):
        _assert_ordered(info, INFO_ORDER)
        for element in info.findall(f"{{{NS}}}resource"):
            _assert_ordered(element, RESOURCE_ORDER)
        for element in info.findall(f"{{{NS}}}area"):
            _assert_ordered(element, AREA_ORDER)
    for element in root.iter():
        if _local(element) in ENUMS:
            assert element.text in ENUMS[_local(element)]


def all_alerts() -> list[Alert]:
    return [full_alert(), *(parse_cap(doc) for doc in SAMPLES.values())]


@pytest.mark.parametrize("alert", all_alerts(), ids=lambda a: a.identifier)
def test_round_trip_is_exact(alert: Alert) -> None:
    assert parse_cap(to_cap_xml(alert)) == alert


@pytest.mark.parametrize("alert", all_alerts(), ids=lambda a: a.identifier)
def test_export_follows_cap_order_enumerations_and_namespace(alert: Alert) -> None:
    _check_structure(to_cap_xml(alert))


@pytest.mark.parametrize("alert", all_alerts(), ids=lambda a: a.identifier)
def test_export_validates_against_the_cap_schema(alert: Alert) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    xmlschema.XMLSchema(str(XSD)).validate(to_cap_xml(alert))


def test_export_writes_times_with_offsets_and_decimals_without_exponents() -> None:
    text = to_cap_xml(full_alert()).decode()
    assert "<sent>2026-07-10T14:00:00+08:00</sent>" in text
    assert "<altitude>0.00001</altitude>" in text
    assert "&amp; 高新区 &lt;core&gt;" in text
    assert "<references>cea@gov.cn,EQ-0,2026-07-10T13:00:00+08:00</references>" in text


def test_atom_feed_lists_alerts_with_cap_content_and_links() -> None:
    alerts = [parse_cap(SAMPLES["update.xml"]), parse_cap(SAMPLES["alert_multilang.xml"])]
    feed = atom_feed(
        alerts,
        "https://c.example/feeds/alerts.atom",
        cap_url=lambda a: f"https://c.example/api/v1/alerts/{a.identifier}/cap",
    )
    atom = "{http://www.w3.org/2005/Atom}"
    root = ET.fromstring(feed)
    assert root.tag == f"{atom}feed"
    assert root.findtext(f"{atom}updated") == "2026-07-10T16:00:00+08:00"
    entries = root.findall(f"{atom}entry")
    assert [e.findtext(f"{atom}title") for e in entries] == [
        "暴雨红色预警",
        "成都市气象台发布暴雨橙色预警",
    ]
    link = entries[0].find(f"{atom}link")
    assert link is not None and link.get("type") == "application/cap+xml"
    assert link.get("href") == "https://c.example/api/v1/alerts/SC-2026-0710-002/cap"
    content = entries[0].find(f"{atom}content")
    assert content is not None
    inner = ET.tostring(content[0])
    assert parse_cap(inner) == alerts[0]


def test_empty_atom_feed_is_valid() -> None:
    feed = atom_feed([], "https://c/feed", now=T0)
    assert ET.fromstring(feed).findtext("{http://www.w3.org/2005/Atom}updated") == T0.isoformat()
