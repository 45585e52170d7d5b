"""NATS JWTs and nkeys (adapters/fleet/nats_jwt.py) against the format's own
vectors: the NATS client test seed and its nonce signature (nats.c, nats.go),
and a user JWT issued by nsc (nats.go's test credentials)."""

from __future__ import annotations

import base64
import json

import nacl.signing
import pytest

from lianbo.adapters.fleet import nats_jwt
from lianbo.adapters.fleet.nats_jwt import BadJwt, Signer

# nats.c / nats.go test vectors
SEED = b"SUAMK2FG4MI6UE3ACF3FK3OIQBCEIEZV7NSWFFEW63UXMRLFM2XLAXK4GY"
PUBLIC = "UAT6BWCSCWLUKJT6K6MBJJOEOTXZ5AJDOYKNEVRFC7VNO6OA43N4TRNO"
NONCE_SIGNATURE = (
    "m50It12aTgfbJwsQhucujqhXbsq7tLM-Mf_hSjBQsG_4onm8y2Vkw6JG1bbcDkdxXe-Ng0K-7X9ov4rZ4wFcDg"
)
ACCOUNT = "AAPQJQUPKVXGW5CZH5G2HFJULYSKDELAZRVWJA26VDZO7WSBUNIYRFNQ"
USER_JWT = (
    "eyJ0eXAiOiJqd3QiLCJhbGciOiJlZDI1NTE5In0.eyJqdGkiOiJBSFQzRzNXRElDS1FWQ1FUWFJUTldPRlVVUFRWNE00"
    "RFZQV0JGSFpJQUROWEZIWEpQR0FBIiwiaWF0IjoxNTQ0MDcxODg5LCJpc3MiOiJBQVBRSlFVUEtWWEdXNUNaSDVHMkhG"
    "SlVMWVNLREVMQVpSVldKQTI2VkRaTzdXU0JVTklZUkZOUSIsInN1YiI6IlVBVDZCV0NTQ1dMVUtKVDZLNk1CSkpPRU9U"
    "WFo1QUpET1lLTkVWUkZDN1ZOTzZPQTQzTjRUUk5PIiwidHlwZSI6InVzZXIiLCJuYXRzIjp7InB1YiI6e30sInN1YiI6"
    "e319fQ._8A1XM88Q2kp7XVJZ42bQuO9E3QPsNAGKtVjAkDycj8A5PtRPby9UpqBUZzBwiJQQO3TUcD5GGqSvsMm6X8hCQ"
)


def test_a_seed_gives_the_known_public_key_and_nonce_signature() -> None:
    signer = Signer(SEED)
    assert signer.public_key == PUBLIC
    signature = base64.urlsafe_b64encode(signer.sign(b"nonce")).rstrip(b"=").decode()
    assert signature == NONCE_SIGNATURE


def test_an_account_nkey_issued_by_nsc_checks_its_signature() -> None:
    """The nsc JWT is v1 (signature over the claims part alone): the key
    decoding is checked with it; ``decode`` wants v2 and refuses it."""
    _, body, signature = USER_JWT.split(".")
    key = nacl.signing.VerifyKey(nats_jwt.public_key_bytes(ACCOUNT, "account"))
    key.verify(body.encode(), base64.urlsafe_b64decode(signature + "=="))
    with pytest.raises(BadJwt, match="not an nkey-signed JWT"):
        nats_jwt.decode(USER_JWT, "account")


def test_a_public_key_with_a_wrong_checksum_is_refused() -> None:
    with pytest.raises(BadJwt, match="checksum"):
        nats_jwt.public_key_bytes(ACCOUNT[:-1] + ("A" if ACCOUNT[-1] != "A" else "B"), "account")


def test_a_tampered_jwt_is_refused() -> None:
    token = nats_jwt.encode({"sub": PUBLIC}, Signer.new("account"))
    header, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["sub"] = ACCOUNT
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(BadJwt, match="bad signature"):
        nats_jwt.decode(f"{header}.{forged}.{signature}", "account")


def test_a_jwt_from_a_key_of_another_role_is_refused() -> None:
    token = nats_jwt.encode({"sub": PUBLIC}, Signer.new("account"))
    with pytest.raises(BadJwt, match="not a server nkey"):
        nats_jwt.decode(token, "server")


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c", "e30.e30.e30"])
def test_garbage_is_refused(token: str) -> None:
    with pytest.raises(BadJwt):
        nats_jwt.decode(token, "account")


def test_what_is_encoded_is_decoded_with_its_issuer_and_an_id() -> None:
    signer = Signer.new("account")
    token = nats_jwt.encode({"sub": PUBLIC, "nats": {"type": "user"}}, signer)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"typ": "JWT", "alg": "ed25519-nkey"}
    claims = nats_jwt.decode(token, "account")
    assert claims["iss"] == signer.public_key
    assert claims["sub"] == PUBLIC
    assert len(claims["jti"]) == 52  # base32 of a 32-byte hash, unpadded


def test_a_screen_may_read_its_topics_and_write_only_its_own() -> None:
    claims = nats_jwt.user_claims("t1", "510107", PUBLIC, "SCREENS", 1_900_000_000)
    assert claims["aud"] == "SCREENS"
    assert claims["exp"] == 1_900_000_000
    assert claims["nats"]["pub"] == {"allow": ["lianbo.t.t1.up", "lianbo.t.t1.status"]}
    assert sorted(claims["nats"]["sub"]["allow"]) == [
        "lianbo.a.*.push",
        "lianbo.r.51.push",
        "lianbo.r.5101.push",
        "lianbo.r.510107.push",
        "lianbo.t.t1.push",
        "lianbo.t.t1.status",
    ]


def test_the_response_names_the_server_and_the_user_key() -> None:
    request = {"nats": {"user_nkey": PUBLIC, "server_id": {"id": "NSERVER"}}}
    refused = nats_jwt.response_claims(request, error="not authorised")
    assert refused == {
        "sub": PUBLIC,
        "aud": "NSERVER",
        "nats": {"type": "authorization_response", "version": 2, "error": "not authorised"},
    }
