"""Signed CAP end to end (issue 16 §2): a sender's XML-DSig checked against
the certificates an admin trusts, senders that must sign, and our own
signature on what we serve, verified by a neighbouring control centre."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from lianbo.adapters.cap.dsig import CapSigner, check_signature
from lianbo.api.app import create_app
from lianbo.bootstrap import bootstrap
from lianbo.config import Settings
from lianbo.domain.alerting.signatures import SignatureState
from lianbo.domain.roles import Role
from tests.integration.alerts.samples import SAMPLES, SENDER
from tests.integration.alerts.support import (
    CAP,
    SAMPLE_DAY,
    at_sample_day,
    corner_screens,
    issue,
)
from tests.support.cap_signing import Identity, sign
from tests.support.clock import FakeClock
from tests.support.env import Env

pytestmark = pytest.mark.integration

MESSAGE = SAMPLES["alert_multilang.xml"].encode()
SENDERS = "/api/v1/cap-senders"


@pytest.fixture(scope="module")
def cma() -> Identity:
    """The sample sender's signing identity, valid on the samples' day."""
    return Identity.make("cma-sichuan.gov.cn", valid_from=SAMPLE_DAY - timedelta(days=30))


@pytest.fixture(scope="module")
def stranger() -> Identity:
    return Identity.make("stranger.example", valid_from=SAMPLE_DAY - timedelta(days=30))


async def post(env: Env, headers: dict[str, str], data: bytes, status: int = 201) -> Any:
    response = await env.client.post("/api/v1/alerts/cap", content=data, headers=headers | CAP)
    assert response.status_code == status, response.text
    return response.json()


async def trust(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    certificates: list[str],
    *,
    must: bool = False,
    sender: str = SENDER,
    status: int = 200,
) -> Any:
    body = {"certificates": certificates, "must_be_signed": must}
    response = await client.put(f"{SENDERS}/{sender}", json=body, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


async def alert_count(env: Env, headers: dict[str, str]) -> int:
    response = await env.client.get("/api/v1/alerts", headers=headers)
    return int(response.json()["total"])


async def test_a_message_signed_by_a_trusted_sender_is_verified_and_kept_as_signed(
    env: Env, cma: Identity
) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    await corner_screens(env, admin)  # the sample's polygons lie among them
    await trust(env.client, admin, [cma.cert_pem])
    signed = sign(MESSAGE, cma)
    issued = await post(env, admin, signed)
    signature = issued["cap_signature"]
    assert signature["state"] == "verified" and signature["reason"] is None
    assert signature["signer"] == "CN=cma-sichuan.gov.cn"
    assert signature["message"].startswith("Verified")
    detail = (await env.client.get(f"/api/v1/alerts/{issued['id']}", headers=admin)).json()
    assert detail["cap_signature"] == signature
    exported = await env.client.get(f"/api/v1/alerts/{issued['id']}/cap", headers=admin)
    assert exported.content == signed  # the sender's own signature travels on
    assert check_signature(exported.content, [cma.cert_pem], env.clock.now()).state is (
        SignatureState.VERIFIED
    )


async def test_a_sender_that_must_sign_has_unsigned_and_broken_messages_refused(
    env: Env, cma: Identity, stranger: Identity
) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    await corner_screens(env, admin)  # the sample's polygons lie among them
    await trust(env.client, admin, [cma.cert_pem], must=True)
    signed = sign(MESSAGE, cma)
    refused = [
        MESSAGE,  # unsigned
        signed.replace("橙色".encode(), "红色".encode(), 1),  # changed after signing
        sign(MESSAGE, stranger),  # signed by someone else
    ]
    for data in refused:
        error = (await post(env, admin, data, 403))["error"]
        assert error["field"] == "alert/Signature"
        assert f"sender {SENDER} must sign" in error["message"]
    assert await alert_count(env, admin) == 0
    assert (await post(env, admin, signed))["cap_signature"]["state"] == "verified"


async def test_signatures_of_senders_not_configured_are_shown_not_refused(
    env: Env, stranger: Identity
) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    await corner_screens(env, admin)  # the sample's polygons lie among them
    untrusted = await post(env, admin, sign(MESSAGE, stranger))
    assert (untrusted["cap_signature"]["state"], untrusted["cap_signature"]["reason"]) == (
        "unverified",
        "untrusted",
    )
    other = MESSAGE.replace(b"SC-2026-0710-001", b"SC-2026-0710-009")
    changed = sign(other, stranger).replace(b"<status>Actual", b"<status>Exercise", 1)
    invalid = await post(env, admin, changed)
    assert (invalid["cap_signature"]["state"], invalid["cap_signature"]["reason"]) == (
        "invalid",
        "tampered",
    )
    unsigned = await post(env, admin, MESSAGE.replace(b"0710-001", b"0710-010"))
    assert unsigned["cap_signature"]["reason"] == "unsigned"


async def test_trusting_a_sender_is_for_admins_checked_and_audited(env: Env, cma: Identity) -> None:
    admin = await env.as_role(Role.ADMIN)
    issuer = await env.as_role(Role.ISSUER)
    await trust(env.client, issuer, [cma.cert_pem], status=403)
    bad = await trust(env.client, admin, ["-----BEGIN CERTIFICATE-----\nAAAA\n"], status=400)
    assert bad["error"]["field"] == "certificates[0]"
    none = await trust(env.client, admin, [], must=True, status=400)
    assert none["error"]["field"] == "certificates"
    spaced = await trust(env.client, admin, [], sender="a b", status=400)
    assert spaced["error"]["field"] == "sender"
    assert (await env.client.get(SENDERS, headers=admin)).json() == []
    made = await trust(env.client, admin, [cma.cert_pem], must=True)
    assert made["must_be_signed"] and len(made["fingerprints"][0]) == 64
    assert (await env.client.get(SENDERS, headers=admin)).json() == [made]
    assert (await env.client.get(SENDERS, headers=issuer)).status_code == 403
    audit = (await env.client.get("/api/v1/audit", headers=admin)).json()["items"]
    acts = [e for e in audit if e["action"] == "cap_sender.trust"]
    assert acts and acts[0]["after"]["fingerprints"] == made["fingerprints"]
    gone = await env.client.delete(f"{SENDERS}/{SENDER}", headers=admin)
    assert gone.status_code == 204
    again = await env.client.delete(f"{SENDERS}/{SENDER}", headers=admin)
    assert again.status_code == 404


async def test_a_sender_trusted_through_one_process_is_checked_by_another(
    env: Env, cma: Identity
) -> None:
    at_sample_day(env)
    admin = await env.as_role(Role.ADMIN)
    await corner_screens(env, admin)  # the sample's polygons lie among them
    other = bootstrap(env.container.settings, clock=env.clock)
    transport = httpx.ASGITransport(app=create_app(container=other))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://b.test") as b:
            await trust(b, admin, [cma.cert_pem], must=True)
    finally:
        await other.close()
    await post(env, admin, MESSAGE, 403)
    assert (await post(env, admin, sign(MESSAGE, cma)))["cap_signature"]["state"] == "verified"


@asynccontextmanager
async def neighbour(template: Path, root: Path, clock: FakeClock) -> AsyncIterator[Env]:
    """Another control centre: its own store (SQLite), app and users."""
    data_dir = root / "neighbour"
    shutil.copytree(template, data_dir)
    container = bootstrap(Settings(data_dir=data_dir), clock=clock)
    transport = httpx.ASGITransport(app=create_app(container=container))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://n.test") as client:
            yield Env(container, client, clock, "sqlite")
    finally:
        await container.close()


async def test_what_we_serve_carries_our_signature_and_a_neighbour_verifies_it(
    env: Env, sqlite_template: Path, tmp_path: Path
) -> None:
    at_sample_day(env)
    ours = Identity.make("lianbo.sc.example", kind="ec", valid_from=SAMPLE_DAY - timedelta(1))
    env.container.cap_signer = CapSigner(ours.key_pem, ours.cert_pem.encode())
    issuer = await env.as_role(Role.ISSUER)
    issued = await issue(env, issuer)
    assert issued["cap_signature"] is None  # written here, not received
    served = (await env.client.get(f"/api/v1/alerts/{issued['id']}/cap", headers=issuer)).content
    now = env.clock.now()
    assert check_signature(served, [ours.cert_pem], now).state is SignatureState.VERIFIED
    feed = (await env.client.get("/feeds/alerts.atom")).content
    entry = etree.fromstring(feed).find(".//{urn:oasis:names:tc:emergency:cap:1.2}alert")
    assert entry is not None
    taken_out = etree.tostring(entry)  # an entry lifted out of the feed verifies on its own
    assert check_signature(taken_out, [ours.cert_pem], now).state is SignatureState.VERIFIED
    async with neighbour(sqlite_template, tmp_path, env.clock) as other:
        admin = await other.as_role(Role.ADMIN)
        sender = env.container.settings.alert_sender
        await trust(other.client, admin, [ours.cert_pem], sender=sender, must=True)
        received = await post(other, admin, served)
        assert received["cap_signature"]["state"] == "verified"
        assert received["cap_signature"]["signer"] == "CN=lianbo.sc.example"
