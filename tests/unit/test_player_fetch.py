"""Fetching manifests: ETags, refusals that keep the last good one, key rotation
signed by a pinned key, and a man in the middle's own key refused."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from lianbo.player.api import TerminalApi, Unreachable
from lianbo.player.fetch import MANIFEST_FILE, ManifestFetcher
from lianbo.player.trust import KeyPins
from lianbo.protocol.keyset import KeySet, wire
from tests.unit.test_protocol_manifest import SHA_A, Signer, manifest_body

NOW = datetime(2026, 11, 23, 10, 17, tzinfo=UTC)


class ControlCentre:
    """``/terminal/v1/manifest`` and ``/keys`` as the server answers them."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer
        self.envelope = signer.envelope(manifest_body())
        self.version = manifest_body()["version"]
        self.requests: list[httpx.Request] = []
        self.down = False
        self.keys_reply: dict[str, object] = key_set(1, [signer], [signer])

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("connection refused")
        if request.headers.get("authorization") != "Bearer t0ken":
            return httpx.Response(401, json={"error": {"code": "unauthorized", "message": "no"}})
        if request.url.path == "/terminal/v1/keys":
            return httpx.Response(200, json=self.keys_reply)
        etag = f'"{self.version}"'
        if etag in request.headers.get("if-none-match", ""):
            return httpx.Response(304, headers={"ETag": etag})
        return httpx.Response(200, text=self.envelope, headers={"ETag": etag})


def key_set(serial: int, keys: list[Signer], signers: list[Signer]) -> dict[str, object]:
    """A ``/terminal/v1/keys`` reply: the set of ``keys`` signed by ``signers``."""
    public = {k: v for s in keys for k, v in s.keys.items()}
    text = KeySet(serial, NOW.isoformat(), keys[-1].key_id, public).text()
    signatures = {s.key_id: base64.b64encode(s.key.sign(text.encode())).decode() for s in signers}
    return wire(text, signatures, public)


def fetcher(
    tmp: Path, centre: ControlCentre, keys: dict[str, str] | None = None
) -> ManifestFetcher:
    client = httpx.AsyncClient(transport=httpx.MockTransport(centre))
    api = TerminalApi("http://centre.example", "t0ken", client)
    pins = KeyPins(keys or centre.signer.keys, 1, api.keys, lambda: NOW)
    return ManifestFetcher(api, pins, tmp, lambda: NOW)


async def test_a_new_manifest_is_kept_and_then_not_fetched_again(tmp_path: Path) -> None:
    centre = ControlCentre(Signer())
    fetching = fetcher(tmp_path, centre)
    assert await fetching.fetch() is True
    assert fetching.current is not None and fetching.current.version == centre.version
    assert (tmp_path / MANIFEST_FILE).read_text() == centre.envelope
    assert await fetching.fetch() is False
    assert centre.requests[-1].headers["if-none-match"] == f'"{centre.version}"'
    assert await fetching.fetch(force=True) is False  # a reload: same version, no change
    assert "if-none-match" not in centre.requests[-1].headers


async def test_a_tampered_manifest_keeps_the_previous_one_playing(tmp_path: Path) -> None:
    centre = ControlCentre(Signer())
    fetching = fetcher(tmp_path, centre)
    await fetching.fetch()
    good = fetching.current
    assert good is not None
    newer = manifest_body(items=(("a", SHA_A, 4000),))
    centre.version = newer["version"]
    centre.envelope = centre.signer.envelope(newer).replace("唯一", "唯二", 1)
    assert await fetching.fetch() is False
    assert fetching.current is good
    assert fetching.rejection is not None and fetching.rejection.reason == "bad signature"
    assert fetching.rejection.as_json()["at"] == NOW.isoformat()
    assert (tmp_path / MANIFEST_FILE).read_text() == good.envelope
    # The next valid manifest clears the refusal.
    centre.envelope = centre.signer.envelope(newer)
    assert await fetching.fetch() is True and fetching.rejection is None


