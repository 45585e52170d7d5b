"""The control centre's signing keys, shared by every process (ADR 0014).

Public keys (also retired ones) and the signed key sets live in the store,
so every process on every host reads the same keys, and a rotation made by
one process (or by ``lianbo keys rotate``) is used by all of them at once.
Private keys never enter the store. A process holds them

- from a setting, ``LIANBO_SIGNING_KEY_FILE`` (a path) or
  ``LIANBO_SIGNING_KEY`` (the secret itself): one or more PEM Ed25519 keys.
  This is how several processes sign: each is given the same keys; or
- as files in the data dir (``adapters/keys.py``), the embedded default:
  made by ``lianbo init`` and ``lianbo keys rotate``, and copied into the
  store whenever the files hold a newer set.

A process signs only with the active key of the store's current set. One
that does not hold that key refuses (``KeyNotHeld``) rather than sign with
a key the screens are being moved away from.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.adapters.keys import SET_FILE, KeyChangeRefused, KeyRing, PublicKey, Signer, key_id_of
from lianbo.domain.errors import Conflict
from lianbo.protocol.keyset import KeySet, parse

log = structlog.get_logger()

PEM_BLOCK = re.compile(r"-----BEGIN PRIVATE KEY-----.+?-----END PRIVATE KEY-----", re.S)
Held = dict[str, Ed25519PrivateKey]


class KeyNotHeld(Conflict):
    """This process cannot sign: it does not hold the active key (409)."""

    code = "signing_key_missing"


def parse_private_keys(text: str) -> Held:
    """The PEM (PKCS#8) Ed25519 private keys in ``text``, by key id, in order;
    ValueError with a sentence saying what is wrong."""
    blocks = PEM_BLOCK.findall(text)
    if not blocks:
        raise ValueError("no PEM private key (-----BEGIN PRIVATE KEY-----) in it")
    keys: Held = {}
    for block in blocks:
        try:
            key = serialization.load_pem_private_key(block.encode(), password=None)
        except (ValueError, TypeError):
            raise ValueError("a PEM block in it is not an unencrypted private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("a key in it is not an Ed25519 key")
        keys[key_id_of(key)] = key
    return keys


def public_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def new_private_pem() -> tuple[str, str]:
    """A new key as (key id, PEM text), for ``lianbo keys new``."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_id_of(key), pem.decode()


class SharedKeys:
    """Signing keys read from the store; private halves from ``configured``
    (the settings' keys) or, when that is None, the data dir's ``ring``."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        ring: KeyRing,
        configured: Callable[[], Held] | None = None,
    ) -> None:
        self._uow = uow
        self.ring = ring
        self._configured = configured
        self._held: Held | None = None
        self._publics: dict[str, Ed25519PublicKey] = {}  # a key id names one key forever

    @property
    def embedded(self) -> bool:
        """Private keys are files in the data dir (no signing-key setting)."""
        return self._configured is None

    def held(self) -> Held:
        """The private keys this process holds (KeyNotHeld if the setting is bad)."""
        if self._configured is None:
            return {k: self.ring.private(k) for k in self.ring.ids()}
        if self._held is None:
            try:
                self._held = self._configured()
            except (OSError, ValueError) as error:
                problem = (
                    error.args[0] if isinstance(error, ValueError) else "the file cannot be read"
                )
                raise KeyNotHeld(f"the signing key setting is unusable: {problem}") from None
        return self._held

    # reading

    async def ensure(self, now: datetime | None = None) -> str:
        """A current key set in the store (the data dir's, or a first one);
        the active key id."""
        held = None if self.embedded else self.held()  # a bad setting fails the start
        try:
            active = await self._ensure_set(now)
        except Conflict:  # another process stored the first set at the same moment
            active = (await self.current_set()).active
        if held is not None and active not in held:
            log.warning("this process does not hold the active signing key", key_id=active)
        return active

    async def _ensure_set(self, now: datetime | None) -> str:
        async with self._uow() as uow:
            current = await uow.signing_keys.current()
            if self.embedded:
                self.ring.ensure()  # a first key in the data dir
                current = await self._mirror(uow, current)
            elif current is None:
                legacy = (self.ring.directory / SET_FILE).exists()
                current = await (self._mirror(uow, None) if legacy else self._first(uow, now))
            await uow.commit()
        return parse(current[0]).active

    async def key_set(self, uow: UnitOfWork | None = None) -> tuple[str, dict[str, str]]:
        """The current signed set: its text and signatures by key id. Read in
        ``uow`` when the caller holds one (a second connection per request
        would exhaust the pool under a burst of enrolments)."""
        if uow is not None:
            current = await uow.signing_keys.current()
        else:
            async with self._uow() as own:
                current = await own.signing_keys.current()
        if current is None:
            await self.ensure()
            return await self.key_set()
        return current

    async def current_set(self, uow: UnitOfWork | None = None) -> KeySet:
        return parse((await self.key_set(uow))[0])

    async def retired(self) -> list[str]:
        """Ids of retired keys (their public halves are kept)."""
        async with self._uow() as uow:
            return await uow.signing_keys.retired()

    async def public_keys(self, uow: UnitOfWork | None = None) -> list[PublicKey]:
        """The current set's keys, active first."""
        key_set = await self.current_set(uow)
        ids = sorted(key_set.keys, key=lambda k: (k != key_set.active, k))
        return [PublicKey(k, key_set.keys[k]) for k in ids]

    async def load_publics(self) -> None:
        """Read every public key (current and retired) for ``cached_public``."""
        async with self._uow() as uow:
            found = await uow.signing_keys.publics()
        for key_id, text in found.items():
            try:
                key = Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
            except ValueError:
                continue
            raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            if hashlib.sha256(raw).hexdigest()[:16] == key_id:
                self._publics[key_id] = key

    def cached_public(self, key_id: str) -> Ed25519PublicKey | None:
        """A key read by ``load_publics`` (for checks that cannot wait)."""
        return self._publics.get(key_id)

    async def signer(self, uow: UnitOfWork | None = None) -> Signer:
        """The active key, if this process holds it; KeyNotHeld otherwise."""
        active = (await self.current_set(uow)).active
        if self.embedded:
            try:
                return Signer(active, self.ring.private(active))
            except FileNotFoundError:
                pass
        elif active in self.held():
            return Signer(active, self.held()[active])
        raise KeyNotHeld(
            f"this server does not hold the active signing key {active}; "
            "give it in LIANBO_SIGNING_KEY_FILE (docs/fleet.md)"
        )

    # changing

    async def rotate(self, now: datetime | None = None) -> KeySet:
        """A new active key; the new set is signed by the old keys (old signs
        new). Embedded: a new key file. Otherwise the one configured key not
        yet in the set, given to every process beforehand."""
        now = now or datetime.now(UTC)
        await self.ensure(now)
        async with self._uow() as uow:
            current = await uow.signing_keys.current()
            assert current is not None  # ensured
            if self.embedded:
                self.ring.rotate(now)
                text = (await self._mirror(uow, current))[0]
            else:
                text = (await self._rotate_configured(uow, parse(current[0]), now)).text()
            await uow.commit()
        return parse(text)

    async def retire(self, key_id: str, now: datetime | None = None) -> KeySet:
        """Drop ``key_id`` from the set, signed by the keys that stay and the
        retiring one (KeyChangeRefused for the active key or an unknown one)."""
        now = now or datetime.now(UTC)
        await self.ensure(now)
        async with self._uow() as uow:
            current = await uow.signing_keys.current()
            assert current is not None  # ensured
            before = parse(current[0])
            if self.embedded:
                self.ring.retire(key_id, now)
                text = (await self._mirror(uow, current))[0]
            else:
                text = (await self._retire_configured(uow, before, key_id, now)).text()
            await uow.commit()
        return parse(text)

    async def _rotate_configured(self, uow: UnitOfWork, before: KeySet, now: datetime) -> KeySet:
        held = self.held()
        fresh = [k for k in held if k not in before.keys]
        if len(fresh) != 1:
            raise Conflict(
                "a rotation needs exactly one new key in LIANBO_SIGNING_KEY_FILE, given to "
                "every process first (lianbo keys new)"
            )
        if before.active not in held:
            raise Conflict(f"the active key {before.active} must sign the new set; keep it too")
        keys = {**before.keys, fresh[0]: public_b64(held[fresh[0]])}
        return await self._write(uow, before.serial + 1, fresh[0], keys, set(keys), now)

    async def _retire_configured(
        self, uow: UnitOfWork, before: KeySet, key_id: str, now: datetime
    ) -> KeySet:
        if key_id not in before.keys:
            raise KeyChangeRefused(f"no key {key_id} in the key set")
        if key_id == before.active:
            raise KeyChangeRefused("the active key cannot be retired; rotate first")
        if before.active not in self.held():
            raise Conflict(f"the active key {before.active} must sign the new set")
        keys = {k: v for k, v in before.keys.items() if k != key_id}
        return await self._write(uow, before.serial + 1, before.active, keys, {*keys, key_id}, now)

    async def _first(self, uow: UnitOfWork, now: datetime | None) -> tuple[str, dict[str, str]]:
        held = self.held()
        keys = {k: public_b64(v) for k, v in held.items()}
        key_set = await self._write(uow, 1, next(iter(held)), keys, set(keys), now)
        return (await uow.signing_keys.current()) or (key_set.text(), {})

    async def _write(
        self,
        uow: UnitOfWork,
        serial: int,
        active: str,
        keys: dict[str, str],
        signers: set[str],
        now: datetime | None,
    ) -> KeySet:
        """Sign a new set with every key of ``signers`` this process holds and
        store it; keys not in it are retired."""
        now = now or datetime.now(UTC)
        key_set = KeySet(serial, now.isoformat(), active, keys)
        data = key_set.text().encode("utf-8")
        held = self.held()
        signatures = {
            k: base64.b64encode(held[k].sign(data)).decode() for k in sorted(signers) if k in held
        }
        await uow.signing_keys.add_set(serial, now, key_set.text(), signatures)
        await uow.signing_keys.add_keys(keys, now)
        await uow.signing_keys.retire_others(set(keys), now)
        return key_set

    async def _mirror(
        self, uow: UnitOfWork, current: tuple[str, dict[str, str]] | None
    ) -> tuple[str, dict[str, str]]:
        """Copy the data dir's key set into the store when it is newer."""
        text, signatures = self.ring.key_set()
        key_set = parse(text)
        if current is not None and parse(current[0]).serial >= key_set.serial:
            return current
        issued = datetime.fromisoformat(key_set.issued_at)
        issued = issued if issued.tzinfo else issued.replace(tzinfo=UTC)
        retired = {}
        for key_id in self.ring.retired():
            public = self.ring.public(key_id)
            if public is not None:
                raw = public.public_bytes(
                    serialization.Encoding.Raw, serialization.PublicFormat.Raw
                )
                retired[key_id] = base64.b64encode(raw).decode()
        await uow.signing_keys.add_set(key_set.serial, issued, text, signatures)
        await uow.signing_keys.add_keys({**retired, **key_set.keys}, issued)
        await uow.signing_keys.retire_others(set(key_set.keys), issued)
        return text, signatures
