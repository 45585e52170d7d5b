"""NATS JWTs signed with nkeys, for the auth callout (ADR 0018).

A NATS JWT is three base64url parts without padding: the header
``{"typ":"JWT","alg":"ed25519-nkey"}``, the claims, and the Ed25519
signature of ``header.claims`` by the issuer's nkey (``iss``). An nkey is
base32 of one prefix byte (its role: ``N`` server, ``A`` account, ``U``
user; ``S…`` seeds), the 32 key bytes and a CRC-16 (nats-io/nkeys).

The callout reads the server's ``authorization_request`` and answers an
``authorization_response`` carrying a user JWT whose permissions are the
screen's ACL: the one ``mosquitto.ACL`` gives, on NATS subjects (``/`` →
``.``). No I/O here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Mapping
from typing import Any

import nacl.exceptions
import nacl.signing
import nkeys

from lianbo.adapters.fleet import topics

# v2 JWTs (the only ones NATS 2.10+ speaks to a callout) sign "header.claims";
# v1 ("alg": "ed25519") signed the claims part alone and is refused.
HEADER = {"typ": "JWT", "alg": "ed25519-nkey"}
REQUEST_AUDIENCE = "nats-authorization-request"
ROLE_PREFIX = {
    "server": nkeys.PREFIX_BYTE_SERVER,
    "account": nkeys.PREFIX_BYTE_ACCOUNT,
    "user": nkeys.PREFIX_BYTE_USER,
}


class BadJwt(ValueError):
    """Not a well-formed JWT signed by the key it names."""


class Signer:
    """An nkey seed that signs (the callout's issuer: an account key). The
    key pair is decoded once: the callout signs two JWTs per login."""

    def __init__(self, seed: bytes) -> None:
        self.seed = seed
        self._pair = nkeys.from_seed(seed)
        self.public_key = str(self._pair.public_key.decode())

    @classmethod
    def new(cls, role: str = "account") -> Signer:
        """A fresh random key of ``role`` (tests, ``lianbo keys nats-issuer``)."""
        return cls(nkeys.encode_seed(os.urandom(32), ROLE_PREFIX[role]))

    def sign(self, data: bytes) -> bytes:
        return bytes(self._pair.sign(data))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Signer) and other.seed == self.seed

    def __hash__(self) -> int:
        return hash(self.seed)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def public_key_bytes(public_key: str, role: str) -> bytes:
    """The 32 Ed25519 bytes of an encoded public nkey of ``role``; BadJwt when
    it is not one (wrong role, bad checksum)."""
    try:
        raw = base64.b32decode(public_key + "=" * (-len(public_key) % 8))
    except (binascii.Error, ValueError) as error:
        raise BadJwt("not an nkey") from error
    if len(raw) != 35 or raw[0] != ROLE_PREFIX[role]:
        raise BadJwt(f"not a {role} nkey")
    body, crc = raw[:-2], raw[-2:]
    if nkeys.crc16(bytearray(body)).to_bytes(2, "little") != crc:
        raise BadJwt("nkey checksum mismatch")
    return bytes(body[1:])


def _jti(claims: Mapping[str, Any]) -> str:
    """The claims' id as nats-io/jwt makes it: base32 of SHA-512/256 of the
    claims serialised with an empty ``jti``."""
    digest = hashlib.new("sha512_256", _json({**claims, "jti": ""})).digest()
    return base64.b32encode(digest).rstrip(b"=").decode()


def encode(claims: Mapping[str, Any], signer: Signer) -> str:
    """A JWT of ``claims`` issued (``iss``) and signed by ``signer``."""
    full = {**claims, "iss": signer.public_key}
    full["jti"] = _jti(full)
    signed = f"{_b64(_json(HEADER))}.{_b64(_json(full))}"
    return f"{signed}.{_b64(signer.sign(signed.encode()))}"


def decode(token: str, issuer_role: str) -> dict[str, Any]:
    """The claims of a JWT whose signature is by its own ``iss``, an nkey of
    ``issuer_role``; BadJwt for anything else."""
    parts = token.split(".")
    if len(parts) != 3:
        raise BadJwt("not three parts")
    try:
        header = json.loads(_unb64(parts[0]))
        claims = json.loads(_unb64(parts[1]))
        signature = _unb64(parts[2])
    except (binascii.Error, ValueError) as error:
        raise BadJwt("undecodable part") from error
    if not isinstance(header, dict) or header.get("alg") != HEADER["alg"]:
        raise BadJwt("not an nkey-signed JWT")
    if not isinstance(claims, dict) or not isinstance(claims.get("iss"), str):
        raise BadJwt("no issuer")
    key = nacl.signing.VerifyKey(public_key_bytes(claims["iss"], issuer_role))
    try:
        key.verify(f"{parts[0]}.{parts[1]}".encode(), signature)
    except nacl.exceptions.BadSignatureError as error:
        raise BadJwt("bad signature") from error
    return claims


def subject(topic: str) -> str:
    """The NATS subject of an MQTT topic of ours (no ``.`` in any level)."""
    return topic.replace("/", ".").replace("+", "*")


def screen_permissions(terminal_id: str, region_code: str) -> dict[str, Any]:
    """What a screen may read and write: ``mosquitto.ACL`` for this terminal,
    its region and that region's ancestors, on subjects."""
    own = [topics.terminal(terminal_id, leaf) for leaf in (topics.UP, topics.STATUS)]
    listens = [
        *topics.subscriptions(terminal_id, region_code),
        topics.audience("+"),
        topics.terminal(terminal_id, topics.STATUS),
    ]
    return {
        "pub": {"allow": [subject(t) for t in own]},
        "sub": {"allow": [subject(t) for t in listens]},
    }


def user_claims(
    terminal_id: str, region_code: str, user_nkey: str, account: str, expires: int
) -> dict[str, Any]:
    """A user JWT's claims for one screen's connection (``exp``: Unix time)."""
    return {
        "sub": user_nkey,
        "name": terminal_id,
        "aud": account,
        "exp": expires,
        "nats": {
            **screen_permissions(terminal_id, region_code),
            "subs": -1,
            "data": -1,
            "payload": -1,
            "type": "user",
            "version": 2,
        },
    }


def response_claims(
    request: Mapping[str, Any], *, user_jwt: str | None = None, error: str | None = None
) -> dict[str, Any]:
    """The ``authorization_response`` to ``request``: the user JWT, or a refusal."""
    nats = request["nats"]
    body: dict[str, Any] = {"type": "authorization_response", "version": 2}
    if user_jwt is not None:
        body["jwt"] = user_jwt
    if error is not None:
        body["error"] = error
    return {"sub": nats["user_nkey"], "aud": nats["server_id"]["id"], "nats": body}
