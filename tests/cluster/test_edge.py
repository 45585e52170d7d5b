"""The edge: HTTPS and WSS through HAProxy, screens kept to one process by
terminal id, a killed process taken out of rotation, certificates checked."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from lianbo.player.api import Refused, TerminalApi, Unreachable, websocket_url
from lianbo.player.tls import server_context
from tests.cluster.harness import Cluster, wait_for
from tests.cluster.screens import enrolled_screen, holder, open_socket
from tests.support.certs import Ca
from tests.support.waiting import HANG_GUARD_S

pytestmark = pytest.mark.cluster


def test_a_request_over_https_reaches_a_process(proxy_url: str, cluster: Cluster) -> None:
    with httpx.Client(verify=cluster.tls()) as client:
        reply = client.get(f"{proxy_url}/healthz")
    assert reply.status_code == 200
    assert reply.json()["status"] == "ok"


def test_a_screen_keeps_to_one_process_by_terminal_id(
    cluster: Cluster, admin: httpx.Client
) -> None:
    terminal_id, token = enrolled_screen(admin, cluster)
    places = []
    for _ in range(3):
        with open_socket(cluster, terminal_id, token):
            places.append(holder(cluster))
        wait_for(lambda: not any(cluster.proxy.sessions("screens").values()), "socket closed")
    assert len(set(places)) == 1, places


def test_a_killed_process_leaves_rotation_and_requests_still_succeed(
    cluster: Cluster, admin: httpx.Client
) -> None:
    terminal_id, token = enrolled_screen(admin, cluster)
    with open_socket(cluster, terminal_id, token):
        victim = cluster.by_name(holder(cluster))
        victim.kill()
        # Right away (a connection refused is sent elsewhere) and once HAProxy
        # has marked the process down, every request is answered.
        for _ in range(6):
            assert admin.get("/api/v1/terminals").status_code == 200
        cluster.wait_status(victim.name, up=False)
        for _ in range(6):
            assert admin.get("/api/v1/terminals").status_code == 200
    # The screen's socket died with its process; it comes back on another.
    with open_socket(cluster, terminal_id, token):
        assert holder(cluster) != victim.name


def test_a_hung_process_leaves_rotation_with_its_screens_and_comes_back(
    cluster: Cluster, admin: httpx.Client
) -> None:
    terminal_id, token = enrolled_screen(admin, cluster)
    with open_socket(cluster, terminal_id, token) as ws:
        hung = cluster.by_name(holder(cluster))
        hung.pause()
        cluster.wait_status(hung.name, up=False)  # its /healthz check timed out
        with pytest.raises(ConnectionClosed):  # the proxy ended the screen's session
            while True:
                ws.recv(timeout=HANG_GUARD_S)
    with open_socket(cluster, terminal_id, token):
        assert holder(cluster) != hung.name
    hung.resume()
    cluster.wait_status(hung.name, up=True)


def test_the_proxy_never_logs_a_token(cluster: Cluster, admin: httpx.Client) -> None:
    # The web player's socket carries its token in the query string.
    terminal_id, token = enrolled_screen(admin, cluster)
    url = f"{websocket_url(cluster.proxy_url, terminal_id)}&token={token}"
    with connect(url, ssl=server_context(cluster.ca.pem)) as ws:
        assert '"hello"' in str(ws.recv(timeout=60))
    log = cluster.proxy.log
    wait_for(lambda: "/terminal/v1/ws" in log.read_text(), "the socket's log line")
    assert token not in log.read_text()
    assert terminal_id not in log.read_text()  # nor the query string at all


def test_forwarded_for_is_the_clients_own_address(cluster: Cluster) -> None:
    # The client calls from 127.0.0.2 and claims to be 203.0.113.9: the
    # proxy drops the claim, the server believes the proxy's header.
    transport = httpx.HTTPTransport(local_address="127.0.0.2", verify=cluster.tls())
    name, password = cluster.admin
    with httpx.Client(transport=transport, base_url=cluster.proxy_url) as client:
        forged = {"X-Forwarded-For": "203.0.113.9"}
        login = {"username": name, "password": password}
        reply = client.post("/api/v1/auth/token", json=login, headers=forged)
        assert reply.status_code == 200
        headers = {"Authorization": f"Bearer {reply.json()['token']}"}
        entries = client.get("/api/v1/audit", params={"action": "auth.login"}, headers=headers)
    assert entries.json()["items"][0]["address"] == "127.0.0.2"


def test_a_server_certificate_from_another_ca_is_refused(cluster: Cluster) -> None:
    async def beat(ca: str) -> None:
        async with httpx.AsyncClient(verify=server_context(ca)) as client:
            api = TerminalApi(cluster.proxy_url, "no-token", client, terminal_id="t")
            await api.heartbeat({})

    with pytest.raises(Unreachable, match="certificate is not trusted"):
        asyncio.run(beat(Ca.make("rogue CA").pem))
    with pytest.raises(Refused) as refused:  # the right CA: TLS works, the token does not
        asyncio.run(beat(cluster.ca.pem))
    assert refused.value.status == 401
