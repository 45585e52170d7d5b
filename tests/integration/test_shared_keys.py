"""Signing keys shared through the store (ADR 0014): private keys from a
setting, public keys and key sets in the store, seen by every process."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import delete

from lianbo.adapters.db.shared_tables import KeySetRow, SigningKeyRow
from lianbo.adapters.key_store import KeyNotHeld, new_private_pem
from lianbo.api.app import create_app
from lianbo.bootstrap import Container, bootstrap, store_dump
from lianbo.config import Settings
from lianbo.domain.errors import Conflict
from lianbo.domain.users import SYSTEM
from lianbo.protocol.keyset import accept
from lianbo.services import keys
from lianbo.services.backup import backup
from lianbo.services.restore import restore
from tests.integration.alerts.support import alert_body, at_sample_day
from tests.integration.backup_helpers import empty_target
from tests.support.env import Env

pytestmark = pytest.mark.integration


def embedded_pem(env: Env) -> tuple[str, str]:
    """The env's first key (made in its data dir): its id and PEM text."""
    ring_dir = env.container.settings.keys_dir
    key_id = (ring_dir / "active").read_text().strip()
    return key_id, (ring_dir / f"{key_id}.pem").read_text()


def other_host(env: Env, folder: Path, pem: str, *, as_file: bool = True) -> Settings:
    """Settings of another process on the env's store, on another host: its
    own (empty) data dir, its private keys from a setting."""
    folder.mkdir(parents=True, exist_ok=True)
    key_setting: dict[str, object] = {"signing_key": SecretStr(pem)}
    if as_file:
        (folder / "signing.pem").write_text(pem)
        key_setting = {"signing_key_file": folder / "signing.pem"}
    return Settings(
        data_dir=folder / "data",
        database_url=env.container.settings.effective_database_url,
        **key_setting,  # type: ignore[arg-type]
    )


@asynccontextmanager
async def process(
    env: Env, folder: Path, pem: str, *, as_file: bool = True
) -> AsyncIterator[Container]:
    """Another process (see ``other_host``)."""
    container = bootstrap(other_host(env, folder, pem, as_file=as_file), clock=env.clock)
    try:
        yield container
    finally:
        await container.close()


async def test_processes_on_two_hosts_sign_with_the_key_from_the_setting(
    env: Env, tmp_path: Path
) -> None:
    key_id, pem = embedded_pem(env)
    async with (
        process(env, tmp_path / "a", pem) as a,
        process(env, tmp_path / "b", pem, as_file=False) as b,
    ):
        assert (await a.keys.signer()).key_id == (await b.keys.signer()).key_id == key_id
        assert await b.keys.key_set() == await env.container.keys.key_set()
        assert not (tmp_path / "b" / "data" / "keys").exists()  # nothing in the data dir


async def test_a_rotation_on_one_process_is_used_by_every_other(env: Env, tmp_path: Path) -> None:
    old, pem = embedded_pem(env)
    new, new_pem = new_private_pem()
    bundle = pem + new_pem  # the new key given to every process before the rotation
    async with (
        process(env, tmp_path / "a", bundle) as a,
        process(env, tmp_path / "b", bundle) as b,
        process(env, tmp_path / "c", pem) as stale,  # never given the new key
    ):
        assert (await b.keys.signer()).key_id == old  # the set names the old key still
        rotated = await keys.rotate(a, SYSTEM)
        assert rotated.active == new and set(rotated.keys) == {old, new}
        assert (await b.keys.signer()).key_id == new
        with pytest.raises(KeyNotHeld, match=new):
            await stale.keys.signer()  # it must not sign with the key being left
        # A screen that pinned the old key adopts the set B serves: old signs new.
        text, signatures = await b.keys.key_set()
        reply = {
            "key_set": text,
            "signatures": [{"key_id": k, "signature": s} for k, s in signatures.items()],
        }
        adopted = accept(reply, {old: rotated.keys[old]}, pinned_serial=rotated.serial - 1)
        assert adopted.active == new


async def test_a_rotation_without_a_new_key_in_the_setting_is_refused(
    env: Env, tmp_path: Path
) -> None:
    _, pem = embedded_pem(env)
    async with process(env, tmp_path / "a", pem) as a:
        with pytest.raises(Conflict, match="new key"):
            await keys.rotate(a, SYSTEM)
        assert (await a.keys.current_set()).serial == 1


