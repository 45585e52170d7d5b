"""How the player checks its control centre's certificate.

Over ``https://`` and ``wss://`` the server's certificate must be valid for
its name and signed by a trusted CA: the system's CAs, plus the CA file given
at enrolment (``lianbo player --ca-file``), kept in the identity so a private
CA (the centre's own) works without touching the system store. The system CAs
stay trusted too, because media may come from a CDN with a public
certificate. Plain ``http://`` is for the embedded default on a trusted
network; nothing is checked there.
"""

from __future__ import annotations

import ssl
from pathlib import Path


class BadCaFile(Exception):
    """The CA file cannot be read or holds no certificate (one-line message)."""


def server_context(ca_pem: str | None) -> ssl.SSLContext:
    """A client context trusting the system's CAs and ``ca_pem`` when given."""
    context = ssl.create_default_context()
    if ca_pem:
        context.load_verify_locations(cadata=ca_pem)
    return context


def read_ca(path: Path) -> str:
    """The PEM certificates in ``path``, checked; BadCaFile when unusable."""
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not a PEM file"
        raise BadCaFile(f"cannot read CA file {path}: {reason}") from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise BadCaFile(f"CA file {path} holds no PEM certificate")
    try:
        server_context(text)
    except ssl.SSLError:
        raise BadCaFile(f"CA file {path} holds a certificate that cannot be read") from None
    return text
