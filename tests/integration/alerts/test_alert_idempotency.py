"""``Idempotency-Key`` on alert issue (ADR 0015): a client that re-sends an
alert after a 502 gets the alert its first request issued, never a second.

Counted in the store: alerts, delivery rows (one per targeted screen, the
takeovers) and ``alert.issue`` audit entries.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from lianbo.adapters.db.alert_tables import AlertRow, DeliveryRow
from lianbo.adapters.db.shared_tables import IdempotencyKeyRow
from lianbo.adapters.db.tables import AuditRow
from lianbo.domain.roles import Role
from lianbo.services import audit, idempotency
from tests.integration.alerts.samples import SAMPLES
from tests.integration.alerts.support import (
    CAP,
    alert_body,
    at_sample_day,
    corner_screens,
    fetch,
    issuer,
    screen,
)
from tests.support.env import Env

pytestmark = pytest.mark.integration

ALERTS = "/api/v1/alerts"


async def chengdu_screen(env: Env) -> dict[str, str]:
    """A screen inside the alerts' area (510104): its bearer headers."""
    admin = await env.as_role(Role.ADMIN)
    _, terminal = await screen(env, admin, region="510104", latitude=30.6, longitude=104.0)
    return terminal


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


async def counts(env: Env) -> tuple[int, int, int, int]:
    """(alerts, delivery rows, alert.issue audit entries, kept keys)."""
    async with env.container.uow() as uow:

        async def count(query: Any) -> int:
            return int((await uow.session.execute(query)).scalar_one())

        return (
            await count(select(func.count()).select_from(AlertRow)),
            await count(select(func.count()).select_from(DeliveryRow)),
            await count(select(func.count()).where(AuditRow.action == "alert.issue")),
            await count(select(func.count()).select_from(IdempotencyKeyRow)),
        )


async def test_a_retry_with_the_key_returns_the_first_alert_and_issues_nothing(
    env: Env,
) -> None:
    at_sample_day(env)
    terminal = await chengdu_screen(env)
    headers = await issuer(env)
    first = await env.client.post(ALERTS, json=alert_body(), headers=headers | key("k-1"))
    assert first.status_code == 201, first.text
    assert "Idempotency-Replayed" not in first.headers
    assert await counts(env) == (1, 1, 1, 1)

    again = await env.client.post(ALERTS, json=alert_body(), headers=headers | key("k-1"))
    assert again.status_code == 201, again.text
    assert again.headers["Idempotency-Replayed"] == "true"
    assert again.json() == first.json()  # same alert, same answer
    assert await counts(env) == (1, 1, 1, 1)  # no second alert, takeover or audit entry
    assert [a["id"] for a in await fetch(env, terminal)] == [first.json()["id"]]


async def test_the_same_body_spelt_otherwise_is_the_same_request(env: Env) -> None:
    at_sample_day(env)
    headers = await issuer(env)
    body = alert_body()
    first = await env.client.post(ALERTS, json=body, headers=headers | key("k"))
    reordered = dict(reversed(list(body.items())))
    again = await env.client.post(ALERTS, json=reordered, headers=headers | key("k"))
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotency-Replayed"] == "true"


async def test_the_key_with_another_body_is_refused_and_changes_nothing(env: Env) -> None:
    at_sample_day(env)
    headers = await issuer(env)
    first = await env.client.post(ALERTS, json=alert_body(), headers=headers | key("k-2"))
    assert first.status_code == 201, first.text
    other = alert_body(headline="另一条预警")
    refused = await env.client.post(ALERTS, json=other, headers=headers | key("k-2"))
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert error["field"] == "Idempotency-Key"
    assert error["message"] == "Idempotency-Key was already used with a different request"
    assert await counts(env) == (1, 0, 1, 1)


@pytest.mark.parametrize("bad", ["", '""', "a b", "x" * 256, "ключ"])
async def test_a_malformed_key_is_a_400_naming_the_header(env: Env, bad: str) -> None:
    at_sample_day(env)
    headers = await issuer(env)
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    raw.append((b"Idempotency-Key", bad.encode("utf-8")))
    response = await env.client.post(ALERTS, json=alert_body(), headers=raw)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["field"] == "Idempotency-Key"
    assert await counts(env) == (0, 0, 0, 0)


