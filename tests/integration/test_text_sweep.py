"""Every string field of every request model refuses a NUL (issue 13 item 1).

The models and their strings come from the app's OpenAPI document
(``tests/support/sweep.py``), so a new model or field is swept as soon as a
route takes it. Each body is posted once with a NUL in one string, on
SQLite and PostgreSQL: a 422 naming that field, never a 500, nothing stored.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lianbo.adapters.db.tables import Base
from lianbo.api.app import create_app
from tests.support.env import Env
from tests.support.sweep import Sweep

pytestmark = pytest.mark.integration

NUL = "a\u0000b"


async def _row_counts(env: Env) -> dict[str, int]:
    counts = {}
    async with env.container.uow() as uow:
        for table in Base.metadata.sorted_tables:
            counts[table.name] = (
                await uow.session.execute(select(func.count()).select_from(table))
            ).scalar_one()
    return counts


async def _terminal_headers(env: Env, admin: dict[str, str]) -> dict[str, str]:
    created = await env.terminal(admin)
    enrolled = await env.client.post("/terminal/v1/enrol", json={"code": created["enrolment_code"]})
    assert enrolled.status_code == 200, enrolled.text
    return {"Authorization": f"Bearer {enrolled.json()['token']}"}


async def test_a_nul_in_any_string_of_any_request_body_is_a_422_naming_it(env: Env) -> None:
    admin = await env.as_role()
    terminal = await _terminal_headers(env, admin)
    openapi = create_app(container=env.container).openapi()
    cases = list(Sweep(openapi, NUL).cases())
    assert len(cases) > 40  # the sweep found the models (a broken walk finds none)
    before = await _row_counts(env)
    wrong = []
    for case in cases:
        url = case.path.replace("{", "").replace("}", "")  # {id} -> id: any value will do
        headers = terminal if case.path.startswith("/terminal/") else admin
        response = await env.client.request(case.method, url, json=case.body, headers=headers)
        error = response.json().get("error", {}) if response.content else {}
        if response.status_code != 422 or not str(error.get("field", "")).startswith(case.field):
            wrong.append(f"{case}: {response.status_code} {response.text[:200]}")
    assert not wrong, "\n".join(wrong)
    assert await _row_counts(env) == before


async def test_a_nul_in_any_string_parameter_of_any_route_is_a_422_naming_it(env: Env) -> None:
    admin = await env.as_role()
    terminal = await _terminal_headers(env, admin)
    openapi = create_app(container=env.container).openapi()
    cases = list(Sweep(openapi, NUL).parameters())
    assert len(cases) > 20
    before = await _row_counts(env)
    wrong = []
    for method, url, query, name in cases:
        headers = terminal if url.startswith("/terminal/") else admin
        response = await env.client.request(method, url, params=query, headers=headers)
        error = response.json().get("error", {}) if response.content else {}
        named = method == "head" or error.get("field") == name  # HEAD answers no body
        if response.status_code != 422 or not named:
            wrong.append(
                f"{method.upper()} {url} {name}: {response.status_code} {response.text[:200]}"
            )
    assert not wrong, "\n".join(wrong)
    assert await _row_counts(env) == before
