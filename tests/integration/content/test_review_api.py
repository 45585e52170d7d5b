"""Three-level review over HTTP: levels, separation of reviewers, audit."""

from __future__ import annotations

import pytest

from lianbo.domain.roles import Role
from tests.support.content import png, upload
from tests.support.env import Env

pytestmark = pytest.mark.integration


async def test_three_reviewers_take_an_asset_to_approved_and_it_can_be_revoked(env: Env) -> None:
    operator = await env.as_role(Role.OPERATOR, "510107")
    asset = (await upload(env, operator, png())).json()
    first, second, third = [await env.as_role(Role.REVIEWER, r) for r in ("510107", "5101", "51")]
    url = f"/api/v1/assets/{asset['id']}"
    assert (await env.client.post(f"{url}/submit", headers=operator)).json()[
        "review_state"
    ] == "submitted"

    step = await env.client.post(f"{url}/review", json={"decision": "approve"}, headers=first)
    assert step.json()["review_state"] == "level1"
    twice = await env.client.post(f"{url}/review", json={"decision": "approve"}, headers=first)
    assert twice.status_code == 403 and "level 1" in twice.json()["error"]["message"]
    assert (
        await env.client.post(f"{url}/review", json={"decision": "approve"}, headers=second)
    ).json()["review_state"] == "level2"
    done = await env.client.post(f"{url}/review", json={"decision": "approve"}, headers=third)
    assert done.json()["review_state"] == "approved"

    detail = (await env.client.get(url, headers=third)).json()
    assert [h["action"] for h in detail["history"]] == ["submit", "approve", "approve", "approve"]
    assert [h["level"] for h in detail["history"]] == [None, 1, 2, 3]

    no_reason = await env.client.post(f"{url}/revoke", json={"reason": " "}, headers=third)
    assert no_reason.status_code == 400
    revoked = await env.client.post(f"{url}/revoke", json={"reason": "版权争议"}, headers=third)
    assert revoked.json()["review_state"] == "revoked"

    admin = await env.as_role(Role.ADMIN, "51")
    actions = [
        e["action"]
        for e in (
            await env.client.get(f"/api/v1/audit?target_id={asset['id']}", headers=admin)
        ).json()["items"]
    ]
    assert actions[::-1] == [
        "asset.create",
        "asset.submit",
        "asset.review.approve",
        "asset.review.approve",
        "asset.review.approve",
        "asset.revoke",
    ]


async def test_rejection_and_resubmission(env: Env) -> None:
    operator = await env.as_role(Role.OPERATOR, "51")
    asset = (await upload(env, operator, png())).json()
    reviewer = await env.as_role(Role.REVIEWER, "51")
    url = f"/api/v1/assets/{asset['id']}"
    await env.client.post(f"{url}/submit", headers=operator)
    no_reason = await env.client.post(
        f"{url}/review", json={"decision": "reject"}, headers=reviewer
    )
    assert no_reason.status_code == 400 and no_reason.json()["error"]["field"] == "reason"
    rejected = await env.client.post(
        f"{url}/review", json={"decision": "reject", "reason": "字幕有错别字"}, headers=reviewer
    )
    assert rejected.json()["review_state"] == "rejected"
    again = await env.client.post(f"{url}/submit", headers=operator)
    assert again.json()["review_state"] == "submitted" and again.json()["review_round"] == 2


async def test_who_may_do_what(env: Env) -> None:
    operator = await env.as_role(Role.OPERATOR, "51")
    asset = (await upload(env, operator, png())).json()
    url = f"/api/v1/assets/{asset['id']}"
    await env.client.post(f"{url}/submit", headers=operator)
    assert (
        await env.client.post(f"{url}/review", json={"decision": "approve"}, headers=operator)
    ).status_code == 403
    outsider = await env.as_role(Role.REVIEWER, "510104")
    assert (
        await env.client.post(f"{url}/review", json={"decision": "approve"}, headers=outsider)
    ).status_code == 404
    reviewer = await env.as_role(Role.REVIEWER, "51")
    bad = await env.client.post(f"{url}/review", json={"decision": "maybe"}, headers=reviewer)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "decision"
    draft_revoke = await env.client.post(f"{url}/revoke", json={"reason": "x"}, headers=reviewer)
    assert draft_revoke.status_code == 409
