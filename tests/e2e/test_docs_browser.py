"""/docs in a real browser with no way out: Swagger UI loads from the server
itself, and a bearer token authorises the calls made from it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.helpers import Server, screenshot

pytestmark = pytest.mark.e2e


def test_swagger_ui_works_offline_and_takes_a_bearer_token(page: Any, server: Server) -> None:
    local = urlsplit(server.url).netloc
    outside: list[str] = []

    def only_local(route: Any) -> None:
        if urlsplit(route.request.url).netloc == local:
            route.continue_()
        else:  # as on a control centre's network: nothing outside answers
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto("/docs")
    page.get_by_role("button", name="Authorize").first.click()
    token = server.api_headers()["Authorization"].removeprefix("Bearer ")
    page.locator(".modal-ux input[type=text], .modal-ux input[type=password]").first.fill(token)
    page.locator(".modal-ux button.authorize").click()
    page.locator(".modal-ux button.btn-done").click()
    operation = page.locator("#operations-regions-list_regions_api_v1_regions_get")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status").first
    status.wait_for()
    screenshot(page, "docs-authorised")
    assert status.inner_text().strip() == "200"
    assert outside == []
