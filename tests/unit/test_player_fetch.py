"""Fetching manifests: ETags, refusals that keep the last good one, key rotation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from lianbo.player.api import TerminalApi, Unreachable
from lianbo.player.fetch import MANIFEST_FILE, ManifestFetcher
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

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("connection refused")
        if request.headers.get("authorization") != "Bearer t0ken":
            return httpx.Response(401, json={"error": {"code": "unauthorized", "message": "no"}})
        if request.url.path == "/terminal/v1/keys":
            keys = [{"key_id": k, "public_key": v} for k, v in self.signer.keys.items()]
            return httpx.Response(200, json={"keys": keys})
        etag = f'"{self.version}"'
        if etag in request.headers.get("if-none-match", ""):
            return httpx.Response(304, headers={"ETag": etag})
        return httpx.Response(200, text=self.envelope, headers={"ETag": etag})


def fetcher(
    tmp: Path, centre: ControlCentre, keys: dict[str, str] | None = None
) -> ManifestFetcher:
    client = httpx.AsyncClient(transport=httpx.MockTransport(centre))
    api = TerminalApi("http://centre.example", "t0ken", client)
    return ManifestFetcher(api, keys or centre.signer.keys, tmp, lambda: NOW)


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
    old, new = Signer(), Signer()
    centre = ControlCentre(new)
    learnt: list[dict[str, str]] = []
    fetching = fetcher(tmp_path, centre, keys=old.keys)
    fetching.on_new_keys = learnt.append
    assert await fetching.fetch() is True
    assert learnt == [new.keys]
    assert [r.url.path for r in centre.requests] == ["/terminal/v1/manifest", "/terminal/v1/keys"]


async def test_a_key_the_server_does_not_have_either_is_refused(tmp_path: Path) -> None:
    centre = ControlCentre(Signer())
    centre.envelope = Signer().envelope(manifest_body())  # signed by a stranger
    fetching = fetcher(tmp_path, centre)
    assert await fetching.fetch() is False
    assert fetching.rejection is not None and fetching.rejection.reason == "unknown key"


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
