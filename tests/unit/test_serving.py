"""X-Forwarded-For is believed from the configured proxies only."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import ValidationError

from lianbo.api.serving import uvicorn_config
from lianbo.config import Settings

FORGED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


def echo_app(trusted: list[str]) -> FastAPI:
    app = FastAPI()
    app.state.container = SimpleNamespace(fleet=None, settings=Settings(trusted_proxies=trusted))

    @app.get("/whoami")
    def whoami(request: Request) -> dict[str, str]:
        assert request.client is not None
        return {"client": request.client.host, "scheme": request.url.scheme}

    return app


async def seen_by(trusted: list[str], peer: str) -> dict[str, str]:
    """What the server makes of a request from ``peer`` with forged headers."""
    config = uvicorn_config(echo_app(trusted), host="127.0.0.1", port=0)
    config.load()
    transport = httpx.ASGITransport(app=config.loaded_app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://lianbo.test") as client:
        answer: dict[str, str] = (await client.get("/whoami", headers=FORGED)).json()
    return answer


async def test_nobody_is_believed_by_default_not_even_localhost() -> None:
    assert await seen_by([], "127.0.0.1") == {"client": "127.0.0.1", "scheme": "http"}


async def test_the_proxy_is_believed() -> None:
    answer = await seen_by(["10.0.0.0/24"], "10.0.0.7")
    assert answer == {"client": "203.0.113.9", "scheme": "https"}


async def test_anyone_else_is_not() -> None:
    answer = await seen_by(["10.0.0.7"], "198.51.100.4")
    assert answer == {"client": "198.51.100.4", "scheme": "http"}


def test_a_proxy_must_be_an_address() -> None:
    with pytest.raises(ValidationError, match="is not an IP address or network"):
        Settings(trusted_proxies=["proxy.example"])
