"""Services record their events, and they are handled once the change
commits (both stores; the in-process bus on SQLite)."""

from __future__ import annotations

import pytest

from lianbo.domain import events as ev
from lianbo.domain.roles import Role
from tests.support.content import approved_asset
from tests.support.env import Env

pytestmark = pytest.mark.integration


class Recorder:
    def __init__(self, env: Env) -> None:
        self.seen: list[ev.Event] = []
        for kind in ev.EVENTS.values():
            env.container.bus.subscribe(kind, self.handle, everywhere=False)

    async def handle(self, event: ev.Event) -> None:
        self.seen.append(event)

    def of(self, kind: type[ev.Event]) -> list[ev.Event]:
        return [e for e in self.seen if isinstance(e, kind)]


async def test_terminal_acts_record_their_events(env: Env) -> None:
    admin = await env.as_role(Role.ADMIN)
    recorder = Recorder(env)
    created = await env.terminal(admin)
    enrolled = await env.client.post("/terminal/v1/enrol", json={"code": created["enrolment_code"]})
    assert enrolled.status_code == 200
    url = f"/api/v1/terminals/{created['id']}"
    assert (await env.client.patch(url, json={"name": "新名"}, headers=admin)).status_code == 200
    assert (await env.client.post(f"{url}/retire", headers=admin)).status_code == 200
    assert recorder.of(ev.TerminalEnrolled) == [ev.TerminalEnrolled(created["id"])]
    assert recorder.of(ev.TerminalEdited) == [ev.TerminalEdited(created["id"])]
    assert recorder.of(ev.TerminalRetired) == [ev.TerminalRetired(created["id"])]


async def test_a_refused_act_records_nothing(env: Env) -> None:
    admin = await env.as_role(Role.ADMIN)
    viewer = await env.as_role(Role.VIEWER)
    created = await env.terminal(admin)
    recorder = Recorder(env)
    refused = await env.client.post(f"/api/v1/terminals/{created['id']}/retire", headers=viewer)
    assert refused.status_code == 403
    assert recorder.seen == []


async def test_deactivating_a_user_records_it(env: Env) -> None:
    admin = await env.as_role(Role.ADMIN)
    user = await env.user(Role.VIEWER)
    recorder = Recorder(env)
    response = await env.client.patch(
        f"/api/v1/users/{user.id}", json={"active": False}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert recorder.of(ev.UserDeactivated) == [ev.UserDeactivated(user.id)]


async def test_revoking_an_asset_records_it(env: Env) -> None:
    operator = await env.as_role(Role.OPERATOR, "51")
    asset = await approved_asset(env, operator)
    recorder = Recorder(env)
    reviewer = await env.as_role(Role.REVIEWER)
    revoked = await env.client.post(
        f"/api/v1/assets/{asset['id']}/revoke", json={"reason": "侵权"}, headers=reviewer
    )
    assert revoked.status_code == 200, revoked.text
    assert recorder.of(ev.AssetRevoked) == [ev.AssetRevoked(asset["id"])]


async def test_adding_assets_records_whether_qc_is_owed(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ticker owes QC (its text is screened); a live stream does not. The
    event is what queues the QC job, wherever the asset was added."""
    operator = await env.as_role(Role.OPERATOR, "51")
    recorder = Recorder(env)
    queued: list[str] = []
    enqueue = env.container.jobs.enqueue_qc

    async def remember(asset_id: str) -> None:
        queued.append(asset_id)
        await enqueue(asset_id)

    monkeypatch.setattr(env.container.jobs, "enqueue_qc", remember)
    ticker = await env.client.post(
        "/api/v1/assets", json={"kind": "ticker", "name": "滚动", "text": "欢迎"}, headers=operator
    )
    stream = await env.client.post(
        "/api/v1/assets",
        json={"kind": "stream", "name": "直播", "url": "rtmp://live.example/a"},
        headers=operator,
    )
    assert ticker.status_code == 201, ticker.text
    assert stream.status_code == 201, stream.text
    assert recorder.of(ev.AssetAdded) == [
        ev.AssetAdded(ticker.json()["id"], needs_qc=True),
        ev.AssetAdded(stream.json()["id"], needs_qc=False),
    ]
    assert queued == [ticker.json()["id"]]
