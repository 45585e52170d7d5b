"""Screens in a cluster test: enrolled through the proxy, on their WSS socket."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from lianbo.player.api import websocket_url
from lianbo.player.tls import server_context
from tests.cluster.harness import Cluster, wait_for


def enrolled_screen(admin: httpx.Client, cluster: Cluster) -> tuple[str, str]:
    """A new terminal, enrolled through the proxy: (terminal id, token)."""
    body = {"name": f"边缘测试屏-{uuid.uuid4().hex[:8]}", "tier": "outdoor", "region": "510107"}
    made = admin.post("/api/v1/terminals", json=body | {"latitude": 30.6, "longitude": 104.0})
    assert made.status_code == 201, made.text
    with httpx.Client(base_url=cluster.proxy_url, verify=cluster.tls()) as screen:
        reply = screen.post("/terminal/v1/enrol", json={"code": made.json()["enrolment_code"]})
    assert reply.status_code == 200, reply.text
    return str(reply.json()["terminal_id"]), str(reply.json()["token"])


@contextmanager
def open_socket(cluster: Cluster, terminal_id: str, token: str) -> Iterator[ClientConnection]:
    """The screen's push socket over WSS, once the hub has said hello and
    listed its alerts (ADR 0021)."""
    url = websocket_url(cluster.proxy_url, terminal_id)
    headers = {"Authorization": f"Bearer {token}"}
    with connect(url, additional_headers=headers, ssl=server_context(cluster.ca.pem)) as ws:
        first: Any = ws.recv(timeout=60)
        assert '"hello"' in str(first), first
        listed: Any = ws.recv(timeout=60)
        assert '"alerts"' in str(listed), listed
        yield ws


def holder(cluster: Cluster) -> str:
    """The one process holding a screen's socket, as HAProxy counts them
    (for a test with one socket open: it waits until exactly one is held)."""
    held: list[str] = []

    def one() -> bool:
        held[:] = [s for s, n in cluster.proxy.sessions("screens").items() if n > 0]
        return len(held) == 1

    wait_for(one, "exactly one process holding the socket")
    return held[0]
