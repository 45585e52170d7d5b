"""China's CAP profile: identifiers read and written (GB/T 35965.1-2018)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lianbo.adapters.cap import read_cap
from lianbo.domain.alerting.china import BEIJING, identifier, read_identifier, second_prefix
from tests.integration.alerts.samples import _wrap, head, info

CODE = "51000041600000"  # 四川 (510000), 416 (GB/T 4657 organisation), unit 000, extension 00


def test_an_identifier_is_written_in_beijing_time_and_read_back() -> None:
    entered = datetime(2026, 12, 7, 16, 5, 9, tzinfo=UTC)
    text = identifier(CODE, entered, 3)
    assert text == "51000041600000_20261208000509_3" and len(text) == 31
    parts = read_identifier(text)
    assert parts is not None
    assert (parts.region, parts.organisation, parts.unit, parts.extension) == (
        "510000",
        "416",
        "000",
        "00",
    )
    assert parts.entered == entered and parts.entered.utcoffset() == BEIJING.utcoffset(None)
    assert parts.sequence == 3 and parts.sender_code == CODE
    assert second_prefix(CODE, entered) == "51000041600000_20261208000509_"


@pytest.mark.parametrize(
    "text",
    [
        "SC-2026-0710-001",
        "51000041600000_20261308000509_0",  # month 13
        "5100004160000_20261208000509_0",  # 13-digit code
        "51000041600000_20261208000509_10",  # two-digit sequence
        "51000041600000-20261208000509-0",
    ],
)
def test_other_forms_are_not_china_identifiers(text: str) -> None:
    assert read_identifier(text) is None


def test_writing_refuses_a_bad_code_or_sequence() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    with pytest.raises(ValueError):
        identifier("5100", now, 0)
    with pytest.raises(ValueError):
        identifier(CODE, now, 10)


def test_a_message_in_chinas_profile_is_accepted_as_sent() -> None:
    ident = "51010041600000_20260710140000_0"
    document = _wrap(head(ident, sent="2026-07-10T14:00:00+08:00"), info())
    reading = read_cap(document)
    assert reading.alert.identifier == ident and not reading.warnings
    assert reading.alert.sent.utcoffset() == BEIJING.utcoffset(None)
