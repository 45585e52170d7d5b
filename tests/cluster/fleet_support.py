"""Simulated screens for the failover tests, built from the player's own parts.

Each screen is what ``lianbo player`` runs for alerts, minus the picture: the
push channel (``player/push.py``: WSS through HAProxy with ``?terminal=``,
reconnecting with the player's jittered backoff), the alert list fetched on
every (re)connect (``player/alert_sync.py``), the alert desk deciding what to
show (``player/alerts.py``), and the acks kept until the server has them
(``player/alert_acks.py``: up the socket while it answers, else HTTP). What
the desk puts on screen is shown at once and acked ``displayed``. Heartbeats
go over the socket (``status``) as the player sends them while its push
channel is up.

All screens run in one event loop on a thread of their own (``Loop``); the
test thread reads their counters and waits on them (``harness.wait_for``).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx

from lianbo.player.alert_acks import AckBook, AckSender
from lianbo.player.alert_state import ENDED
from lianbo.player.alert_sync import AlertSync
from lianbo.player.alerts import AlertDesk
from lianbo.player.api import TerminalApi, keys_of, websocket_url
from lianbo.player.backoff import Backoff
from lianbo.player.cache import MediaCache
from lianbo.player.clock import OffsetEstimator, SystemClock
from lianbo.player.push import PushChannel
from lianbo.player.tls import server_context
from lianbo.protocol.messages import Message
from tests.cluster.harness import Cluster
from tests.support.waiting import HANG_GUARD_S

T = TypeVar("T")

REGION = "510107"  # where every simulated screen stands
BEAT_S = 3.0  # as LIANBO_HEARTBEAT_SECONDS in the failover cluster


class Loop:
    """An asyncio loop on its own thread; ``call`` runs a coroutine on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coroutine: Coroutine[Any, Any, T], within: float = HANG_GUARD_S) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(within)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=15)
        self.loop.close()


@dataclass(frozen=True)
class Enrolled:
    terminal_id: str
    token: str
    keys: dict[str, str]


def enrol(admin: httpx.Client, cluster: Cluster, name: str) -> Enrolled:
    """A new outdoor screen in ``REGION``, enrolled through the proxy."""
    body = {"name": name, "tier": "outdoor", "region": REGION}
    made = admin.post("/api/v1/terminals", json=body | {"latitude": 30.64, "longitude": 104.04})
    assert made.status_code == 201, made.text
    with httpx.Client(base_url=cluster.proxy_url, verify=cluster.tls(), timeout=30) as client:
        reply = client.post("/terminal/v1/enrol", json={"code": made.json()["enrolment_code"]})
    assert reply.status_code == 200, reply.text
    data = reply.json()
    return Enrolled(str(data["terminal_id"]), str(data["token"]), keys_of(data))


