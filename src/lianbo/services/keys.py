"""Rotating and retiring the control centre's signing keys (control acts).

A rotation makes a new active key and a new key set signed by the old keys
(``adapters/keys.py``); once that is audited, every stored manifest is
re-signed with the new key (``KeysRotated``, ``services/handlers.py``),
so that the old key can later be retired without leaving a screen a
manifest it can no longer check. A retirement drops a key from the set; the
active key cannot be retired. Both are written to the audit log. Screens
learn the new set the next time they meet a key id they do not know
(``docs/player.md``, ADR 0004).
"""

from __future__ import annotations

from dataclasses import dataclass

from lianbo.adapters.keys import KeyChangeRefused
from lianbo.domain.errors import Conflict, Forbidden, NotFound
from lianbo.domain.events import KeyRetired, KeysRotated
from lianbo.domain.roles import Permission
from lianbo.domain.users import Actor
from lianbo.protocol.keyset import KeySet
from lianbo.services import audit
from lianbo.services.context import Context

TARGET = "signing-key"


@dataclass(frozen=True, slots=True)
class KeyListing:
    """The current set and the keys retired from it."""

    key_set: KeySet
    retired: list[str]


async def listing(container: Context, actor: Actor) -> KeyListing:
    """The keys in the current set (which one signs) and the retired ones."""
    _allowed(actor)
    return KeyListing(await container.keys.current_set(), await container.keys.retired())


async def rotate(container: Context, actor: Actor) -> KeySet:
    """Make a new active key; the set holding it is signed by the old ones."""
    _allowed(actor)
    ring = container.keys
    before = await ring.current_set()
    await ring.rotate(container.clock.now())
    after = await ring.current_set()
    # every manifest is re-signed with the new key once this commits
    await _record(container, actor, "keys.rotate", after.active, before, after)
    return after


async def retire(container: Context, actor: Actor, key_id: str) -> KeySet:
    """Drop ``key_id`` from the key set (never the active key)."""
    _allowed(actor)
    ring = container.keys
    before = await ring.current_set()
    if key_id not in before.keys:
        raise NotFound(f"no key {key_id} in the key set", field="key_id")
    await _not_signing_alerts(container, key_id)
    try:
        await ring.retire(key_id, container.clock.now())
    except KeyChangeRefused as error:
        raise Conflict(str(error), field="key_id") from None
    after = await ring.current_set()
    # nothing stored stays signed by it: every manifest is re-signed after the commit
    await _record(container, actor, "keys.retire", key_id, before, after)
    return after


async def _not_signing_alerts(container: Context, key_id: str) -> None:
    """Alert notices in force are not re-signed (they end with their alert):
    a screen restarted after their key went would drop them."""
    async with container.uow() as uow:
        live = await uow.alerts.active(container.clock.now())
    signed = [a.id for a in live if key_id in (a.key_id, a.cancel_key_id)]
    if signed:
        raise Conflict(
            f"key {key_id} signs alert {signed[0]}, still in force; retire it after the alert ends",
            field="key_id",
        )


def _allowed(actor: Actor) -> None:
    if not actor.can(Permission.MANAGE_KEYS):
        raise Forbidden("managing signing keys needs the admin role")


async def _record(
    container: Context, actor: Actor, action: str, key_id: str, before: KeySet, after: KeySet
) -> None:
    async with container.uow() as uow:
        await audit.record(
            uow,
            container.clock,
            actor,
            action,
            (TARGET, key_id),
            region="",
            before=_facts(before),
            after=_facts(after),
        )
        uow.record(KeysRotated(key_id) if action == "keys.rotate" else KeyRetired(key_id))
        await uow.commit()


def _facts(key_set: KeySet) -> dict[str, object]:
    return {"serial": key_set.serial, "active": key_set.active, "keys": sorted(key_set.keys)}
