"""One-time enrolment codes: short, human-typable, expiring."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

# Crockford-style alphabet: no I, L, O, U, so 1/I, 0/O are never confused.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8
LIFETIME = timedelta(hours=24)
_LOOK_ALIKES = str.maketrans("OIL", "011")


def new_code(random_index: Callable[[int], int]) -> str:
    """An 8-character code shown as ``XXXX-XXXX``.

    ``random_index(n)`` returns a uniform integer in ``[0, n)``; production
    passes ``secrets.randbelow``, tests may pass something repeatable.
    """
    chars = "".join(ALPHABET[random_index(len(ALPHABET))] for _ in range(CODE_LENGTH))
    return f"{chars[:4]}-{chars[4:]}"


def normalise_code(typed: str) -> str:
    """What a person typed, made comparable: upper case, no separators,
    and the look-alike letters read as the digits they resemble."""
    cleaned = typed.strip().upper().replace("-", "").replace(" ", "")
    return cleaned.translate(_LOOK_ALIKES)


def expires_at(issued: datetime) -> datetime:
    """When a code issued at ``issued`` stops working."""
    return issued + LIFETIME
