"""The console's alert composer sends an idempotency key made for each
render of the form (ADR 0015): a double submit, or the same form sent again
after a 502, issues one alert."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest

from lianbo.domain.roles import Role
from tests.integration.alerts.support import at_sample_day
from tests.integration.alerts.test_alert_idempotency import counts
from tests.support.env import PASSWORD, Env

pytestmark = pytest.mark.integration

KEY = re.compile(r'name="idempotency_key" value="([0-9a-f]{32})"')


async def signed_in_issuer(env: Env) -> str:
    """Log the console in as an issuer; the session's CSRF token."""
    user = await env.user(Role.ISSUER, "51")
    answer = await env.client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "next": "/"}
    )
    assert answer.status_code == 303, answer.text
    token = env.client.cookies["lianbo_session"]
    return hashlib.sha256(("csrf:" + token).encode()).hexdigest()


async def rendered_key(env: Env) -> str:
    page = await env.client.get("/alerts/new")
    assert page.status_code == 200, page.text
    found = KEY.search(page.text)
    assert found is not None
    return found.group(1)


def form(csrf: str, key: str, **values: Any) -> dict[str, Any]:
    return {
        "csrf_token": csrf,
        "idempotency_key": key,
        "severity": "Extreme",
        "status": "Actual",
        "urgency": "Immediate",
        "event": "地震",
        "headline": "地震预警",
        "description": "预计30秒后有强烈震感。",
        "expires_at": "2026-07-10T21:00",  # Beijing time, 6 h after the sample day's 15:00
        "region": "510104",
    } | values


async def test_each_render_of_the_form_has_its_own_key(env: Env) -> None:
    at_sample_day(env)
    await signed_in_issuer(env)
    assert await rendered_key(env) != await rendered_key(env)


async def test_the_same_form_sent_twice_issues_one_alert(env: Env) -> None:
    at_sample_day(env)
    csrf = await signed_in_issuer(env)
    key = await rendered_key(env)
    first = await env.client.post("/alerts/new", data=form(csrf, key))
    assert first.status_code == 303, first.text
    again = await env.client.post("/alerts/new", data=form(csrf, key))
    assert again.status_code == 303, again.text
    assert again.headers["location"] == first.headers["location"]
    assert (await counts(env))[0] == 1


async def test_the_key_of_a_sent_form_with_other_text_is_refused_in_chinese(env: Env) -> None:
    at_sample_day(env)
    csrf = await signed_in_issuer(env)
    key = await rendered_key(env)
    assert (await env.client.post("/alerts/new", data=form(csrf, key))).status_code == 303
    other = await env.client.post("/alerts/new", data=form(csrf, key, headline="改过的标题"))
    assert other.status_code == 422, other.text
    assert "此表单已提交过" in other.text
    assert KEY.search(other.text) is not None  # the page comes back with a new key
    assert (await counts(env))[0] == 1
