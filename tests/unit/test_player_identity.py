"""The stored identity and enrolment."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import pytest

from lianbo.player import identity as store
from lianbo.player.identity import EnrolmentFailed, Identity, NotEnrolled

KEYS = {"k1": "A" * 43 + "="}


def centre(request: httpx.Request) -> httpx.Response:
    code = json.loads(request.content)["code"]
    if request.url.path != "/terminal/v1/enrol":
        return httpx.Response(404)
    if code != "ABCD-EFGH":
        return httpx.Response(
            400, json={"error": {"code": "invalid", "message": "unknown or expired code"}}
        )
    keys = [{"key_id": "k1", "public_key": KEYS["k1"]}]
    return httpx.Response(200, json={"terminal_id": "t-1", "token": "s3cret", "keys": keys})


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(centre))


async def test_enrolment_stores_an_identity_with_a_private_token(tmp_path: Path) -> None:
    async with client() as http:
        identity = await store.enrol("http://centre.example/", "ABCD-EFGH", http, backend="mpv")
    assert identity == Identity("http://centre.example", "t-1", "s3cret", KEYS, None, "mpv")
    assert "s3cret" not in repr(identity)
    store.save(identity, tmp_path / "state")
    token = tmp_path / "state" / store.TOKEN_FILE
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert "s3cret" not in (tmp_path / "state" / store.IDENTITY_FILE).read_text()
    assert store.load(tmp_path / "state") == identity


async def test_a_refused_code_says_why(tmp_path: Path) -> None:
    async with client() as http:
        with pytest.raises(EnrolmentFailed, match="unknown or expired code"):
            await store.enrol("http://centre.example", "WXYZ-0000", http)


@pytest.mark.parametrize("server", ["centre.example", "ftp://centre.example", "http://"])
async def test_a_server_that_is_not_a_url_is_refused(server: str) -> None:
    async with client() as http:
        with pytest.raises(EnrolmentFailed, match="not an http"):
            await store.enrol(server, "ABCD-EFGH", http)


async def test_an_unreachable_server_is_named() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    async with httpx.AsyncClient(transport=httpx.MockTransport(down)) as http:
        with pytest.raises(EnrolmentFailed, match=r"cannot reach http://centre\.example"):
            await store.enrol("http://centre.example", "ABCD-EFGH", http)


def test_no_identity_is_not_enrolled(tmp_path: Path) -> None:
    with pytest.raises(NotEnrolled, match="not enrolled"):
        store.load(tmp_path)
    (tmp_path / store.IDENTITY_FILE).write_text("{broken")
    (tmp_path / store.TOKEN_FILE).write_text("x")
    with pytest.raises(NotEnrolled, match="unreadable"):
        store.load(tmp_path)


def test_the_default_state_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", "/srv/data")
    assert store.default_state_dir() == Path("/srv/data/lianbo-player")
    monkeypatch.delenv("XDG_DATA_HOME")
    assert store.default_state_dir() == Path.home() / ".local/share/lianbo-player"
