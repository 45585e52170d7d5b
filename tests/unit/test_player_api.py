"""The player names itself (never its token) on each call, for the balancer."""

from __future__ import annotations

import httpx

from lianbo.player.api import TerminalApi, websocket_url


def recording(seen: list[httpx.Request]) -> httpx.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/terminal/v1/heartbeat":
            return httpx.Response(200, json={"server_time": "2026-01-01T00:00:00+00:00"})
        return httpx.Response(304, headers={"ETag": '"v1"'})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


async def test_every_terminal_call_carries_the_terminal_id_and_never_the_token() -> None:
    seen: list[httpx.Request] = []
    async with recording(seen) as client:
        api = TerminalApi("https://centre.example/", "s3cret", client, terminal_id="t 1/é")
        await api.heartbeat({})
        await api.manifest('"v1"')
    assert [dict(r.url.params) for r in seen] == [{"terminal": "t 1/é"}] * 2
    assert all("s3cret" not in str(r.url) for r in seen)


async def test_before_enrolment_there_is_no_terminal_to_name() -> None:
    seen: list[httpx.Request] = []
    async with recording(seen) as client:
        await TerminalApi("http://centre.example", None, client).heartbeat({})
    assert seen[0].url.query == b""


def test_the_push_socket_names_the_terminal_too() -> None:
    assert websocket_url("http://c.example:8000/x", "t-1") == (
        "ws://c.example:8000/x/terminal/v1/ws?terminal=t-1"
    )
    assert websocket_url("https://c.example", "a b&c") == (
        "wss://c.example/terminal/v1/ws?terminal=a+b%26c"
    )