async def test_a_quoted_key_is_the_key_within(env: Env) -> None:
    """The draft's structured-field form ``"abc"`` and Stripe's bare ``abc``."""
    at_sample_day(env)
    headers = await issuer(env)
    first = await env.client.post(ALERTS, json=alert_body(), headers=headers | key('"abc"'))
    again = await env.client.post(ALERTS, json=alert_body(), headers=headers | key("abc"))
    assert again.headers["Idempotency-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]


async def test_without_a_key_each_request_is_an_alert(env: Env) -> None:
    at_sample_day(env)
    headers = await issuer(env)
    for _ in range(2):
        response = await env.client.post(ALERTS, json=alert_body(), headers=headers)
        assert response.status_code == 201, response.text
    assert await counts(env) == (2, 0, 2, 0)


async def test_keys_belong_to_their_user(env: Env) -> None:
    at_sample_day(env)
    one, two = await issuer(env), await issuer(env)
    first = await env.client.post(ALERTS, json=alert_body(), headers=one | key("shared"))
    second = await env.client.post(ALERTS, json=alert_body(), headers=two | key("shared"))
    assert second.status_code == 201 and "Idempotency-Replayed" not in second.headers
    assert second.json()["id"] != first.json()["id"]


async def test_a_request_that_failed_kept_no_key(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """The key is written in the alert's transaction: a request that dies
    after writing both but before the commit keeps neither, and the retry
    issues the alert."""
    at_sample_day(env)
    await chengdu_screen(env)
    headers = await issuer(env)
    record = audit.record

    async def crash(*args: Any, **kwargs: Any) -> None:
        raise ConnectionResetError("the process died here")

    monkeypatch.setattr(audit, "record", crash)
    with pytest.raises(ConnectionResetError):
        await env.client.post(ALERTS, json=alert_body(), headers=headers | key("k-3"))
    assert await counts(env) == (0, 0, 0, 0)
    monkeypatch.setattr(audit, "record", record)
    retry = await env.client.post(ALERTS, json=alert_body(), headers=headers | key("k-3"))
    assert retry.status_code == 201 and "Idempotency-Replayed" not in retry.headers
    assert await counts(env) == (1, 1, 1, 1)


async def test_a_refused_request_keeps_no_key(env: Env) -> None:
    at_sample_day(env)
    headers = await issuer(env, "5101")
    outside = alert_body(area={"regions": ["500103"]})
    refused = await env.client.post(ALERTS, json=outside, headers=headers | key("k-4"))
    assert refused.status_code == 403
    fixed = await env.client.post(ALERTS, json=alert_body(), headers=headers | key("k-4"))
    assert fixed.status_code == 201 and "Idempotency-Replayed" not in fixed.headers


async def test_a_replay_after_the_alert_ended_still_names_it(env: Env) -> None:
    """A retry must not be judged again (expired on arrival): it asks what
    happened to the first request."""
    at_sample_day(env)
    headers = await issuer(env)
    first = await env.client.post(ALERTS, json=alert_body(), headers=headers | key("k-5"))
    env.clock.current += timedelta(hours=7)  # past the alert's expiry
    again = await env.client.post(ALERTS, json=alert_body(), headers=headers | key("k-5"))
    assert again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]


async def test_keys_expire_and_the_duty_removes_them(env: Env) -> None:
    at_sample_day(env)
    env.container.settings.idempotency_key_hours = 1
    headers = await issuer(env)
    first = await env.client.post(ALERTS, json=alert_body(), headers=headers | key("k-6"))
    env.clock.current += timedelta(hours=1, minutes=1)
    assert await idempotency.prune(env.container) == 1
    assert (await counts(env))[3] == 0
    again = await env.client.post(ALERTS, json=alert_body(), headers=headers | key("k-6"))
    assert again.status_code == 201 and "Idempotency-Replayed" not in again.headers
    assert again.json()["id"] != first.json()["id"]


async def test_an_expired_key_not_yet_removed_is_free(env: Env) -> None:
    at_sample_day(env)
    env.container.settings.idempotency_key_hours = 1
    headers = await issuer(env)
    await env.client.post(ALERTS, json=alert_body(), headers=headers | key("k-7"))
    env.clock.current += timedelta(hours=2)
    other = alert_body(headline="新的预警")  # another body: the old key no longer binds
    again = await env.client.post(ALERTS, json=other, headers=headers | key("k-7"))
    assert again.status_code == 201, again.text
    assert await counts(env) == (2, 0, 2, 1)


async def test_cap_with_a_key_replays_and_a_repeated_identifier_stays_one_alert(
    env: Env,
) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    await corner_screens(env, admin)
    document = SAMPLES["alert_multilang.xml"].encode()
    first = await env.client.post(f"{ALERTS}/cap", content=document, headers=admin | CAP | key("c"))
    assert first.status_code == 201, first.text
    again = await env.client.post(f"{ALERTS}/cap", content=document, headers=admin | CAP | key("c"))
    assert again.status_code == 201 and again.headers["Idempotency-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    # Without a key (or with a new one) CAP's own identity answers: 200, not created.
    plain = await env.client.post(f"{ALERTS}/cap", content=document, headers=admin | CAP)
    assert plain.status_code == 200 and plain.json()["created"] is False
    fresh = await env.client.post(f"{ALERTS}/cap", content=document, headers=admin | CAP | key("d"))
    assert fresh.status_code == 200 and fresh.json()["id"] == first.json()["id"]
    replayed = await env.client.post(
        f"{ALERTS}/cap", content=document, headers=admin | CAP | key("d")
    )
    assert replayed.status_code == 200 and replayed.headers["Idempotency-Replayed"] == "true"
    other = SAMPLES["exercise_restricted.xml"].encode()
    refused = await env.client.post(f"{ALERTS}/cap", content=other, headers=admin | CAP | key("c"))
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "idempotency_key_reused"
    assert (await counts(env))[0] == 1


async def test_the_document_describes_the_header_and_the_replay(env: Env) -> None:
    document = (await env.client.get("/openapi.json")).json()
    for path in (ALERTS, f"{ALERTS}/cap"):
        operation = document["paths"][path]["post"]
        [parameter] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert parameter["in"] == "header" and parameter["required"] is False
        assert parameter["schema"]["maxLength"] == 255
        for status in ("200", "201"):
            assert "Idempotency-Replayed" in operation["responses"][status]["headers"]
        assert {"400", "409", "422"} <= set(operation["responses"])


async def test_a_double_submit_at_once_issues_one_alert(env: Env) -> None:
    """Two requests with one key in flight together in one process (a double
    click): whichever keeps the key first issues, the other answers with it."""
    at_sample_day(env)
    await chengdu_screen(env)
    headers = await issuer(env) | key("double")
    answers = await asyncio.gather(
        *(env.client.post(ALERTS, json=alert_body(), headers=headers) for _ in range(2))
    )
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert sorted(a.headers.get("Idempotency-Replayed", "") for a in answers) == ["", "true"]
    assert await counts(env) == (1, 1, 1, 1)
