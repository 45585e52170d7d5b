"""The pure parts of the alert service: composing CAP from JSON, the
notice, topics, error fields, display modes and percentiles."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from lianbo.adapters.cap import parse_cap, to_cap_xml
from lianbo.adapters.db.repos.alerts import Screen
from lianbo.config import Settings
from lianbo.domain.alerting.model import Area, Circle, MsgType, Reference, Severity
from lianbo.domain.alerting.rules import validate_alert
from lianbo.domain.terminals import display_language
from lianbo.protocol.alerts import Notice
from lianbo.services import alert_notice as notices
from lianbo.services.alert_compose import AlertDraft, Texts, compose
from lianbo.services.alert_intake import json_field
from lianbo.services.alert_reads import percentiles_ms
from lianbo.services.alert_records import effective_expires
from lianbo.services.alert_targets import minimal_cover, target

NOW = datetime(2026, 7, 10, 7, 0, 30, 123456, tzinfo=UTC)
RING = ((30.5, 103.9), (30.5, 104.2), (30.8, 104.2), (30.8, 103.9), (30.5, 103.9))


def draft(**fields: object) -> AlertDraft:
    values: dict[str, object] = {
        "severity": Severity.SEVERE,
        "event": "暴雨",
        "texts": Texts("暴雨橙色预警", "大到暴雨", "远离低洼地带"),
        "expires": NOW + timedelta(hours=6),
        "regions": ("510104", "510700"),
        "polygons": (RING,),
        "circles": (Circle(30.66, 104.06, 10.0),),
        "translations": {"en-US": Texts("Orange rainstorm warning", "Heavy rain")},
    } | fields
    return AlertDraft(**values)  # type: ignore[arg-type]


def test_a_json_alert_becomes_valid_cap_that_round_trips() -> None:
    alert = compose(draft(), identifier="abc", sender="lianbo", sent=NOW)
    validate_alert(alert)
    assert alert.sent.microsecond == 0 and alert.msg_type is MsgType.ALERT
    assert [i.language for i in alert.infos] == ["zh-CN", "en-US"]
    assert alert.infos[0].areas[0].region_codes() == ("510104", "5107")
    assert parse_cap(to_cap_xml(alert)) == alert


def test_references_make_an_update() -> None:
    ref = Reference("lianbo", "old", NOW - timedelta(hours=1))
    alert = compose(draft(), identifier="new", sender="lianbo", sent=NOW, references=(ref,))
    assert alert.msg_type is MsgType.UPDATE and alert.references == (ref,)


def test_the_notice_flattens_languages_and_areas() -> None:
    alert = compose(draft(), identifier="abc", sender="lianbo", sent=NOW)
    notice = notices.alert_notice(
        alert_id="a1",
        revision=2,
        replaces=["a0"],
        alert=alert,
        expires=effective_expires(alert, 24),
        settings=Settings(),
    )
    assert notice["level"] == 2 and notice["colour"] == "orange"
    assert set(notice["texts"]) == {"zh-CN", "en-US"}
    assert notice["area"]["regions"] == ["510104", "5107"]
    assert len(notice["area"]["polygons"]) == 1 and len(notice["area"]["circles"]) == 1
    assert notice["display"]["home"] == "takeover"  # Severe: takeover everywhere
    areas = notices.areas_from_json(notice["area"])
    assert areas[0].region_codes() == ("510104", "5107") and areas[0].polygons == (RING,)


def test_display_modes_follow_settings() -> None:
    settings = Settings(alert_banner_severities={"hall": ["Severe"]})
    assert notices.display_modes(settings, "Severe") == {
        "outdoor": "takeover",
        "hall": "banner",
        "home": "takeover",
    }
    assert notices.display_modes(Settings(), "Minor")["home"] == "banner"
    assert notices.display_modes(Settings(), "Extreme")["home"] == "takeover"


def test_minimal_cover_drops_descendants() -> None:
    assert minimal_cover(["510104", "5101", "510703", "51070301", "5101"]) == ["5101", "510703"]
    assert minimal_cover([]) == []


def test_polygons_publish_to_the_counties_of_the_screens_inside() -> None:
    screens = [
        Screen("in", "outdoor", "510104001", 30.6, 104.0),
        Screen("edge", "home", "5101", 30.5, 104.0),  # on the ring's edge, city-level code
        Screen("out", "hall", "510107", 31.5, 104.0),
        Screen("region", "hall", "510703", 31.5, 104.7),
    ]
    areas = [Area("x", polygons=(RING,)), Area("y", geocodes=(("GB/T2260", "510703"),))]
    found = target(screens, areas)
    assert sorted(s.id for s in found.screens) == ["edge", "in", "region"]
    assert found.topics == ["5101", "510703"]
    assert target([], areas).topics == ["510703"]


def test_targets_keep_to_the_jurisdiction_and_topics_never_reach_past_it() -> None:
    # A 50 km circle round 新都区 crosses into 德阳 (5106): a Chengdu (5101)
    # issuer reaches their own screens in it, never Deyang's.
    screens = [
        Screen("xindu", "outdoor", "510114", 30.82, 104.16),
        Screen("wuhou", "hall", "510107001002", 30.64, 104.04),
        Screen("jingyang", "outdoor", "510603", 31.13, 104.39),
    ]
    circle = [Area("50 km", circles=(Circle(30.82, 104.16, 50.0),))]
    found = target(screens, circle, "5101")
    assert [s.id for s in found.screens] == ["xindu", "wuhou"]
    assert found.topics == ["510107", "510114"]
    assert found.reach.as_json()["by_region"] == {
        "510107": {"total": 1, "outdoor": 0, "hall": 1, "home": 0},
        "510114": {"total": 1, "outdoor": 1, "hall": 0, "home": 0},
    }
    # A township issuer's topic is the township: the county's topic would
    # reach the county's other townships, whose screens' own geofence would
    # show the alert.
    township = target(screens, circle, "510107001")
    assert [s.id for s in township.screens] == ["wuhou"]
    assert township.topics == ["510107001"]


def test_cap_paths_map_back_to_json_fields() -> None:
    assert json_field("alert/info[1]/area[1]/geocode[2]") == "area.regions[1]"
    assert json_field("alert/info[2]/area[1]/polygon[1]") == "area.polygons[0]"
    assert json_field("alert/info[1]/area[1]/circle[3]") == "area.circles[2]"
    assert json_field("alert/info[1]/expires") == "expires_at"
    assert json_field("alert/references") == "alert/references"
    assert json_field(None) is None


def test_expiry_is_the_latest_info_or_the_default() -> None:
    alert = compose(draft(), identifier="abc", sender="lianbo", sent=NOW)
    assert effective_expires(alert, 24) == (NOW + timedelta(hours=6)).replace(microsecond=0)
    bare = replace(alert, infos=())
    assert effective_expires(bare, 24) == bare.sent + timedelta(hours=24)


def test_percentiles_by_nearest_rank() -> None:
    assert percentiles_ms([]) == {"p50": None, "p99": None, "max": None}
    assert percentiles_ms([0.001 * i for i in range(1, 101)]) == {
        "p50": 50.0,
        "p99": 99.0,
        "max": 100.0,
    }


def test_a_screen_shows_alerts_in_its_lang_tag_else_chinese() -> None:
    assert display_language(("outdoor", "lang:en")) == "en"
    assert display_language(("lang:bo", "lang:en")) == "bo"  # the first one
    assert display_language(("outdoor",)) == display_language(("lang:",)) == "zh-CN"


def test_a_notice_text_falls_back_by_language_then_to_chinese() -> None:
    texts = {"zh-CN": {"headline": "暴雨"}, "en-US": {"headline": "Rainstorm"}}
    notice = Notice("alert", "a1", {"texts": texts})
    assert notice.text_for("en")["headline"] == "Rainstorm"
    assert notice.text_for("en-US")["headline"] == "Rainstorm"
    assert notice.text_for("bo")["headline"] == "暴雨"
    assert (
        Notice("alert", "a2", {"texts": {"en-US": {"headline": "x"}}}).text_for("zh")["headline"]
        == "x"
    )
