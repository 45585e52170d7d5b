"""What the failover tests need beside the screens: a cluster of their own
(short heartbeats, so the sweeper's verdicts come within seconds), the
store's truth read straight from PostgreSQL, and who holds what (HAProxy's
sessions, each process's ``/healthz``).

The cluster comes from the shared harness (``launch``, the shipped HAProxy
config) with a few settings of its own; it lives for one test module.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import re
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.cluster.harness import Cluster, Haproxy, launch
from tests.support.services import Postgres
from tests.support.waiting import HANG_GUARD_S

ADMIN = ("failover-admin", "failover-admin-pw-51")
# Screens beat every 3 s and are offline after two missed beats (6 s), so a
# leader's sweeper has a verdict to give within seconds of a takeover.
SETTINGS = {"LIANBO_HEARTBEAT_SECONDS": "3", "LIANBO_OFFLINE_AFTER_MISSED": "2"}


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(command[:3])} failed: {done.stderr}"


@contextmanager
def failover_cluster(postgres: Postgres, processes: int = 3) -> Iterator[Cluster]:
    """PostgreSQL database, ``processes`` × ``lianbo serve``, HAProxy over TLS
    (the shared harness's ``launch``, with this module's short heartbeats)."""
    base = Path(tempfile.mkdtemp(prefix="lianbo-failover-"))
    database = f"failover_{uuid.uuid4().hex[:8]}"
    psql = [str(postgres.bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(postgres.port)]
    _run([*psql, "-U", "lianbo", "-d", "postgres", "-c", f"CREATE DATABASE {database}"])
    cluster = launch(base, postgres.url(database), ADMIN, processes=processes, settings=SETTINGS)
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


# -- who holds what ------------------------------------------------------------

_SESSION = re.compile(r"src=[^ ]*:(\d+) fe=\S+ be=(\S+) srv=(\S+)")


def sessions(proxy: Haproxy, backend: str) -> dict[int, str]:
    """HAProxy's current sessions on ``backend``: client port → server name."""
    found = {}
    for match in _SESSION.finditer(proxy.command("show sess")):
        port, be, server = match.groups()
        if be == backend and server != "<none>":
            found[int(port)] = server
    return found


def leaders(cluster: Cluster) -> list[str]:
    """The live processes that say (on their own ``/healthz``) they lead."""
    found = []
    for process in cluster.processes:
        if not process.alive:
            continue
        try:
            reply = httpx.get(f"{process.url}/healthz", timeout=5)
        except httpx.TransportError:
            continue
        if reply.json().get("info", {}).get("leader") is True:
            found.append(process.name)
    return found


# -- alerts through the proxy ----------------------------------------------------


def alert_body(marker: str, expires_in: timedelta = timedelta(hours=1)) -> dict[str, Any]:
    """An Extreme exercise for every screen in the region, named by ``marker``."""
    return {
        "status": "Exercise",
        "severity": "Extreme",
        "event": marker,
        "headline": f"地震预警 {marker}",
        "description": "预计30秒后有强烈震感。",
        "instruction": "请立即就近避险。",
        "area": {"regions": ["510107"]},
        "expires_at": (datetime.now(UTC) + expires_in).isoformat(),
    }


def new_marker() -> str:
    return f"failover-{uuid.uuid4().hex[:10]}"


# -- the store's truth -------------------------------------------------------------


