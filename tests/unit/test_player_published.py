"""A pushed manifest URL (ADR 0024): the agent fetches the version from it at
once, without a token, verifies it as any manifest, and on any failure asks
``GET /terminal/v1/manifest`` as before."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from lianbo.protocol.messages import manifest_changed
from tests.support.waiting import until
from tests.unit.test_player_agent import SHA_A, SHA_B, A, B, Centre, Hub, agent, hub, plan, shown
from tests.unit.test_protocol_manifest import Signer

__all__ = ["hub"]  # the fixture, from the agent's tests

EDGE = "http://edge.example:8080"


class PublishingCentre(Centre):
    """The fake centre, and behind ``EDGE`` its published versions:
    ``documents`` maps a path to the text the edge answers."""

    def __init__(self, signer: Signer) -> None:
        super().__init__(signer)
        self.documents: dict[str, str] = {}
        self.edge_requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "edge.example":
            self.edge_requests.append(request)
            text = self.documents.get(request.url.path)
            if text is None:
                return httpx.Response(404, json={"error": {"code": "not_found", "message": "no"}})
            return httpx.Response(200, text=text)
        return super().__call__(request)

    def put(self, body: dict[str, Any], signer: Signer | None = None) -> str:
        """Serve ``body`` (signed by ``signer``, else the centre) at its URL."""
        path = f"/manifests/{'a' * 32}/{body['version']}"
        text = (signer or self.signer).envelope(body)
        self.documents[path] = text.rsplit(',"server_time"', 1)[0] + "}"  # it has none
        assert "server_time" not in json.loads(self.documents[path])
        return EDGE + path


def second_plan() -> dict[str, Any]:
    return plan(("b", f"http://cdn.example/media/{SHA_B}", B))


async def started(tmp_path: Path, centre: Centre, fake: Hub, port: int) -> Any:
    screen = agent(tmp_path, centre, port, push_poll_seconds=300)
    running = asyncio.create_task(screen.run())
    await until(lambda: fake.connections and "a" in shown(screen))
    return screen, running


async def test_a_pushed_url_is_fetched_at_once_without_a_token_and_applied(
    tmp_path: Path, hub: tuple[Hub, int]
) -> None:
    fake, port = hub
    centre = PublishingCentre(Signer())
    screen, running = await started(tmp_path, centre, fake, port)
    try:
        polls = centre.count("/terminal/v1/manifest")
        body = second_plan()
        url = centre.put(body)
        await fake.connections[-1].send(manifest_changed(body["version"], url).encode())
        await until(lambda: "b" in shown(screen))
        assert screen.fetcher.current.version == body["version"]
        (request,) = centre.edge_requests
        assert "authorization" not in request.headers and not request.url.query
        assert centre.count("/terminal/v1/manifest") == polls  # the centre was not asked
        assert (tmp_path / "manifest.json").read_text() == centre.documents[request.url.path]
    finally:
        screen.stop()
        await running


async def test_a_bad_signature_at_the_url_falls_back_to_the_authenticated_fetch(
    tmp_path: Path, hub: tuple[Hub, int]
) -> None:
    fake, port = hub
    centre = PublishingCentre(Signer())
    screen, running = await started(tmp_path, centre, fake, port)
    try:
        polls = centre.count("/terminal/v1/manifest")
        body = second_plan()
        url = centre.put(body)
        path = url.removeprefix(EDGE)
        centre.documents[path] = centre.documents[path].replace(SHA_B, SHA_A, 1)  # tampered
        centre.publish(body)  # the centre's own answer is good
        await fake.connections[-1].send(manifest_changed(body["version"], url).encode())
        await until(lambda: "b" in shown(screen))
        assert len(centre.edge_requests) == 1
        assert centre.count("/terminal/v1/manifest") == polls + 1
        assert screen.fetcher.rejection is None
    finally:
        screen.stop()
        await running


async def test_a_404_or_another_version_at_the_url_falls_back_too(
    tmp_path: Path, hub: tuple[Hub, int]
) -> None:
    fake, port = hub
    centre = PublishingCentre(Signer())
    screen, running = await started(tmp_path, centre, fake, port)
    try:
        polls = centre.count("/terminal/v1/manifest")
        first = screen.fetcher.current.version
        body = second_plan()
        centre.publish(body)
        missing = f"{EDGE}/manifests/{'a' * 32}/{body['version']}"
        await fake.connections[-1].send(manifest_changed(body["version"], missing).encode())
        await until(lambda: "b" in shown(screen))
        assert centre.count("/terminal/v1/manifest") == polls + 1

        # A cache answering an older signed version (a replay) is not taken.
        third = plan(
            ("a", f"http://cdn.example/media/{SHA_A}", A),
            ("b", f"http://cdn.example/media/{SHA_B}", B),
        )
        older = centre.put(second_plan())  # signed, valid, but not what was pushed
        centre.publish(third)
        assert third["version"] not in (first, body["version"])
        await fake.connections[-1].send(manifest_changed(third["version"], older).encode())
        await until(lambda: screen.fetcher.current.version == third["version"])
        assert centre.count("/terminal/v1/manifest") == polls + 2
    finally:
        screen.stop()
        await running
