"""/docs and /redoc work offline: every file they load is served here."""

from __future__ import annotations

import re

import pytest

from tests.support.env import Env

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_api_docs_load_only_local_files(env: Env, page: str) -> None:
    answer = await env.client.get(page)
    assert answer.status_code == 200
    html = answer.text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    urls += re.findall(r"""url: *["']([^"']+)["']""", html)  # Swagger UI's document
    assert urls, html
    assert not re.search(r"https?://", html)  # no CDN, no web fonts
    for url in urls:
        assert url.startswith("/"), url
        loaded = await env.client.get(url)
        assert loaded.status_code == 200, url
        assert loaded.content


async def test_the_openapi_document_offers_bearer_authorisation(env: Env) -> None:
    document = (await env.client.get("/openapi.json")).json()
    schemes = document["components"]["securitySchemes"].values()
    assert any(s["type"] == "http" and s["scheme"].lower() == "bearer" for s in schemes)
