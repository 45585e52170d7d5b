"""Feed rules, backoff, geocode mapping and faults (domain.alerting.feeds)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from lianbo.adapters.cap import parse_cap
from lianbo.domain.alerting.feeds import (
    MAX_BACKOFF_S,
    SEEN_KEPT,
    Feed,
    FeedFault,
    FeedKind,
    FeedRules,
    fault_text,
    mapped,
    next_poll,
    read_fault,
    remembered,
)
from lianbo.domain.alerting.model import Alert
from tests.integration.alerts.samples import _wrap, head, info

NOW = datetime(2026, 7, 10, 7, tzinfo=UTC)
SAME = (
    "<area><areaDesc>x</areaDesc>"
    "<geocode><valueName>SAME</valueName><value>006113</value></geocode></area>"
)


def feed(failures: int = 0) -> Feed:
    return Feed("f1", "feed", FeedKind.POLL, "https://x", 30, "51", FeedRules(), failures=failures)


def alert(severity: str = "Extreme", areas: str = SAME) -> Alert:
    return parse_cap(_wrap(head("R-1"), info(severity=severity, areas=areas)))


def test_rules_issue_the_listed_severities_and_events_at_once() -> None:
    extreme, severe = alert("Extreme"), alert("Severe")
    assert FeedRules(("Extreme",)).issues_at_once(extreme)
    assert not FeedRules(("Extreme",)).issues_at_once(severe)
    assert not FeedRules(()).issues_at_once(extreme)
    assert FeedRules(("Extreme",), ("11B03",)).issues_at_once(extreme)  # the sample's code
    assert not FeedRules(("Extreme",), ("11B99",)).issues_at_once(extreme)


def test_a_good_poll_waits_the_interval_a_failed_one_backs_off_with_jitter() -> None:
    rng = random.Random(7)
    assert next_poll(feed(), NOW, ok=True) == NOW + timedelta(seconds=30)
    waits = [(next_poll(feed(n), NOW, ok=False, rng=rng) - NOW).total_seconds() for n in (1, 2, 3)]
    assert 48 <= waits[0] <= 72 and 96 <= waits[1] <= 144 and 192 <= waits[2] <= 288
    capped = (next_poll(feed(20), NOW, ok=False, rng=rng) - NOW).total_seconds()
    assert MAX_BACKOFF_S * 0.8 <= capped <= MAX_BACKOFF_S * 1.2


def test_mapped_geocodes_are_added_and_the_rest_kept() -> None:
    original = alert()
    table = {"SAME": {"006113": "510104"}}
    area = mapped(original, table).infos[0].areas[0]
    assert area.geocodes == (("SAME", "006113"), ("GB/T 2260", "510104"))
    assert area.region_codes() == ("510104",)
    assert mapped(original, {}) is original
    assert mapped(original, {"SAME": {"999999": "5101"}}) is original


def test_only_the_newest_entry_keys_are_remembered() -> None:
    seen = remembered((), [f"k{n}" for n in range(SEEN_KEPT)])
    again = remembered(seen, ["k0", "new"])
    assert len(again) == SEEN_KEPT and again[-2:] == ("k0", "new") and "k1" not in again


def test_faults_are_kept_as_codes_and_read_back() -> None:
    assert read_fault(fault_text(FeedFault.HTTP, "404")) == (FeedFault.HTTP, "404")
    assert read_fault(fault_text(FeedFault.TIMEOUT)) == (FeedFault.TIMEOUT, "")
    assert read_fault("nonsense") == (FeedFault.INTERNAL, "")
