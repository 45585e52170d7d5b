"""A time in a query string is RFC 3339 text, never a bare number."""

import pytest

from tests.support.env import Env

pytestmark = pytest.mark.integration

TIMED = [
    "/api/v1/audit?until={}",
    "/api/v1/audit?since={}",
    "/api/v1/schedules?until={}",
    "/api/v1/reports/plays?from={}",
    "/api/v1/reports/uptime?to={}",
    "/api/v1/terminals/{id}/timeline?at={}",
]


@pytest.mark.parametrize("number", ["0.5", "1700000000", "-1"])
async def test_a_number_is_not_a_time(env: Env, number: str) -> None:
    admin = await env.as_role()
    terminal = await env.terminal(admin)
    for template in TIMED:
        url = template.replace("{id}", terminal["id"]).format(number)
        response = await env.client.get(url, headers=admin)
        assert response.status_code == 422, (url, response.text)
        error = response.json()["error"]
        assert error["code"] == "validation" and "RFC 3339" in error["message"]


async def test_rfc_3339_times_are_read(env: Env) -> None:
    admin = await env.as_role()
    for since in ("2026-12-01T08:00:00+08:00", "2026-12-01T00:00:00Z", "2026-12-01"):
        answer = await env.client.get("/api/v1/audit", params={"since": since}, headers=admin)
        assert answer.status_code == 200, (since, answer.text)
    # Without an offset the audit reads UTC, as before.
    plain = {"until": "2026-12-07T00:00"}
    assert (await env.client.get("/api/v1/audit", params=plain, headers=admin)).status_code == 200
