"""The auth callout's decisions (adapters/fleet/nats_auth.py), without a broker:
a request JWT as a NATS server signs it, a directory of terminals as a fake;
and ``lianbo keys nats-issuer``, which makes the key it signs with."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from lianbo.adapters.fleet import nats_jwt
from lianbo.adapters.fleet.nats_auth import AuthCallout, Login
from lianbo.adapters.fleet.nats_jwt import Signer
from lianbo.adapters.fleet.registry import Peer
from lianbo.cli import app

SERVER = Signer.new("server")
ISSUER = Signer.new("account")
USER_NKEY = Signer.new("user").public_key
NOW = 1_900_000_000.0


class Terminals:
    """Live terminals by token; ``broken``: the store is away."""

    def __init__(self, **tokens: Peer) -> None:
        self.tokens = tokens
        self.broken = False

    async def by_token(self, token: str) -> Peer | None:
        if self.broken:
            raise ConnectionError("store away")
        return self.tokens.get(token)

    async def by_ids(self, terminal_ids: Collection[str]) -> dict[str, Peer]:
        return {p.terminal_id: p for p in self.tokens.values() if p.terminal_id in terminal_ids}


def request(
    user: str, password: str, *, mqtt_id: str | None = None, signer: Signer = SERVER
) -> bytes:
    claims: dict[str, Any] = {
        "aud": nats_jwt.REQUEST_AUDIENCE,
        "sub": ISSUER.public_key,
        "nats": {
            "server_id": {"name": "n1", "id": signer.public_key},
            "user_nkey": USER_NKEY,
            "client_info": {"type": "mqtt", "mqtt_id": mqtt_id or user, "user": user},
            "connect_opts": {"user": user, "pass": password},
            "type": "authorization_request",
            "version": 2,
        },
    }
    return nats_jwt.encode(claims, signer).encode()


def callout(terminals: Terminals) -> AuthCallout:
    return AuthCallout([], Login("callout", "x"), ISSUER, terminals, now=lambda: NOW)


async def answered(callout: AuthCallout, data: bytes) -> dict[str, Any]:
    answer = await callout.answer(data)
    assert answer is not None
    claims = nats_jwt.decode(answer.decode(), "account")
    assert claims["iss"] == ISSUER.public_key
    assert claims["aud"] == SERVER.public_key and claims["sub"] == USER_NKEY
    result: dict[str, Any] = claims["nats"]
    return result


async def test_a_live_screen_gets_a_user_jwt_with_its_acl_and_an_expiry() -> None:
    answering = callout(Terminals(tok=Peer("t1", "aud", "510107")))
    nats = await answered(answering, request("t1", "tok"))
    assert "error" not in nats
    user = nats_jwt.decode(nats["jwt"], "account")
    assert user["sub"] == USER_NKEY and user["aud"] == "SCREENS"
    assert user["exp"] == int(NOW) + 24 * 3600
    assert user["nats"]["pub"]["allow"] == ["lianbo.t.t1.up", "lianbo.t.t1.status"]
    assert answering.counts == {"accepted": 1}


async def test_a_wrong_token_another_screens_name_or_client_id_is_refused() -> None:
    answering = callout(Terminals(tok=Peer("t1", "aud", "51"), other=Peer("t2", "aud", "51")))
    for data in (
        request("t1", "wrong"),
        request("t1", "other"),  # t2's token under t1's name
        request("t1", "tok", mqtt_id="t2"),  # its session taken over as another id
        request("t1", ""),
    ):
        nats = await answered(answering, data)
        assert nats["error"] == "not authorised" and "jwt" not in nats
    assert answering.counts == {"refused": 4}


async def test_a_store_failure_answers_a_refusal_and_is_counted() -> None:
    terminals = Terminals(tok=Peer("t1", "aud", "51"))
    terminals.broken = True
    answering = callout(terminals)
    nats = await answered(answering, request("t1", "tok"))
    assert nats["error"] == "not authorised"
    assert answering.counts == {"failed": 1}


async def test_a_request_not_signed_by_its_server_is_dropped_and_counted() -> None:
    answering = callout(Terminals(tok=Peer("t1", "aud", "51")))
    claims = nats_jwt.decode(request("t1", "tok").decode(), "server")
    claims["nats"]["server_id"]["id"] = Signer.new("server").public_key  # another server's name
    forged = nats_jwt.encode(claims, SERVER)
    assert await answering.answer(forged.encode()) is None
    assert await answering.answer(b"garbage") is None
    assert answering.counts == {"malformed": 2}


def test_lianbo_keys_nats_issuer_writes_a_seed_once(tmp_path: Path) -> None:
    out = tmp_path / "issuer.nk"
    made = CliRunner().invoke(app, ["keys", "nats-issuer", "--out", str(out)])
    assert made.exit_code == 0, made.output
    signer = Signer(out.read_bytes().strip())
    assert signer.public_key in made.output and signer.public_key.startswith("A")
    assert out.stat().st_mode & 0o777 == 0o600
    again = CliRunner().invoke(app, ["keys", "nats-issuer", "--out", str(out)])
    assert again.exit_code == 1 and "exists" in again.output
    assert Signer(out.read_bytes().strip()) == signer  # not replaced
