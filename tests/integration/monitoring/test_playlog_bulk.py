"""2,000 play-log rows in full batches: exactly the right rows, alarms, rollups and rejections."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from lianbo.adapters.db.monitoring_tables import PlayLogRow
from lianbo.domain.roles import Role
from lianbo.protocol.reports import PLAYLOG_BATCH_MAX
from tests.integration.monitoring.helpers import image_asset, scheduled, screen, uploaded
from tests.support.content import png
from tests.support.env import Env

pytestmark = pytest.mark.integration

# kind -> (stored verdict or None when rejected, the reason the answer gives)
KINDS: dict[str, tuple[str | None, str]] = {
    "ok": ("ok", ""),
    "ok-any-schedule": ("ok", ""),
    "elsewhere": ("unauthorised", "asset not in the manifest at that time"),
    "draft": ("unauthorised", "asset not approved"),
    "unknown": ("unauthorised", "unknown sha256"),
    "wrong-schedule": ("unauthorised", "schedule did not allow the asset then"),
    "future": (None, "in the future"),
    "old": (None, "older than 7 days"),
    "backwards": (None, "ends before it starts"),
    "not-an-object": (None, "malformed: not an object"),
    "bad-sha": (None, "malformed: sha256 is not 64 lowercase hex digits"),
    "naive": (None, "malformed: started_at is not an RFC 3339 time with offset"),
}
WEIGHTS = [40, 10, 8, 6, 6, 5, 5, 5, 4, 2, 2, 2]


def entry(kind: str, now: datetime, rng: random.Random, shas: dict[str, str], sid: str) -> Any:
    """One row of ``kind``; its times lie in the 10 minutes before ``now``."""
    start = now - timedelta(seconds=rng.uniform(10, 600))
    length = timedelta(seconds=rng.uniform(0.5, 8))
    sha = shas.get(kind, shas["ok"])
    schedule: str | None = sid
    if kind == "unknown":
        sha = f"{rng.getrandbits(256):064x}"
    if kind in ("ok-any-schedule", "elsewhere", "draft", "unknown"):
        schedule = None
    if kind == "wrong-schedule":
        schedule = "f" * 32
    if kind == "future":
        start = now + timedelta(hours=1)
    if kind == "old":
        start = now - timedelta(days=8)
    if kind == "not-an-object":
        return [sha]
    row = {
        "sha256": "XYZ" if kind == "bad-sha" else sha,
        "schedule_id": schedule,
        "started_at": start.isoformat(),
        "ended_at": (start - length if kind == "backwards" else start + length).isoformat(),
    }
    if kind == "naive":
        row["started_at"] = start.replace(tzinfo=None).isoformat()
    return row


async def test_two_thousand_rows_are_stored_rolled_up_and_named_exactly(env: Env) -> None:
    admin = await env.as_role()
    operator = await env.as_role(Role.OPERATOR, "5101")
    asset = await image_asset(env, operator)
    sid = await scheduled(env, operator, asset["id"], 15000)
    elsewhere = await uploaded(env, operator, png(), "别处.png")
    draft = await uploaded(env, operator, png(), "草稿.png", approved=False)
    terminal_id, headers = await screen(env, admin, tier="home")
    env.clock.advance(minutes=15)  # every row after the manifest was built
    now = env.clock.now()
    shas = {"ok": asset["sha256"], "elsewhere": elsewhere["sha256"], "draft": draft["sha256"]}
    keys = {asset["sha256"]: asset["id"], elsewhere["sha256"]: elsewhere["id"]}
    keys[draft["sha256"]] = draft["id"]
    rng = random.Random(20261122)
    kinds = rng.choices(list(KINDS), WEIGHTS, k=4 * PLAYLOG_BATCH_MAX)
    rows = [entry(kind, now, rng, shas, sid) for kind in kinds]

    expected_plays: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    verdicts: Counter[str] = Counter()
    for part in range(4):
        batch = rows[part * PLAYLOG_BATCH_MAX : (part + 1) * PLAYLOG_BATCH_MAX]
        answer = await env.client.post(
            "/terminal/v1/playlog", json={"entries": batch}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        named = kinds[part * PLAYLOG_BATCH_MAX : (part + 1) * PLAYLOG_BATCH_MAX]
        assert body["rejected"] == [
            {"index": i, "reason": KINDS[k][1]} for i, k in enumerate(named) if KINDS[k][0] is None
        ]
        assert body["unauthorised"] == [
            {"index": i, "sha256": batch[i]["sha256"], "reason": KINDS[k][1]}
            for i, k in enumerate(named)
            if KINDS[k][0] == "unauthorised"
        ]
        assert body["accepted"] == sum(KINDS[k][0] is not None for k in named)
        for row, kind in zip(batch, named, strict=True):
            if KINDS[kind][0] is not None:
                verdicts[str(KINDS[kind][0])] += 1
                seconds = datetime.fromisoformat(row["ended_at"]) - datetime.fromisoformat(
                    row["started_at"]
                )
                totals = expected_plays[keys.get(row["sha256"], row["sha256"])]
                totals[0] += 1
                totals[1] += seconds.total_seconds()

    async with env.container.uow() as uow:
        stored = await uow.session.execute(
            select(PlayLogRow.verdict, func.count())
            .where(PlayLogRow.terminal_id == terminal_id)
            .group_by(PlayLogRow.verdict)
        )
        assert {verdict: n for verdict, n in stored.all()} == dict(verdicts)
        assert await uow.monitoring.play_count(terminal_id) == sum(verdicts.values())

    report = await env.client.get(
        "/api/v1/reports/plays",
        params={
            "from": (now - timedelta(hours=2)).isoformat(),
            "to": (now + timedelta(hours=1)).isoformat(),
        },
        headers=admin,
    )
    assert report.status_code == 200, report.text
    got = {i["key"]: i for i in report.json()["items"]}
    assert set(got) == set(expected_plays)
    for key, (plays, seconds) in expected_plays.items():
        assert (got[key]["plays"], got[key]["by_tier"]) == (plays, {"home": plays})
        assert got[key]["seconds"] == pytest.approx(seconds, abs=0.051)  # reported to 0.1 s

    alarms = (
        await env.client.get("/api/v1/alarms", params={"terminal_id": terminal_id}, headers=admin)
    ).json()["items"]
    [alarm] = [a for a in alarms if a["type"] == "unauthorised-content"]
    assert (alarm["severity"], alarm["state"], alarm["count"]) == ("critical", "open", 4)
    first = next(i for i, k in enumerate(kinds) if KINDS[k][0] == "unauthorised")
    assert alarm["evidence"]["sha256"] == rows[first]["sha256"]
    assert alarm["evidence"]["reason"] == KINDS[kinds[first]][1]
    assert alarm["evidence"]["rows"] == sum(
        KINDS[k][0] == "unauthorised" for k in kinds[:PLAYLOG_BATCH_MAX]
    )

    env.clock.advance(days=env.container.settings.playlog_retention_days + 1)
    assert await env.container.monitor.enforce_retention() == sum(verdicts.values())


async def test_retention_cuts_at_the_exact_moment_within_an_hour(env: Env) -> None:
    admin = await env.as_role()
    operator = await env.as_role(Role.OPERATOR, "5101")
    asset = await image_asset(env, operator)
    await scheduled(env, operator, asset["id"], 15000)
    terminal_id, headers = await screen(env, admin)
    now = env.clock.now().astimezone(UTC)
    starts = [now - timedelta(seconds=s) for s in (120, 61, 59)]
    entries = [
        {
            "sha256": asset["sha256"],
            "started_at": start.isoformat(),
            "ended_at": (start + timedelta(seconds=1)).isoformat(),
        }
        for start in starts
    ]
    answer = await env.client.post(
        "/terminal/v1/playlog", json={"entries": entries}, headers=headers
    )
    assert answer.json()["accepted"] == 3
    days = env.container.settings.playlog_retention_days
    env.clock.advance(days=days, seconds=-60)  # the cutoff falls between 61 s and 59 s ago
    monitor = env.container.monitor
    assert await monitor.enforce_retention() == 2
    async with env.container.uow() as uow:
        assert await uow.monitoring.play_count(terminal_id) == 1
    env.clock.advance(seconds=2)
    assert await monitor.enforce_retention() == 1
