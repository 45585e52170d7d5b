"""The control centre's Ed25519 signing keys, kept as files in the data dir.

Each key lives in ``keys/<key_id>.pem``; ``keys/active`` names the one that
signs. Older keys stay so terminals can verify during a rotation.
``keys/key-set.json`` is the current signed key set (``protocol/keyset.py``):
every key in it signs it, so a screen that pinned the old key learns the new
one; a retired key signs the set that drops it, then its private half is
deleted (its public half stays in ``keys/retired/`` for old signatures).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from lianbo.protocol.keyset import KeySet, parse

SET_FILE = "key-set.json"
RETIRED = "retired"


class KeyChangeRefused(Exception):
    """A rotation or retirement that would leave screens without a key."""


@dataclass(frozen=True, slots=True)
class PublicKey:
    key_id: str
    public_key: str  # raw 32 bytes, base64


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(key: Ed25519PrivateKey) -> str:
    return hashlib.sha256(_raw_public(key)).hexdigest()[:16]


class KeyRing:
    """Reads and creates signing keys under one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def ensure(self) -> str:
        """Create a first key when there is none; return the active key id."""
        active = self.directory / "active"
        if active.exists():
            return active.read_text().strip()
        return self.rotate()

    def rotate(self, now: datetime | None = None) -> str:
        """Make a new key, make it the active one, and sign the new set with
        every key already in it (old signs new)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        key_id = key_id_of(key)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path = self.directory / f"{key_id}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        (self.directory / "active").write_text(key_id + "\n")
        self._write_set(self._ids(), now)
        return key_id

    def retire(self, key_id: str, now: datetime | None = None) -> KeySet:
        """Drop ``key_id`` from the set. The set without it is signed by the
        keys that stay and by the retiring key itself (so a screen that only
        knew that key still learns its successor); then its private half goes."""
        active = self.ensure()
        ids = self._ids()
        if key_id not in ids:
            raise KeyChangeRefused(f"no key {key_id} in the key set")
        if key_id == active:
            raise KeyChangeRefused("the active key cannot be retired; rotate first")
        key_set = self._write_set([k for k in ids if k != key_id], now, extra_signer=key_id)
        retired = self.directory / RETIRED
        retired.mkdir(exist_ok=True)
        public = base64.b64encode(_raw_public(self.private(key_id))).decode()
        (retired / f"{key_id}.pub").write_text(public + "\n")
        (self.directory / f"{key_id}.pem").unlink()
        return key_set

    def key_set(self) -> tuple[str, dict[str, str]]:
        """The signed set (its text, and signatures by key id); written
        (serial 1) when a data dir made before key sets has none."""
        self.ensure()
        try:
            data = json.loads((self.directory / SET_FILE).read_text(encoding="utf-8"))
            return str(data["key_set"]), {str(k): str(v) for k, v in data["signatures"].items()}
        except FileNotFoundError:
            pass
        self._write_set(self._ids(), None)
        return self.key_set()

    def current_set(self) -> KeySet:
        """The current set, parsed (for listings)."""
        return parse(self.key_set()[0])

    def retired(self) -> list[str]:
        """Ids of retired keys (their public halves are kept)."""
        return sorted(p.stem for p in (self.directory / RETIRED).glob("*.pub"))

    def ids(self) -> list[str]:
        """Ids of the keys whose private halves are here."""
        return self._ids()

    def _ids(self) -> list[str]:
        return sorted(p.stem for p in self.directory.glob("*.pem"))

    def _write_set(
        self, ids: list[str], now: datetime | None, *, extra_signer: str | None = None
    ) -> KeySet:
        previous = self._stored_serial()
        when = (now or datetime.now(UTC)).isoformat()
        active = self.ensure()
        keys = {k: base64.b64encode(_raw_public(self.private(k))).decode() for k in ids}
        key_set = KeySet(previous + 1, when, active, keys)
        data = key_set.text().encode("utf-8")
        signers = [*ids, extra_signer] if extra_signer else ids
        signatures = {k: base64.b64encode(self.private(k).sign(data)).decode() for k in signers}
        text = json.dumps({"key_set": key_set.text(), "signatures": signatures}, indent=1)
        temp = self.directory / f"{SET_FILE}.tmp"
        temp.write_text(text + "\n", encoding="utf-8")
        os.replace(temp, self.directory / SET_FILE)  # readers see the old set or the new
        return key_set

    def _stored_serial(self) -> int:
        try:
            data = json.loads((self.directory / SET_FILE).read_text(encoding="utf-8"))
            return parse(str(data["key_set"])).serial
        except FileNotFoundError:
            return 0

    def private(self, key_id: str) -> Ed25519PrivateKey:
        data = (self.directory / f"{key_id}.pem").read_bytes()
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{key_id} is not an Ed25519 key")
        return key

    def public(self, key_id: str) -> Ed25519PublicKey | None:
        """The public half of a current or retired key (None when there is no
        such key), for checking what it signed; never creates a key."""
        try:
            key = self.private(key_id).public_key()
        except FileNotFoundError:
            try:
                raw = (self.directory / RETIRED / f"{key_id}.pub").read_text().strip()
                key = Ed25519PublicKey.from_public_bytes(base64.b64decode(raw, validate=True))
            except (OSError, ValueError):
                return None
        except ValueError:
            return None
        raw_public = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return key if hashlib.sha256(raw_public).hexdigest()[:16] == key_id else None

    def signer(self) -> Signer:
        """The active key, loaded once, ready to sign many manifests."""
        key_id = self.ensure()
        return Signer(key_id, self.private(key_id))

    def public_keys(self) -> list[PublicKey]:
        """Every key's public half, active first."""
        if not self.directory.exists():
            return []
        active = self.ensure()
        ids = sorted(p.stem for p in self.directory.glob("*.pem"))
        ids.sort(key=lambda k: k != active)
        return [PublicKey(k, base64.b64encode(_raw_public(self.private(k))).decode()) for k in ids]


@dataclass(frozen=True, slots=True)
class Signer:
    key_id: str
    key: Ed25519PrivateKey

    def sign(self, data: bytes) -> str:
        """Ed25519 signature of ``data``, base64."""
        return base64.b64encode(self.key.sign(data)).decode()
