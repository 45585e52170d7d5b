"""Upstream CAP feeds end to end (issue 16 §3), against a feed served by the
test itself: polled Atom with inline and linked entries, signed and
unsigned, CAP 1.1 and 1.2, an Update of an unseen original; rules that
issue at once or queue; geocode mapping; outside the jurisdiction; pushes
with a feed token; and feeds that fail in every way a feed can."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from lianbo.domain.roles import Role
from lianbo.services import cap_feeds
from tests.integration.alerts.feed_server import FeedServer, Page, atom, entry
from tests.integration.alerts.samples import AREA_CHENGDU, _wrap, head, info
from tests.integration.alerts.support import CAP, SAMPLE_DAY, at_sample_day, corner_screens
from tests.support.cap_signing import Identity, sign
from tests.support.console import signed_in
from tests.support.env import Env
from tests.support.waiting import HANG_GUARD_S

pytestmark = pytest.mark.integration

REAL = Path(__file__).parent / "real"
FEEDS = "/api/v1/cap-feeds"
UNSEEN = "cma-sichuan@gov.cn,SC-2026-0709-999,2026-07-09T10:00:00+08:00"
AREA_5106 = (
    "<area><areaDesc>德阳</areaDesc>"
    "<geocode><valueName>GB/T 2260</valueName><value>510600</value></geocode></area>"
)
AREA_SAME = (
    "<area><areaDesc>x</areaDesc>"
    "<geocode><valueName>SAME</valueName><value>006113</value></geocode></area>"
)


@pytest.fixture
def source() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.close()


def message(
    identifier: str,
    severity: str = "Extreme",
    areas: str = AREA_CHENGDU,
    extra: str = "",
    msg_type: str = "Alert",
) -> bytes:
    return _wrap(
        head(identifier, msg_type=msg_type, extra=extra), info(severity=severity, areas=areas)
    ).encode()


async def subscribe(env: Env, admin: dict[str, str], **fields: Any) -> Any:
    body = {"name": "省预警中心", "kind": "poll", "severities": ["Extreme"]} | fields
    response = await env.client.post(FEEDS, json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


async def feed_page(env: Env, admin: dict[str, str], feed_id: str) -> Any:
    response = await env.client.get(f"{FEEDS}/{feed_id}", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


async def poll(env: Env, timeout_s: float = HANG_GUARD_S) -> int:
    """One round of the leader's duty. The client waits as long as a hung
    test would (a busy machine must not turn a slow answer into a fault);
    only the test of a source that never answers passes a short timeout."""
    async with httpx.AsyncClient(timeout=timeout_s) as client:
        return await cap_feeds.poll_due(env.container, client)


async def test_a_polled_feed_issues_queues_and_follows_chains_then_asks_with_its_etag(
    env: Env, source: FeedServer
) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    await corner_screens(env, admin)
    cma = Identity.make("cma-sichuan.gov.cn", valid_from=SAMPLE_DAY - timedelta(days=30))
    trust = {"certificates": [cma.cert_pem], "must_be_signed": False}
    await env.client.put("/api/v1/cap-senders/cma-sichuan@gov.cn", json=trust, headers=admin)
    signed = sign(message("FEED-1"), cma)  # inline, signed, Extreme: issued at once
    source.pages["/cap/nws.xml"] = Page(
        (REAL / "nws_flash_flood_watch_1_1.xml").read_bytes(), "application/cap+xml"
    )
    update = message("FEED-3", msg_type="Update", extra=f"<references>{UNSEEN}</references>")
    source.pages["/feed.atom"] = Page(
        atom(
            entry("urn:3", inline=update),  # newest first, as feeds list them
            entry("urn:2", link=source.url("/cap/nws.xml")),  # CAP 1.1, Severe: queued
            entry("urn:1", inline=signed),
        )
    )
    made = await subscribe(env, admin, url=source.url("/feed.atom"))
    assert await poll(env) == 1
    page = await feed_page(env, admin, made["id"])
    assert page["counts"] == {"issued": 2, "queued": 1} and page["last_error"] is None
    by_id = {m["identifier"]: m for m in page["messages"]}
    first = (
        await env.client.get(f"/api/v1/alerts/{by_id['FEED-1']['alert_id']}", headers=admin)
    ).json()
    assert first["state"] == "active" and first["issuer"] == "feed:省预警中心"
    assert first["cap_signature"]["state"] == "verified"
    nws = by_id["NOAA-NWS-ALERTS-MT20260710040700TFXFlashFloodWatchTFX20260710180000MT"]
    queued = (await env.client.get(f"/api/v1/alerts/{nws['alert_id']}", headers=admin)).json()
    assert queued["state"] == "pending-confirmation"
    assert "cap_1_1" in {w["code"] for w in queued["warnings"]}
    third = (
        await env.client.get(f"/api/v1/alerts/{by_id['FEED-3']['alert_id']}", headers=admin)
    ).json()
    assert third["state"] == "active" and "update_unknown" in {w["code"] for w in third["warnings"]}
    # one click by an issuer sends the queued one
    issuer = await env.as_role(Role.ISSUER)
    confirmed = await env.client.post(f"/api/v1/alerts/{nws['alert_id']}/confirm", headers=issuer)
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "active"
    # the next poll asks with the ETag and takes nothing twice
    env.clock.current += timedelta(seconds=31)
    assert await poll(env) == 1
    assert source.requests[-1][0] == "/feed.atom" and source.requests[-1][1] is not None
    assert (await feed_page(env, admin, made["id"]))["counts"] == {"issued": 2, "queued": 1}
    # a new entry: only it is taken
    source.pages["/feed.atom"] = Page(
        atom(entry("urn:4", inline=message("FEED-4")), entry("urn:1", inline=signed))
    )
    env.clock.current += timedelta(seconds=31)
    await poll(env)
    assert (await feed_page(env, admin, made["id"]))["counts"] == {"issued": 3, "queued": 1}


async def test_geocodes_are_mapped_and_messages_outside_are_kept_not_sent(
    env: Env, source: FeedServer
) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN, "5101")
    await corner_screens(env, await env.as_role(Role.ADMIN))
    source.pages["/feed.atom"] = Page(
        atom(
            entry("urn:b", inline=message("OUT-1", areas=AREA_5106)),
            entry("urn:a", inline=message("MAP-1", areas=AREA_SAME)),
        )
    )
    made = await subscribe(
        env, admin, url=source.url("/feed.atom"), geocodes={"SAME": {"006113": "510104"}}
    )
    assert made["region"] == "5101"
    await poll(env)
    page = await feed_page(env, admin, made["id"])
    assert page["counts"] == {"issued": 1, "outside": 1}
    by_id = {m["identifier"]: m for m in page["messages"]}
    assert by_id["OUT-1"]["alert_id"] is None and "outside jurisdiction" in by_id["OUT-1"]["detail"]
    mapped = (
        await env.client.get(f"/api/v1/alerts/{by_id['MAP-1']['alert_id']}", headers=admin)
    ).json()
    assert mapped["area"]["regions"] == ["510104"] and mapped["topics"] == ["510104"]


async def test_a_feed_that_fails_is_counted_backs_off_and_never_stops_another(
    env: Env, source: FeedServer
) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    await corner_screens(env, admin)
    bomb = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><feed>&lol;</feed>'
    source.pages.update(
        {
            "/html": Page(b"<!DOCTYPE html><html><body>maintenance</body></html>", "text/html"),
            "/broken": Page(
                b"<feed xmlns='http://www.w3.org/2005/Atom'><entry>", "application/atom+xml"
            ),
            "/error": Page(b"oops", "text/plain", status=500),
            "/bomb": Page(bomb),
            "/huge": Page(b"<feed>" + b" " * (11 * 1024 * 1024) + b"</feed>"),
            "/good": Page(atom(entry("urn:g", inline=message("GOOD-1")))),
        }
    )
    names = ["html", "broken", "error", "bomb", "huge", "missing", "good"]
    made = {n: await subscribe(env, admin, name=n, url=source.url(f"/{n}")) for n in names}
    assert await poll(env) == len(names)
    pages = {n: await feed_page(env, admin, made[n]["id"]) for n in names}
    assert pages["good"]["counts"] == {"issued": 1} and pages["good"]["failures"] == 0
    for name in names[:-1]:
        page = pages[name]
        assert page["counts"] == {"failed": 1}, name
        assert page["failures"] == 1 and page["last_error"], name
    codes = {n: pages[n]["last_error_code"] for n in names[:-1]}
    assert codes == {
        "html": "html",
        "broken": "bad_xml",
        "error": "http",
        "bomb": "dtd",
        "huge": "too_large",
        "missing": "http",
    }
    assert pages["missing"]["last_error"] == "The server answered HTTP 404"
    assert pages["missing"]["messages"][0]["detail"] == "The server answered HTTP 404"
    # backed off: not due again after the interval, the good one is
    env.clock.current += timedelta(seconds=31)
    async with env.container.uow() as uow:
        due = {f.name for f in await uow.cap_feeds.due(env.clock.now())}
    assert due == {"good"}


async def test_a_source_that_never_answers_times_out_and_is_counted(
    env: Env, source: FeedServer
) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    source.pages["/hang"] = Page(b"", hang=True)  # answers nothing until the test ends
    made = await subscribe(env, admin, name="hang", url=source.url("/hang"))
    assert await poll(env, timeout_s=0.5) == 1
    page = await feed_page(env, admin, made["id"])
    assert page["last_error_code"] == "timeout" and page["counts"] == {"failed": 1}


async def test_a_pushing_feed_posts_with_its_token_and_its_rules_decide(env: Env) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    await corner_screens(env, admin)
    made = await subscribe(
        env, admin, kind="push", name="市预警中心", severities=["Extreme", "Severe"]
    )
    token = made["token"]
    assert token.startswith("lbfeed_") and made["url"] is None
    pushing = {"Authorization": f"Bearer {token}"} | CAP
    first = await env.client.post("/api/v1/alerts/cap", content=message("PUSH-1"), headers=pushing)
    assert first.status_code == 201, first.text
    assert first.json()["outcome"] == "issued" and first.json()["alert"]["state"] == "active"
    again = await env.client.post("/api/v1/alerts/cap", content=message("PUSH-1"), headers=pushing)
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    moderate = await env.client.post(
        "/api/v1/alerts/cap", content=message("PUSH-2", "Moderate"), headers=pushing
    )
    assert moderate.status_code == 201 and moderate.json()["outcome"] == "queued"
    bad = await env.client.post("/api/v1/alerts/cap", content=b"<alert/>", headers=pushing)
    assert bad.status_code == 422
    wrong = {"Authorization": "Bearer lbfeed_nope"} | CAP
    assert (
        await env.client.post("/api/v1/alerts/cap", content=message("PUSH-3"), headers=wrong)
    ).status_code == 401
    page = await feed_page(env, admin, made["id"])
    assert page["counts"] == {"issued": 1, "duplicate": 1, "queued": 1, "refused": 1}
    assert "token" not in page or page["token"] is None
    listed = (await env.client.get(FEEDS, headers=admin)).json()
    assert [f["name"] for f in listed] == ["市预警中心"]


async def test_subscribing_is_for_admins_checked_and_audited(env: Env) -> None:
    admin = await env.as_role(Role.ADMIN)
    issuer = await env.as_role(Role.ISSUER)
    body = {"name": "x", "kind": "poll", "url": "https://feeds.example/cap.atom"}
    assert (await env.client.post(FEEDS, json=body, headers=issuer)).status_code == 403
    for bad, field in (
        ({"url": "ftp://x"}, "url"),
        ({"kind": "rss"}, "kind"),
        ({"interval_s": 1}, "interval_s"),
        ({"severities": ["Huge"]}, "severities[0]"),
        ({"geocodes": {"SAME": {"006113": "abc"}}}, "geocodes.SAME.006113"),
    ):
        answer = await env.client.post(FEEDS, json=body | bad, headers=admin)
        assert answer.status_code == 400 and answer.json()["error"]["field"] == field, answer.text
    outside = await env.client.post(FEEDS, json=body | {"region": "11"}, headers=admin)
    assert outside.status_code == 403
    made = (await env.client.post(FEEDS, json=body, headers=admin)).json()
    assert (await env.client.post(FEEDS, json=body, headers=admin)).status_code == 409
    changed = await env.client.put(
        f"{FEEDS}/{made['id']}", json=body | {"interval_s": 60}, headers=admin
    )
    assert changed.status_code == 200 and changed.json()["interval_s"] == 60
    assert (await env.client.delete(f"{FEEDS}/{made['id']}", headers=admin)).status_code == 204
    audit = (await env.client.get("/api/v1/audit", headers=admin)).json()["items"]
    acts = {e["action"] for e in audit}
    assert {"cap_feed.create", "cap_feed.change", "cap_feed.delete"} <= acts


async def test_the_console_shows_each_feeds_state_and_each_alerts_source_and_signature(
    env: Env, source: FeedServer
) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    await corner_screens(env, admin)
    source.pages["/good"] = Page(atom(entry("urn:c", inline=message("CONSOLE-1"))))
    good = await subscribe(env, admin, name="好源", url=source.url("/good"))
    await subscribe(env, admin, name="坏源", url=source.url("/gone"))
    await poll(env)
    alert_id = (await feed_page(env, admin, good["id"]))["messages"][0]["alert_id"]
    await signed_in(env)
    page = await env.client.get("/alerts/feeds?lang=en")
    assert page.status_code == 200
    good_row = page.text.split('data-feed="好源"')[1].split("</tr>")[0]
    bad_row = page.text.split('data-feed="坏源"')[1].split("</tr>")[0]
    assert 'data-count="issued">1<' in good_row and "data-feed-error" not in good_row
    assert 'data-count="failed">1<' in bad_row and "HTTP 404" in bad_row
    board = await env.client.get(f"/alerts/{alert_id}?lang=en")
    assert board.status_code == 200
    assert 'data-cap-signature="unverified"' in board.text and "feed:好源" in board.text
    await signed_in(env, Role.VIEWER)
    assert (await env.client.get("/alerts/feeds")).status_code == 403
