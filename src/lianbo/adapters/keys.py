"""The control centre's Ed25519 signing keys, kept as files in the data dir.

Each key lives in ``keys/<key_id>.pem``; ``keys/active`` names the one that
signs. Older keys stay so terminals can verify during a rotation.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


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

    def rotate(self) -> str:
        """Make a new key and make it the active one."""
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
        return key_id

    def private(self, key_id: str) -> Ed25519PrivateKey:
        data = (self.directory / f"{key_id}.pem").read_bytes()
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{key_id} is not an Ed25519 key")
        return key

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