async def test_a_retired_key_stays_in_the_store_for_what_it_signed(
    env: Env, tmp_path: Path
) -> None:
    old, pem = embedded_pem(env)
    new, new_pem = new_private_pem()
    async with (
        process(env, tmp_path / "a", pem + new_pem) as a,
        process(env, tmp_path / "b", new_pem) as b,
    ):
        await keys.rotate(a, SYSTEM)
        retired = await keys.retire(a, SYSTEM, old)
        assert set(retired.keys) == {new}
        listing = await keys.listing(b, SYSTEM)
        assert listing.retired == [old] and listing.key_set.serial == retired.serial
        await b.keys.load_publics()
        assert b.keys.cached_public(old) is not None  # old anchors and notices still check


async def test_an_unusable_key_setting_is_one_line(env: Env, tmp_path: Path) -> None:
    async with process(env, tmp_path / "a", "not a key") as a:
        with pytest.raises(KeyNotHeld, match="no PEM private key"):
            await a.keys.ensure()  # so `lianbo serve` stops at its start, in one line
        with pytest.raises(KeyNotHeld, match="no PEM private key"):
            await a.keys.signer()
    with pytest.raises(ValidationError, match="not both"):
        Settings(signing_key_file=tmp_path / "k.pem", signing_key=SecretStr("x"))


async def test_a_backup_holds_the_public_keys_when_private_ones_are_a_setting(
    env: Env, tmp_path: Path
) -> None:
    old, pem = embedded_pem(env)
    new, new_pem = new_private_pem()
    key_file = tmp_path / "signing.pem"
    key_file.write_text(pem + new_pem)
    shutil.rmtree(env.container.settings.keys_dir)  # the data dir holds no keys now
    settings = env.container.settings.model_copy(update={"signing_key_file": key_file})
    live = bootstrap(settings, clock=env.clock)
    try:
        await keys.rotate(live, SYSTEM)
        await keys.retire(live, SYSTEM, old)
        before = await live.keys.key_set()
        made = await backup(settings, store_dump(settings), tmp_path / "b", env.clock)
    finally:
        await live.close()
    assert made.keys == 0 and not (tmp_path / "b" / "keys").exists()

    target = (await empty_target(env, tmp_path)).model_copy(update={"signing_key_file": key_file})
    await restore(target, store_dump(target), tmp_path / "b")
    restored = bootstrap(target, clock=env.clock)
    try:
        assert await restored.keys.key_set() == before
        assert await restored.keys.retired() == [old]
        assert (await restored.keys.signer()).key_id == new
    finally:
        await restored.close()


async def test_an_alert_on_a_process_without_the_active_key_fails_whole(
    env: Env, tmp_path: Path
) -> None:
    _, pem = embedded_pem(env)
    _, new_pem = new_private_pem()
    admin = await env.as_role()
    at_sample_day(env)
    async with (
        process(env, tmp_path / "a", pem + new_pem) as a,
        process(env, tmp_path / "c", pem) as stale,
    ):
        await keys.rotate(a, SYSTEM)
        stale.settings.alert_confirm_severities = []
        app = create_app(container=stale)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://c.test") as client:
            refused = await client.post("/api/v1/alerts", json=alert_body(), headers=admin)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "signing_key_missing"
    listed = await env.client.get("/api/v1/alerts", headers=admin)
    assert listed.json()["total"] == 0  # nothing half-issued


async def test_processes_starting_together_on_an_empty_store_agree_on_one_set(
    env: Env, tmp_path: Path
) -> None:
    async with env.container.uow() as uow:  # a new deployment: no keys anywhere yet
        await uow.session.execute(delete(KeySetRow))
        await uow.session.execute(delete(SigningKeyRow))
        await uow.commit()
    first, pem = new_private_pem()
    async with (
        process(env, tmp_path / "a", pem) as a,
        process(env, tmp_path / "b", pem) as b,
    ):
        assert await asyncio.gather(a.keys.ensure(), b.keys.ensure()) == [first, first]
        key_set = await b.keys.current_set()
        assert key_set.serial == 1 and list(key_set.keys) == [first]
