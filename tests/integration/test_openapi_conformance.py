"""A bounded schemathesis run over /openapi.json, on both stores.

Every operation in the document is called with generated requests, valid
and invalid, as an admin (a screen's token on /terminal/v1) and without
credentials. The run fails on any 5xx and on any answer the document does
not describe (status code, content type, headers, body). Seeds are fixed
(``derandomize``) and the budget is small, so the run is the same every time
and fits CI.

Not covered: ``WS /terminal/v1/ws`` (not an OpenAPI operation; see
tests/integration/fleet). NUL characters are not generated for now: the
edge rule for control characters (issue 13, item 1) lands separately;
drop ``allow_x00=False`` in ``tests/support/fuzz.py`` once it has.
"""

from __future__ import annotations

import asyncio

import pytest

from lianbo.domain.roles import Role
from tests.support import fuzz
from tests.support.env import Env

pytestmark = pytest.mark.integration

AS_ADMIN = fuzz.Budget(positive=10, negative=10, coverage=True)
ANONYMOUS = fuzz.Budget(positive=3, negative=0)
# Each login checks a password hash (slow on purpose); the first answers
# cover it, the rest would only meet the rate limit.
SLOW = {label: fuzz.Budget(positive=4, negative=4) for label in ("POST /api/v1/auth/token",)}


async def _credentials(env: Env) -> dict[str, dict[str, str]]:
    admin = await env.as_role(Role.ADMIN, "51")
    leaving = await env.as_role(Role.ADMIN, "51")  # logout revokes it, once
    created = await env.terminal(admin)
    enrolled = await env.client.post("/terminal/v1/enrol", json={"code": created["enrolment_code"]})
    screen = {"Authorization": f"Bearer {enrolled.json()['token']}"}
    return {"/api/v1/auth/logout": leaving, "/terminal/v1/": screen, "/api/v1/": admin}


def _report(failures: dict[str, str]) -> str:
    return "\n\n".join(f"=== {label}\n{text}" for label, text in sorted(failures.items()))


async def test_every_answer_is_in_the_document(env: Env) -> None:
    document = (await env.client.get("/openapi.json")).json()
    schema = fuzz.load(document)
    session = fuzz.session_for(asyncio.get_running_loop(), env.client)
    runs = [
        fuzz.Run(schema, session, await _credentials(env), AS_ADMIN, SLOW),
        fuzz.Run(schema, session, {}, ANONYMOUS),
    ]
    failures: dict[str, str] = {}
    for run in runs:
        failures |= await asyncio.to_thread(run.all)
    assert not failures, _report(failures)
