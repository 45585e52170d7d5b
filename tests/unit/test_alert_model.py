"""The alert model: levels, keys, references, CAP text forms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lianbo.domain.alerting import text as captext
from lianbo.domain.alerting.levels import BLUE, ORANGE, RED, YELLOW, warning_level
from lianbo.domain.alerting.model import (
    Alert,
    Area,
    Category,
    Certainty,
    Info,
    MsgType,
    Reference,
    Scope,
    Severity,
    Status,
    Urgency,
)
from lianbo.domain.alerting.rules import validate_alert
from lianbo.domain.errors import InvalidInput

CST = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("severity", "level", "label"),
    [
        (Severity.EXTREME, RED, "I级 红色预警"),
        (Severity.SEVERE, ORANGE, "II级 橙色预警"),
        (Severity.MODERATE, YELLOW, "III级 黄色预警"),
        (Severity.MINOR, BLUE, "IV级 蓝色预警"),
    ],
)
def test_severity_maps_to_chinese_level(severity: Severity, level: object, label: str) -> None:
    found = warning_level(severity)
    assert found is level and found is not None
    assert found.label_zh == label


def test_unknown_severity_has_no_level() -> None:
    assert warning_level(Severity.UNKNOWN) is None


def test_levels_rank_red_highest() -> None:
    assert [lvl.rank for lvl in (RED, ORANGE, YELLOW, BLUE)] == [1, 2, 3, 4]
    assert [lvl.colour for lvl in (RED, ORANGE, YELLOW, BLUE)] == [
        "red",
        "orange",
        "yellow",
        "blue",
    ]


def test_references_parse_whitespace_separated_triplets() -> None:
    refs = captext.parse_references(
        "a@x,ID-1,2026-07-10T14:00:00+08:00\n\t b@y,ID-2,2026-07-10T06:00:00-00:00"
    )
    assert refs == (
        Reference("a@x", "ID-1", datetime(2026, 7, 10, 14, tzinfo=CST)),
        Reference("b@y", "ID-2", datetime(2026, 7, 10, 6, tzinfo=UTC)),
    )
    assert captext.parse_references(captext.format_references(refs)) == refs


@pytest.mark.parametrize("bad", ["a,b", "a,b,c,d", ",b,2026-07-10T14:00:00+08:00", "a,b,yesterday"])
def test_bad_references_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        captext.parse_references(bad)


@pytest.mark.parametrize(
    "bad",
    [
        "2026-07-10T14:00:00Z",
        "2026-07-10T14:00:00",
        "2026-07-10 14:00:00+08:00",
        "2026-07-10T14:00+08:00",
        "2026-07-10T14:00:00.123+08:00",
        "2026-13-10T14:00:00+08:00",
    ],
)
def test_times_need_seconds_and_an_explicit_offset(bad: str) -> None:
    with pytest.raises(ValueError):
        captext.parse_datetime(bad)


def test_dedup_key_is_sender_identifier_sent() -> None:
    sent = datetime(2026, 7, 10, 14, tzinfo=CST)
    alert = Alert("ID-1", "a@x", sent, Status.ACTUAL, MsgType.ALERT, Scope.PUBLIC)
    assert alert.key == ("a@x", "ID-1", sent)
    # the same instant written in UTC is the same message
    same = Alert("ID-1", "a@x", sent.astimezone(UTC), Status.TEST, MsgType.ALERT, Scope.PUBLIC)
    assert same.key == alert.key and hash(same.key) == hash(alert.key)
    assert Reference("a@x", "ID-1", sent).key == alert.key


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters='"'), min_size=1)))
def test_quoted_lists_round_trip(items: list[str]) -> None:
    cleaned = tuple(i for i in items if i.strip() == i and i)  # CAP trims element text
    assert captext.split_quoted(captext.join_quoted(cleaned)) == cleaned


def _info(language: str) -> Info:
    return Info((Category.MET,), "e", Urgency.FUTURE, Severity.MINOR, Certainty.LIKELY, language)


def test_info_for_language_exact_then_primary_subtag() -> None:
    sent = datetime(2026, 7, 10, 14, tzinfo=CST)
    alert = Alert(
        "I",
        "s",
        sent,
        Status.ACTUAL,
        MsgType.ALERT,
        Scope.PUBLIC,
        infos=(_info("zh-CN"), _info("en-US")),
    )
    assert alert.info_for("en-US") is alert.infos[1]
    assert alert.info_for("zh") is alert.infos[0]
    assert alert.info_for("zh-TW") is alert.infos[0]
    assert alert.info_for("fr") is None


def test_region_codes_normalise_and_refuse_garbage() -> None:
    assert Area("a", geocodes=(("GB/T2260", "510100000000"),)).region_codes() == ("5101",)
    with pytest.raises(InvalidInput):
        Area("a", geocodes=(("GB/T2260", "abc"),)).region_codes()


def test_model_built_in_code_is_validated_like_xml() -> None:
    from lianbo.domain.alerting.errors import CapInvalid

    sent = datetime(2026, 7, 10, 14, 0, 0, 5, tzinfo=CST)
    with pytest.raises(CapInvalid, match="whole seconds"):
        validate_alert(Alert("I", "s", sent, Status.ACTUAL, MsgType.ALERT, Scope.PUBLIC))
    naive = datetime(2026, 7, 10, 14)
    with pytest.raises(CapInvalid, match="offset"):
        validate_alert(Alert("I", "s", naive, Status.ACTUAL, MsgType.ALERT, Scope.PUBLIC))
    with pytest.raises(CapInvalid, match="alert/identifier"):
        validate_alert(
            Alert(
                "I 1", "s", sent.replace(microsecond=0), Status.ACTUAL, MsgType.ALERT, Scope.PUBLIC
            )
        )
