"""The console's signing keys page: admins list, rotate and retire keys."""

from __future__ import annotations

import pytest

from lianbo.domain.roles import Role
from tests.support.console import signed_in
from tests.support.env import Env

pytestmark = pytest.mark.integration


async def test_an_admin_rotates_and_retires_keys_in_the_console(env: Env) -> None:
    csrf = await signed_in(env)
    old = await env.container.keys.ensure()
    page = await env.client.get("/keys?lang=en")
    assert page.status_code == 200 and 'data-serial="1"' in page.text
    assert f'data-key-id="{old}" data-state="active"' in page.text

    rotated = await env.client.post("/keys/rotate", data={"csrf_token": csrf})
    assert rotated.status_code == 303
    new = await env.container.keys.ensure()
    assert new != old and rotated.headers["location"] == f"/keys?rotated={new}"
    page = await env.client.get(rotated.headers["location"])
    assert f'data-key-id="{old}" data-state="trusted"' in page.text

    refused = await env.client.post(f"/keys/{new}/retire", data={"csrf_token": csrf})
    assert refused.status_code == 409 and "active" in refused.text
    retired = await env.client.post(f"/keys/{old}/retire", data={"csrf_token": csrf})
    assert retired.status_code == 303
    page = await env.client.get("/keys")
    assert f'data-key-id="{old}" data-state="retired"' in page.text
    assert 'data-serial="3"' in page.text


async def test_the_keys_page_is_for_admins_only(env: Env) -> None:
    csrf = await signed_in(env, Role.OPERATOR)
    assert (await env.client.get("/keys")).status_code == 403
    answer = await env.client.post("/keys/rotate", data={"csrf_token": csrf})
    assert answer.status_code == 403
    assert (await env.container.keys.current_set()).serial == 1
