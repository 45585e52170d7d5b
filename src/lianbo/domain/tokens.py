"""Secrets handed out once and stored only as a digest."""

from __future__ import annotations

import hashlib
import secrets


def new_secret() -> str:
    """A fresh 256-bit URL-safe secret (bearer token, terminal token)."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """sha256 hex of a secret: what the store keeps and looks up by.

    A fast hash is right here (unlike passwords): the secret has 256 bits
    of entropy, so there is nothing to brute-force.
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
