"""CAP 1.2 import: what a valid message becomes, and what is refused where."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lianbo.adapters.cap import parse_cap
from lianbo.domain.alerting.errors import CapInvalid
from lianbo.domain.alerting.levels import ORANGE, RED, warning_level
from lianbo.domain.alerting.model import (
    Category,
    Circle,
    MsgType,
    Reference,
    ResponseType,
    Scope,
    Severity,
    Status,
)
from tests.integration.alerts.samples import (
    NS,
    SAMPLES,
    SENDER,
    _wrap,
    head,
    info,
)

CST = timezone(timedelta(hours=8))


def test_multilanguage_alert_reads_every_field() -> None:
    alert = parse_cap(SAMPLES["alert_multilang.xml"])
    assert alert.identifier == "SC-2026-0710-001"
    assert alert.sent == datetime(2026, 7, 10, 14, tzinfo=CST)
    assert (alert.status, alert.msg_type, alert.scope) == (
        Status.ACTUAL,
        MsgType.ALERT,
        Scope.PUBLIC,
    )
    assert alert.source == "四川省突发事件预警信息发布中心"
    assert alert.codes == ("IPAWSv1.0",)
    assert alert.incidents == ("SC-RAIN-2026", "rain 7")
    assert [i.language for i in alert.infos] == ["zh-CN", "en-US"]
    zh = alert.infos[0]
    assert zh.categories == (Category.MET,)
    assert zh.response_types == (ResponseType.PREPARE,)
    assert zh.event_codes == (("GB/T 28594", "11B03"),)
    assert zh.parameters == (("预警级别", "橙色"),)
    assert zh.resources[0].size == 48213
    assert zh.resources[0].mime_type == "audio/mpeg"
    assert warning_level(zh.severity) is ORANGE
    area = zh.areas[0]
    assert len(area.polygons) == 2 and area.polygons[0][0] == (30.5, 103.9)
    assert area.circles == (Circle(30.66, 104.06, 10.0),)
    assert area.geocodes[1] == ("SAME", "006113")


def test_gb_t_2260_geocodes_in_every_spelling_and_form_become_short_codes() -> None:
    alert = parse_cap(SAMPLES["alert_multilang.xml"])
    assert alert.infos[0].areas[0].region_codes() == ("510104",)
    assert alert.infos[0].areas[1].region_codes() == ("5107", "5106")


def test_update_and_cancel_chain_through_references() -> None:
    first = parse_cap(SAMPLES["alert_multilang.xml"])
    update = parse_cap(SAMPLES["update.xml"])
    cancel = parse_cap(SAMPLES["cancel.xml"])
    assert update.msg_type is MsgType.UPDATE
    assert [r.key for r in update.references] == [first.key]
    assert {r.key for r in cancel.references} == {first.key, update.key}
    assert warning_level(update.infos[0].severity) is RED


@pytest.mark.parametrize(
    ("name", "status", "scope"),
    [
        ("exercise_restricted.xml", Status.EXERCISE, Scope.RESTRICTED),
        ("test_private.xml", Status.TEST, Scope.PRIVATE),
        ("system_ack.xml", Status.SYSTEM, Scope.PUBLIC),
        ("draft_unknown.xml", Status.DRAFT, Scope.PUBLIC),
    ],
)
def test_each_status_and_scope(name: str, status: Status, scope: Scope) -> None:
    alert = parse_cap(SAMPLES[name])
    assert (alert.status, alert.scope) == (status, scope)


def test_private_addresses_keep_quoted_names() -> None:
    assert parse_cap(SAMPLES["test_private.xml"]).addresses == ("ops@lianbo", "duty desk")


def test_utc_written_minus_zero_is_accepted() -> None:
    alert = parse_cap(SAMPLES["draft_unknown.xml"])
    assert alert.sent.utcoffset() == timedelta(0)
    assert warning_level(alert.infos[0].severity) is None


def test_children_in_any_order_are_accepted() -> None:
    doc = (
        f'<alert xmlns="{NS}"><scope>Public</scope><msgType>Alert</msgType>'
        f"<status>Test</status><sent>2026-07-10T14:00:00+08:00</sent>"
        f"<sender>{SENDER}</sender><identifier>X-1</identifier></alert>"
    )
    assert parse_cap(doc).identifier == "X-1"


def test_reference_parsing_reads_triplets() -> None:
    alert = parse_cap(SAMPLES["cancel.xml"])
    assert alert.references[1] == Reference(
        SENDER, "SC-2026-0710-002", datetime(2026, 7, 10, 16, tzinfo=CST)
    )


POLY = "30.5,103.9 30.5,104.2 30.8,104.2 30.5,103.9"
OPEN_POLY = "30.5,103.9 30.5,104.2 30.8,104.2 30.8,103.9"


def _many_polygons() -> str:
    area = (
        f"<area><areaDesc>x</areaDesc><polygon>{POLY}</polygon><polygon>{POLY}</polygon>"
        f"<polygon>{OPEN_POLY}</polygon></area>"
    )
    return _wrap(head(), info(), info("en-US", areas=area))


def _replace(old: str, new: str, sample: str = "alert_multilang.xml") -> str:
    assert old in SAMPLES[sample]
    return SAMPLES[sample].replace(old, new, 1)


GEO = "<geocode><valueName>GB/T2260</valueName><value>510104</value></geocode>"

INVALID = [
    (_many_polygons(), "alert/info[2]/area[1]/polygon[3]", "closed"),
    (_replace("<identifier>SC-2026-0710-001</identifier>", ""), "alert/identifier", "missing"),
    (_replace("<status>Actual</status>", "<status>Real</status>"), "alert/status", "one of"),
    (_replace("<msgType>Alert</msgType>", "<msgType>Warn</msgType>"), "alert/msgType", "one of"),
    (_replace("+08:00</sent>", "Z</sent>"), "alert/sent", "dateTime"),
    (_replace("14:00:00+08:00</sent>", "14:00:00</sent>"), "alert/sent", "dateTime"),
    (_replace("14:00:00+08:00</sent>", "14:00:00.5+08:00</sent>"), "alert/sent", "dateTime"),
    (
        _replace("<category>Met</category>", "<category>Weather</category>"),
        "alert/info[1]/category[1]",
        "one of",
    ),
    (_replace("<category>Met</category>", ""), "alert/info[1]/category", "missing"),
    (
        _replace("<event>暴雨</event>", "<event>a</event><event>b</event>"),
        "alert/info[1]/event",
        "at most 1",
    ),
    (
        _replace(
            ">30.5,103.9 30.5,104.2 30.8,104.2 30.8,103.9 30.5,103.9<",
            ">30.5,103.9 30.5,104.2 30.5,103.9<",
        ),
        "alert/info[1]/area[1]/polygon[1]",
        "4 points",
    ),
    (
        _replace("31.0,104.5 31.3,104.5", "31.0,184.5 31.3,104.5"),
        "alert/info[1]/area[1]/polygon[2]",
        "out of range",
    ),
    (
        _replace("<circle>30.66,104.06 10</circle>", "<circle>30.66 104.06 10</circle>"),
        "alert/info[1]/area[1]/circle[1]",
        "circle",
    ),
    (
        _replace("<circle>30.66,104.06 10</circle>", "<circle>30.66,104.06 -1</circle>"),
        "alert/info[1]/area[1]/circle[1]",
        "radius",
    ),
    (_replace(GEO, GEO + "<ceiling>100</ceiling>"), "alert/info[1]/area[1]/ceiling", "altitude"),
    (
        _replace(GEO, "<geocode><valueName>GB/T2260</valueName><value>51x</value></geocode>"),
        "alert/info[1]/area[1]/geocode[1]",
        "region code",
    ),
    (
        _replace("<scope>Public</scope>", "<scope>Public</scope><addresses>a</addresses>"),
        "alert/addresses",
        "Private",
    ),
    (
        _replace('<addresses>ops@lianbo "duty desk"</addresses>', "", "test_private.xml"),
        "alert/addresses",
        "required",
    ),
    (
        _replace("<expires>2026-07-11T14:00:00+08:00", "<expires>2026-07-10T14:30:00+08:00"),
        "alert/info[1]/expires",
        "after onset",
    ),
    (_replace("<references>", "<references>nonsense ", "update.xml"), "alert/references", "sender"),
    (
        _replace(
            f"<references>{SENDER},SC-2026-0710-001,2026-07-10T14:00:00+08:00</references>",
            "",
            "update.xml",
        ),
        "alert/references",
        "must reference",
    ),
    (_replace("<note>", "<bogus>1</bogus><note>"), "alert/{" + NS + "}bogus", "unexpected"),
    (_replace("<size>48213</size>", "<size>big</size>"), "alert/info[1]/resource[1]/size", ""),
    (_replace("<event>暴雨</event>", "<event><b>暴雨</b></event>"), "alert/info[1]/event", "text"),
    (_replace("<event>暴雨</event>", "<event>暴&#x7f;雨</event>"), "alert/info[1]/event", "U+007F"),
    (SAMPLES["update.xml"].replace("cap:1.2", "cap:1.0"), "alert", "CAP 1.0"),
    (SAMPLES["update.xml"].replace(NS, "urn:x"), "alert", "not a CAP alert"),
]


@pytest.mark.parametrize(("doc", "path", "reason"), INVALID)
def test_invalid_message_names_the_element(doc: str, path: str, reason: str) -> None:
    with pytest.raises(CapInvalid) as caught:
        parse_cap(doc)
    assert caught.value.path == path
    assert reason in caught.value.reason
    assert caught.value.field == path


def test_cap_invalid_maps_to_422_family() -> None:
    from lianbo.domain.errors import Unprocessable

    assert issubclass(CapInvalid, Unprocessable)


def test_severity_of_every_sample_parses() -> None:
    seen = {i.severity for doc in SAMPLES.values() for i in parse_cap(doc).infos}
    assert seen == {
        Severity.SEVERE,
        Severity.EXTREME,
        Severity.MINOR,
        Severity.MODERATE,
        Severity.UNKNOWN,
    }
