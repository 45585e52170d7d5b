"""POST /terminal/v1/playlog: checked rows, named rejects, alarms, rollups, reports."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import pytest

from lianbo.domain.roles import Role
from lianbo.protocol.reports import PLAYLOG_BATCH_MAX
from tests.integration.monitoring.helpers import image_asset, scheduled, screen, uploaded
from tests.support.content import png
from tests.support.env import Env

pytestmark = pytest.mark.integration


def row(
    sha256: str, start: datetime, seconds: float = 15, schedule_id: str | None = None
) -> dict[str, Any]:
    return {
        "sha256": sha256,
        "schedule_id": schedule_id,
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(seconds=seconds)).isoformat(),
    }


async def post(env: Env, headers: dict[str, str], entries: list[Any]) -> Any:
    return await env.client.post("/terminal/v1/playlog", json={"entries": entries}, headers=headers)


async def stored_rows(env: Env, terminal_id: str) -> int:
    async with env.container.uow() as uow:
        return await uow.monitoring.play_count(terminal_id)


async def test_scheduled_plays_are_kept_and_rolled_up(env: Env) -> None:
    admin = await env.as_role()
    operator = await env.as_role(Role.OPERATOR, "5101")
    asset = await image_asset(env, operator)
    schedule_id = await scheduled(env, operator, asset["id"], 15000)
    terminal_id, headers = await screen(env, admin)
    now = env.clock.now()
    entries = [
        row(asset["sha256"], now - timedelta(seconds=15 * k), 15, schedule_id) for k in range(1, 5)
    ]
    answer = await post(env, headers, entries)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": 4, "rejected": [], "unauthorised": []}
    assert await stored_rows(env, terminal_id) == 4
    report = await env.client.get(
        "/api/v1/reports/plays",
        params={
            "from": (now - timedelta(hours=3)).isoformat(),
            "to": (now + timedelta(hours=1)).isoformat(),
        },
        headers=admin,
    )
    assert report.status_code == 200, report.text
    [item] = report.json()["items"]
    assert (item["key"], item["plays"], item["seconds"]) == (asset["id"], 4, 60.0)
    assert item["by_tier"] == {"outdoor": 4}
    by_region = await env.client.get(
        "/api/v1/reports/plays",
        params={
            "group_by": "region",
            "region": "5101",
            "from": (now - timedelta(hours=3)).isoformat(),
        },
        headers=admin,
    )
    assert [(i["key"], i["plays"]) for i in by_region.json()["items"]] == [("510107", 4)]
    as_csv = await env.client.get(
        "/api/v1/reports/plays",
        params={"from": (now - timedelta(hours=3)).isoformat()},
        headers=admin | {"Accept": "text/csv"},
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(as_csv.text)))
    assert lines[0] == ["asset", "name", "plays", "seconds"] and lines[1][2] == "4"
    other = await env.as_role(Role.VIEWER, "510104")  # another county sees none of it
    elsewhere = await env.client.get(
        "/api/v1/reports/plays",
        params={"from": (now - timedelta(hours=3)).isoformat()},
        headers=other,
    )
    assert elsewhere.json()["items"] == []
    outside = await env.client.get(
        "/api/v1/reports/plays", params={"region": "5101"}, headers=other
    )
    assert outside.status_code == 404
    alarms = (await env.client.get("/api/v1/alarms", headers=admin)).json()
    assert alarms["items"] == []


async def test_an_unscheduled_asset_raises_unauthorised_content(env: Env) -> None:
    admin = await env.as_role()
    operator = await env.as_role(Role.OPERATOR, "5101")
    asset = await image_asset(env, operator)
    await scheduled(env, operator, asset["id"], 15000)
    elsewhere = await uploaded(env, operator, png(), "别处.png")  # approved, never scheduled here
    draft = await uploaded(env, operator, png(), "草稿.png", approved=False)
    terminal_id, headers = await screen(env, admin, tier="home")
    now = env.clock.now() - timedelta(minutes=5)
    answer = await post(
        env,
        headers,
        [
            row(asset["sha256"], now),
            row(elsewhere["sha256"], now + timedelta(seconds=15)),
            row(draft["sha256"], now + timedelta(seconds=30)),
            row("f" * 64, now + timedelta(seconds=45)),
        ],
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["accepted"] == 4
    assert {(u["index"], u["reason"]) for u in body["unauthorised"]} == {
        (1, "asset not in the manifest at that time"),
        (2, "asset not approved"),
        (3, "unknown sha256"),
    }
    [alarm] = (
        await env.client.get("/api/v1/alarms", params={"terminal_id": terminal_id}, headers=admin)
    ).json()["items"]
    assert (alarm["type"], alarm["severity"], alarm["state"]) == (
        "unauthorised-content",
        "critical",
        "open",
    )
    assert alarm["evidence"]["sha256"] == elsewhere["sha256"]
    assert alarm["evidence"]["rows"] == 3


async def test_rows_in_the_future_or_far_past_are_rejected_and_named(env: Env) -> None:
    admin = await env.as_role()
    operator = await env.as_role(Role.OPERATOR, "5101")
    asset = await image_asset(env, operator)
    await scheduled(env, operator, asset["id"], 15000)
    terminal_id, headers = await screen(env, admin)
    now = env.clock.now()
    good = row(asset["sha256"], now - timedelta(minutes=2))
    answer = await post(
        env,
        headers,
        [
            row(asset["sha256"], now + timedelta(hours=1)),
            good,
            row(asset["sha256"], now - timedelta(days=30)),
            {"sha256": "nope", "started_at": "x", "ended_at": "y"},
            {**good, "started_at": now.replace(tzinfo=None).isoformat()},
            "not an object",
        ],
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["accepted"] == 1
    reasons = {r["index"]: r["reason"] for r in body["rejected"]}
    assert reasons[0] == "in the future" and reasons[2] == "older than 7 days"
    assert set(reasons) == {0, 2, 3, 4, 5}
    assert reasons[3].startswith("malformed") and "offset" in reasons[4]
    assert await stored_rows(env, terminal_id) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[1, 2]", 400),
        (b'{"entries": 3}', 400),
        (b'{"entries": [' + b",".join([b"{}"] * (PLAYLOG_BATCH_MAX + 1)) + b"]}", 413),
        (b'{"entries": [], "pad": "' + b"x" * (1024 * 1024) + b'"}', 413),
    ],
    ids=["text", "list", "entries-not-list", "too-many", "over-1-MB"],
)
async def test_a_bad_play_log_is_refused_and_stores_nothing(
    env: Env, body: bytes, status: int
) -> None:
    admin = await env.as_role()
    terminal_id, headers = await screen(env, admin)
    answer = await env.client.post("/terminal/v1/playlog", content=body, headers=headers)
    assert answer.status_code == status and "error" in answer.json()
    assert await stored_rows(env, terminal_id) == 0


async def test_a_play_log_speaks_only_for_its_own_terminal(env: Env) -> None:
    admin = await env.as_role()
    _, headers = await screen(env, admin)
    other_id, _ = await screen(env, admin)
    answer = await env.client.post(
        "/terminal/v1/playlog", json={"terminal_id": other_id, "entries": []}, headers=headers
    )
    assert answer.status_code == 403
    anonymous = await env.client.post("/terminal/v1/playlog", json={"entries": []})
    assert anonymous.status_code == 401


async def test_scheduled_content_missing_from_its_slot_is_off_schedule(env: Env) -> None:
    admin = await env.as_role()
    operator = await env.as_role(Role.OPERATOR, "5101")
    asset = await image_asset(env, operator)
    await scheduled(env, operator, asset["id"], 15000)
    filler = await uploaded(env, operator, png(), "填充.png")
    terminal_id, headers = await screen(env, admin)
    for _ in range(2):  # two batches 30 s apart: the alarm's hold-off
        now = env.clock.now()
        # The screen showed something else for the last three minutes.
        entries = [
            row(filler["sha256"], now - timedelta(seconds=180 - 60 * k), 60) for k in range(3)
        ]
        assert (await post(env, headers, entries)).status_code == 200
        env.clock.advance(seconds=31)
    found = {
        a["type"]: a
        for a in (
            await env.client.get(
                "/api/v1/alarms", params={"terminal_id": terminal_id}, headers=admin
            )
        ).json()["items"]
    }
    assert "off-schedule" in found
    assert found["off-schedule"]["evidence"]["missed"][0]["schedule_id"]


async def test_retention_deletes_old_rows(env: Env) -> None:
    admin = await env.as_role()
    operator = await env.as_role(Role.OPERATOR, "5101")
    asset = await image_asset(env, operator)
    await scheduled(env, operator, asset["id"], 15000)
    terminal_id, headers = await screen(env, admin)
    await post(env, headers, [row(asset["sha256"], env.clock.now() - timedelta(minutes=1))])
    monitor = env.container.monitor
    assert await monitor.enforce_retention() == 0
    env.clock.advance(days=181)
    assert await monitor.enforce_retention() == 1
    assert await stored_rows(env, terminal_id) == 0


async def test_plays_by_region_carry_the_region_names_of_the_tree(env: Env) -> None:
    admin = await env.as_role()
    operator = await env.as_role(Role.OPERATOR, "5101")
    asset = await image_asset(env, operator)
    schedule_id = await scheduled(env, operator, asset["id"], 15000)
    _terminal_id, headers = await screen(env, admin)  # in 510107, 武侯区
    now = env.clock.now()
    answer = await post(
        env, headers, [row(asset["sha256"], now - timedelta(seconds=30), 15, schedule_id)]
    )
    assert answer.json()["accepted"] == 1
    since = (now - timedelta(hours=3)).isoformat()
    counties = await env.client.get(
        "/api/v1/reports/plays",
        params={"group_by": "region", "region": "5101", "from": since},
        headers=admin,
    )
    [county] = counties.json()["items"]
    assert (county["key"], county["name"], county["full_name"]) == (
        "510107",
        "武侯区",
        "四川省 成都市 武侯区",
    )
    cities = await env.client.get(
        "/api/v1/reports/plays", params={"group_by": "region", "from": since}, headers=admin
    )
    [city] = cities.json()["items"]
    assert (city["key"], city["name"]) == ("5101", "成都市")
    as_csv = await env.client.get(
        "/api/v1/reports/plays",
        params={"group_by": "region", "from": since, "format": "csv"},
        headers=admin,
    )
    assert list(csv.reader(io.StringIO(as_csv.text)))[1][:2] == ["5101", "成都市"]