async def test_an_expired_manifest_is_refused_with_its_reason(tmp_path: Path) -> None:
    centre = ControlCentre(Signer())
    centre.envelope = centre.signer.envelope(manifest_body(start=NOW - timedelta(days=3)))
    fetching = fetcher(tmp_path, centre)
    assert await fetching.fetch() is False
    assert fetching.current is None
    assert fetching.rejection is not None and fetching.rejection.reason == "expired"


async def test_a_rotated_key_is_learnt_from_the_server(tmp_path: Path) -> None:
    # The rule: a new key is learnt only from a key set signed by a pinned key.
    old, new = Signer(), Signer()
    centre = ControlCentre(new)
    centre.keys_reply = key_set(2, [old, new], [old, new])
    learnt: list[tuple[dict[str, str], int]] = []
    fetching = fetcher(tmp_path, centre, keys=old.keys)
    fetching.pins.on_change = lambda keys, serial: learnt.append((keys, serial))
    assert await fetching.fetch() is True
    assert learnt == [({**old.keys, **new.keys}, 2)]
    assert fetching.pins.untrusted is None
    assert [r.url.path for r in centre.requests] == ["/terminal/v1/manifest", "/terminal/v1/keys"]


async def test_a_man_in_the_middle_key_is_refused_and_the_old_programme_plays(
    tmp_path: Path,
) -> None:
    real, attacker = Signer(), Signer()
    centre = ControlCentre(real)
    fetching = fetcher(tmp_path, centre)
    assert await fetching.fetch() is True
    playing = fetching.current
    # Over plain HTTP: a re-signed manifest, and "keys" serving the foreign key
    # (a bare list as old servers sent, then a set the attacker signed himself).
    hijacked = manifest_body(items=(("a", SHA_A, 4000),))
    centre.version = hijacked["version"]
    centre.envelope = attacker.envelope(hijacked)
    for forged in (
        {"keys": key_set(2, [attacker], [attacker])["keys"]},
        key_set(2, [real, attacker], [attacker]),
    ):
        centre.keys_reply = forged
        assert await fetching.fetch() is False
        assert fetching.current is playing
        assert fetching.rejection is not None and fetching.rejection.reason == "untrusted key"
        assert fetching.pins.keys == real.keys and fetching.pins.serial == 1
        assert fetching.pins.untrusted is not None
        assert fetching.pins.untrusted["key_id"] == attacker.key_id
    assert (tmp_path / MANIFEST_FILE).read_text() == playing.envelope if playing else False
    # The real server again: the condition clears.
    centre.envelope = real.envelope(hijacked)
    assert await fetching.fetch() is True and fetching.pins.untrusted is None


async def test_an_old_key_set_replayed_is_refused(tmp_path: Path) -> None:
    old, new = Signer(), Signer()
    centre = ControlCentre(new)
    centre.keys_reply = key_set(1, [old, new], [old])  # not newer than the pinned set
    fetching = fetcher(tmp_path, centre, keys=old.keys)
    assert await fetching.fetch() is False
    assert fetching.pins.untrusted is not None and fetching.pins.untrusted["reason"] == "stale"


async def test_the_stored_manifest_is_verified_again_on_start(tmp_path: Path) -> None:
    centre = ControlCentre(Signer())
    await fetcher(tmp_path, centre).fetch()
    assert fetcher(tmp_path, centre).load_saved() is not None
    stored = tmp_path / MANIFEST_FILE
    stored.write_text(stored.read_text().replace("唯一", "唯二", 1))
    assert fetcher(tmp_path, centre).load_saved() is None


async def test_an_unreachable_server_is_reported_as_such(tmp_path: Path) -> None:
    centre = ControlCentre(Signer())
    centre.down = True
    with pytest.raises(Unreachable):
        await fetcher(tmp_path, centre).fetch()