def dsn(cluster: Cluster) -> str:
    """The cluster's database as asyncpg spells it."""
    url = cluster.processes[0].env["LIANBO_DATABASE_URL"]
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def rows(cluster: Cluster, query: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(dsn(cluster))
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


STORED_ALERTS = "SELECT id, state FROM alerts WHERE event = $1"
DELIVERIES = "SELECT terminal_id, state FROM alert_deliveries WHERE alert_id = $1"
DOUBLED_DELIVERIES = (
    "SELECT alert_id, terminal_id FROM alert_deliveries GROUP BY 1, 2 HAVING count(*) > 1"
)
DOUBLED_ALARMS = (
    "SELECT terminal_id, type FROM alarms WHERE state <> 'resolved' "
    "GROUP BY 1, 2 HAVING count(*) > 1"
)
ALARMS_OF = "SELECT type, state FROM alarms WHERE terminal_id = $1"
PRESENCE_OF = "SELECT state FROM presence_log WHERE terminal_id = $1 ORDER BY at, id"


def query(cluster: Cluster, sql: str, *args: Any) -> list[asyncpg.Record]:
    """One query on the cluster's database, from the test thread."""
    return asyncio.run(rows(cluster, sql, *args))


@contextmanager
def admin_client(cluster: Cluster) -> Iterator[httpx.Client]:
    """An API client logged in as the admin (51), through HAProxy over HTTPS."""
    with httpx.Client(base_url=cluster.proxy_url, verify=cluster.tls(), timeout=60) as client:
        name, password = cluster.admin
        reply = client.post("/api/v1/auth/token", json={"username": name, "password": password})
        assert reply.status_code == 200, reply.text
        client.headers["Authorization"] = f"Bearer {reply.json()['token']}"
        yield client


# -- an alert caught in the middle of its transaction ------------------------------


def blocked_insert(table: str) -> str:
    """How many INSERTs into ``table`` wait for a lock (mid-transaction)."""
    return (
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "JOIN pg_stat_activity a ON a.pid = l.pid "
        f"WHERE c.relname = '{table}' AND NOT l.granted AND a.query ILIKE 'INSERT%' "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )


class TableLocked:
    """Holds ``table`` in EXCLUSIVE mode (reads pass, writes wait): a request
    writing to it waits there, mid-transaction, until ``release`` — e.g. an
    alert being issued has written its row and waits to write its delivery
    rows. Runs on the fleet's loop."""

    def __init__(self, cluster: Cluster, table: str) -> None:
        self.cluster = cluster
        self.table = table
        self.connection: asyncpg.Connection | None = None

    async def take(self) -> None:
        self.connection = await asyncpg.connect(dsn(self.cluster))
        await self.connection.execute("BEGIN")
        await self.connection.execute(f"LOCK TABLE {self.table} IN EXCLUSIVE MODE")

    async def release(self) -> None:
        if self.connection is not None:
            await self.connection.execute("COMMIT")
            await self.connection.close()
            self.connection = None


class Issue(threading.Thread):
    """``POST /api/v1/alerts`` (or ``path``) through the proxy on a connection
    of its own, whose client port names its session in HAProxy (``sessions``)."""

    def __init__(
        self,
        cluster: Cluster,
        token: str,
        body: dict[str, Any],
        path: str = "/api/v1/alerts",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(daemon=True)
        self.cluster = cluster
        self.token = token
        self.path = path
        self.headers = headers or {}
        self.body = json.dumps(body).encode()
        self.port: int | None = None
        self.status: int | None = None  # None: the connection failed
        self.reply: dict[str, Any] = {}
        self.error: str | None = None

    def run(self) -> None:
        host, port = "127.0.0.1", self.cluster.proxy.port
        connection = http.client.HTTPSConnection(
            host, port, context=self.cluster.tls(), timeout=300
        )
        try:
            connection.connect()
            assert connection.sock is not None
            self.port = int(connection.sock.getsockname()[1])
            headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
            headers |= self.headers
            connection.request("POST", self.path, body=self.body, headers=headers)
            response = connection.getresponse()
            self.status, text = response.status, response.read()
            with contextlib.suppress(ValueError):
                self.reply = json.loads(text)
        except (OSError, http.client.HTTPException) as error:
            self.error = f"{type(error).__name__}: {error}"
        finally:
            connection.close()

    def finish(self) -> None:
        """Wait for the answer (or the failure); a request that never ends fails."""
        self.join(HANG_GUARD_S)
        assert not self.is_alive(), "the issuing request never ended"

    def outcome(self) -> str:
        return f"status {self.status}, error {self.error}, reply {self.reply}"