@dataclass
class Screen:
    """One simulated player (see the module docstring)."""

    enrolled: Enrolled
    server: str
    client: httpx.AsyncClient
    ca_pem: str
    state_dir: Path
    hellos: int = 0  # sessions the hub greeted
    beats: int = 0
    shown: dict[str, float] = field(default_factory=dict)  # alert id -> when (epoch s)
    pushed: set[str] = field(default_factory=set)  # alert ids that came on the socket

    def __post_init__(self) -> None:
        e = self.enrolled
        self.api = TerminalApi(self.server, e.token, self.client, terminal_id=e.terminal_id)
        self.acks = AckBook()
        self.desk = AlertDesk(
            self.state_dir,
            lambda: e.keys,
            lambda: datetime.now(UTC),
            self.acks.add,
            on_change=self._changed,
        )
        cache = MediaCache(self.state_dir / "media", 1 << 20, self.client)
        self.sync = AlertSync(self.desk, self.api, cache, set, Backoff(), time.monotonic)
        self.push = PushChannel(
            websocket_url(self.server, e.terminal_id),
            e.token,
            self._on_push,
            clock=SystemClock(),
            estimator=OffsetEstimator(),
            backoff=Backoff(),  # the player's: 1 s base, 60 s cap, full jitter
            on_connect=self._on_connect,
            tls=server_context(self.ca_pem),
        )
        self.sender = AckSender(self.acks, self.api, Backoff(), self.push)

    @property
    def terminal_id(self) -> str:
        return self.enrolled.terminal_id

    @property
    def connected(self) -> bool:
        return self.push.connected

    @property
    def fetches(self) -> int:
        """Alert lists received (one per (re)connect at least)."""
        return self.desk.fetches

    def ended(self, alert_id: str) -> bool:
        """The desk took the alert off (cancelled, replaced, expired, withdrawn)."""
        record = self.desk.records.get(alert_id)
        return record is not None and record.state in ENDED

    def local_port(self) -> int | None:
        """The socket's own port, to find it in HAProxy's sessions."""
        ws = self.push._ws  # the channel keeps its socket private
        if ws is None:
            return None
        name = ws.transport.get_extra_info("sockname")
        return int(name[1]) if name else None

    async def run(self) -> None:
        await asyncio.gather(self.push.run(), self.sync.run(), self.sender.run(), self._beat())

    async def drop(self) -> None:
        """Close the socket (the screen reconnects after its backoff)."""
        ws = self.push._ws
        if ws is not None:
            await ws.close()

    async def _on_connect(self) -> None:
        self.sync.wake()  # pushes sent while away are lost: ask for the list
        self.sender.reconnected()  # acks unanswered on the old socket: again

    async def _on_push(self, message: Message) -> None:
        if message.type == "hello":
            self.hellos += 1
        elif message.type == "alert-ack":
            self.sender.answer(message.body)
        elif message.type in ("alert", "alert-cancel"):
            if message.type == "alert":
                self.pushed.add(str(message.body.get("id")))
            await self.desk.receive({"type": message.type, **message.body})

    def _changed(self) -> None:
        """The desk changed: put its current alert on screen (ack ``displayed``)."""
        cue = self.desk.current(datetime.now(UTC))
        if cue is not None and cue.id not in self.shown:
            self.shown[cue.id] = time.time()
            self.desk.shown(cue, datetime.now(UTC))

    async def _beat(self) -> None:
        while True:
            if await self.push.send(Message("status", {"push": "connected"})):
                self.beats += 1
            await asyncio.sleep(BEAT_S)


class Fleet:
    """``n`` screens enrolled through the proxy, running until ``close``."""

    def __init__(self, cluster: Cluster, admin: httpx.Client, n: int) -> None:
        self.cluster = cluster
        self.loop = Loop()
        self.root = Path(tempfile.mkdtemp(prefix="lianbo-fleet-"))
        self.tag = uuid.uuid4().hex[:6]
        self.client = self.loop.call(self._client())
        self.screens: list[Screen] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.add(admin, n)

    def add(self, admin: httpx.Client, n: int) -> None:
        """Enrol ``n`` more screens and start them."""
        for _ in range(n):
            e = enrol(admin, self.cluster, f"失效切换屏-{self.tag}-{len(self.screens)}")
            screen = Screen(
                e,
                self.cluster.proxy_url,
                self.client,
                self.cluster.ca.pem,
                self.root / e.terminal_id,
            )
            self.screens.append(screen)
            self.tasks.append(self.loop.call(self._start(screen)))

    async def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(verify=server_context(self.cluster.ca.pem))

    @staticmethod
    async def _start(screen: Screen) -> asyncio.Task[None]:
        return asyncio.create_task(screen.run())

    def hellos(self) -> dict[str, int]:
        return {s.terminal_id: s.hellos for s in self.screens}

    def all_connected(self) -> bool:
        return all(s.connected and s.hellos > 0 for s in self.screens)

    def ports(self) -> dict[int, Screen]:
        return {p: s for s in self.screens if (p := s.local_port()) is not None}

    def bounce(self) -> None:
        """Every screen reconnects (to the process its id hashes to)."""
        self.loop.call(self._drop_all())

    async def _drop_all(self) -> None:
        await asyncio.gather(*(s.drop() for s in self.screens))

    def close(self) -> None:
        self.loop.call(self._stop())
        self.loop.close()
        shutil.rmtree(self.root, ignore_errors=True)

    async def _stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.client.aclose()
        # What the sockets left behind (their keepalive tasks), before the loop goes.
        rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)
