"""A real server for WebSocket tests (httpx's ASGI transport has no WebSockets)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from bench.harness import nats
from bench.harness.nats import NatsCluster

from lianbo.adapters.fleet import mosquitto
from lianbo.adapters.fleet.mqtt import Broker
from lianbo.adapters.fleet.nats_auth import Login
from lianbo.adapters.fleet.nats_jwt import Signer
from lianbo.api.app import create_app
from lianbo.api.serving import uvicorn_config
from tests.support.env import Env
from tests.support.services import free_port, missing, nats_server

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


@dataclass
class Served:
    """The env's container behind a real uvicorn on a free port."""

    env: Env
    port: int

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/terminal/v1/ws"

    async def screen(self, admin: dict[str, str], **fields: Any) -> tuple[str, str]:
        return await enrolled(self.env, admin, **fields)


async def enrolled(env: Env, admin: dict[str, str], **fields: Any) -> tuple[str, str]:
    """A terminal created and enrolled: (terminal_id, token)."""
    created = await env.terminal(admin, **fields)
    response = await env.client.post("/terminal/v1/enrol", json={"code": created["enrolment_code"]})
    assert response.status_code == 200, response.text
    return created["id"], response.json()["token"]


@pytest.fixture
async def served(env: Env) -> AsyncIterator[Served]:
    app = create_app(container=env.container)
    port = free_port()
    config = uvicorn_config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.01)
    await env.container.fleet.start()
    yield Served(env, port)
    await env.container.fleet.stop()
    server.should_exit = True
    await task


class Mosquitto:
    """A private mosquitto on a free port: password file, ACL, temp dir."""

    SERVER = ("lianbo-server", "server-secret-1")

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.passwords = root / "passwd"
        self.acl = root / "acl"
        self.process: subprocess.Popen[bytes] | None = None

    def accounts(self, accounts: list[tuple[str, str]]) -> None:
        """Replace the terminal accounts (and reload a running broker)."""
        mosquitto.write_password_file(self.passwords, [self.SERVER, *accounts])
        if self.process is not None:
            self.process.send_signal(signal.SIGHUP)
            time.sleep(0.2)

    def start(self) -> None:
        mosquitto.write_acl(self.acl, self.SERVER[0])
        if not self.passwords.exists():
            self.accounts([])
        conf = self.root / "mosquitto.conf"
        user = "root" if os.geteuid() == 0 else None
        conf.write_text(mosquitto.config(self.port, self.passwords, self.acl, user=user))
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            assert self.process.poll() is None, self.process.stderr
            time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def broker(self) -> Broker:
        return Broker("127.0.0.1", self.port, *self.SERVER)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    if not Path(MOSQUITTO).exists():
        missing("mosquitto is not installed (apt-get install mosquitto)")
    server = Mosquitto(tmp_path)
    server.start()
    yield server
    server.stop()


@dataclass
class NatsBrokers:
    """A three-node NATS cluster and the issuer key its auth callout trusts."""

    cluster: NatsCluster
    issuer: Signer

    def mqtt(self, index: int) -> tuple[str, int]:
        return "127.0.0.1", self.cluster.nodes[index].mqtt_port

    def login(self, which: str) -> Login:
        user, password = getattr(self.cluster.credentials, which)
        return Login(user, password)


def started_nats(size: int = 3) -> NatsBrokers:
    issuer = Signer.new("account")
    return NatsBrokers(nats.start_cluster(nats_server(), issuer.public_key, size), issuer)


@pytest.fixture(scope="module")
def nats_cluster() -> Iterator[NatsBrokers]:
    """Three nodes shared by a module's tests (one that kills a node makes its own)."""
    brokers = started_nats()
    yield brokers
    nats.stop_cluster(brokers.cluster)
