"""What ``bench/cluster.py`` measures on a running cluster, one figure each.

Every time is wall clock: the simulator's workers stamp arrivals with
``time.time()`` on the same host as this process, so stamps compare.
``Fleet`` is the simulated screens plus which process holds each one (read
from HAProxy's sessions: the screen's source ``ip:port`` → the server).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import re
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.harness.cluster import Cluster
from lianbo.adapters.bus.postgres import asyncpg_dsn
from lianbo.adapters.db.uow import CHANNEL
from lianbo.domain.events import UnknownEvent, open_envelope
from lianbo.sim.run import Workers, percentiles

SESSION = re.compile(r"src=(\S+) fe=\S+ be=screens srv=(\S+)")
POLL_S = 0.1
MANIFEST_ROUTES = {"/terminal/v1/manifest", "/manifests/{audience_key}/{version}"}


@dataclass
class Fleet:
    workers: Workers
    count: int
    holders: dict[str, str]  # terminal id -> the process holding its socket

    def held_by(self, name: str) -> list[str]:
        return [t for t, held in self.holders.items() if held == name]

    def spread(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for name in self.holders.values():
            found[name] = found.get(name, 0) + 1
        return dict(sorted(found.items()))


async def admin_api(process_url: str, admin: tuple[str, str]) -> httpx.AsyncClient:
    """An admin API client on one process's own port (plain HTTP, no proxy)."""
    client = httpx.AsyncClient(base_url=process_url, timeout=120)
    token = await client.post(
        "/api/v1/auth/token", json={"username": admin[0], "password": admin[1]}
    )
    token.raise_for_status()
    client.headers["Authorization"] = f"Bearer {token.json()['token']}"
    return client


async def manifest_requests(cluster: Cluster) -> float:
    """Manifest requests the live API processes answered so far (any status),
    from each one's own ``/metrics``."""
    total = 0.0
    async with httpx.AsyncClient(timeout=30) as client:
        for process in cluster.processes:
            if not process.alive:
                continue
            with suppress(httpx.HTTPError):
                text = (await client.get(f"{process.url}/metrics")).text
                total += sum(
                    sample.value
                    for family in text_string_to_metric_families(text)
                    for sample in family.samples
                    if sample.name == "lianbo_http_requests_total"
                    and sample.labels.get("route") in MANIFEST_ROUTES
                )
    return total


async def holders(cluster: Cluster, workers: Workers) -> dict[str, str]:
    """Which process holds each connected screen, by HAProxy's ``show sess``."""
    addresses: dict[str, str] = {}
    for part in await workers.call("addresses"):
        addresses |= part
    by_source: dict[str, str] = {}
    for proxy in cluster.edges:
        by_source |= dict(SESSION.findall(proxy.command("show sess")))
    return {t: by_source[a] for t, a in addresses.items() if a in by_source}


async def until_all(condition: Any, timeout_s: float, every: float = POLL_S) -> float | None:
    """Seconds until ``await condition()`` holds; None if it never did."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if await condition():
            return time.monotonic() - started
        await asyncio.sleep(every)
    return None


# event propagation between processes ---------------------------------------


class BusTap:
    """A listener of its own on the cluster's bus channel: for every event a
    process commits, envelope ``sent_at`` (the sender's clock, at commit) →
    here, on the same host. The bus's own delivery under the run's load,
    beside what screens see (``commands``)."""

    def __init__(self, database_url: str) -> None:
        self.dsn = asyncpg_dsn(database_url)
        self.lags: list[float] = []
        self.conn: Any = None

    async def start(self) -> None:
        self.conn = await asyncpg.connect(self.dsn)
        await self.conn.add_listener(CHANNEL, self._heard)

    def _heard(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        now = time.time()
        try:
            sent_at = open_envelope(payload).sent_at
        except UnknownEvent:
            return
        if sent_at is not None:
            self.lags.append(max(0.0, now - sent_at))

    def figures(self) -> dict[str, Any]:
        return {"events": len(self.lags), "lag_ms": percentiles(self.lags)}

    async def stop(self) -> None:
        if self.conn is not None:
            await self.conn.close()


async def commands(api: httpx.AsyncClient, fleet: Fleet, here: str, count: int) -> dict[str, Any]:
    """``count`` commands issued on process ``here`` (its own port), one at a
    time, to screens spread over every process: a ``CommandSent`` event
    committed on ``here`` and pushed by whichever process holds the screen.
    Per command: request start → the screen has it; split by holder."""
    names = sorted(set(fleet.holders.values()))
    rounds = itertools.zip_longest(*(fleet.held_by(n) for n in names))
    picked = [t for one in rounds for t in one if t is not None][:count]
    sent: dict[str, tuple[float, str]] = {}
    for terminal_id in picked:
        started = time.time()
        reply = await api.post(
            f"/api/v1/terminals/{terminal_id}/commands", json={"command": "reload"}
        )
        reply.raise_for_status()
        sent[str(reply.json()["id"])] = (started, fleet.holders[terminal_id])
    arrived: dict[str, float] = {}

    async def all_arrived() -> bool:
        for part in await fleet.workers.call("commands"):
            arrived.update({k: v for k, v in part.items() if k in sent})
        return len(arrived) == len(sent)

    await until_all(all_arrived, 30)
    local = [arrived[c] - s for c, (s, h) in sent.items() if c in arrived and h == here]
    across = [arrived[c] - s for c, (s, h) in sent.items() if c in arrived and h != here]
    return {
        "sent": len(sent),
        "received": len(arrived),
        "issued_on": here,
        "across_ms": percentiles(across),
        "local_ms": percentiles(local),
    }


# alerts ----------------------------------------------------------------------


def alert_body(headline: str) -> dict[str, Any]:
    """An Extreme alert for the whole province (no confirmation step)."""
    return {
        "severity": "Extreme",
        "event": "地震",
        "headline": headline,
        "description": "预计30秒后有强烈震感。",
        "instruction": "请立即就近避险。",
        "area": {"regions": ["51"]},
        "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    }


class AlertWatch:
    """One alert: who received it (pushed or listed on reconnect) and what
    the delivery board counts as displayed, polled together."""

    def __init__(
        self, api: httpx.AsyncClient, fleet: Fleet, alert_id: str, since: float, here: str
    ) -> None:
        self.api, self.fleet, self.id, self.since, self.here = api, fleet, alert_id, since, here
        self.arrivals: dict[str, float] = {}  # terminal id -> when it had the alert
        self.displayed = 0
        self.received_s: float | None = None
        self.displayed_s: float | None = None

    async def poll(self) -> bool:
        """One look; true once every screen has it and the board counts all."""
        if self.received_s is None:
            for part in await self.fleet.workers.call("alert_times", self.id):
                self.arrivals |= part
            if len(self.arrivals) >= self.fleet.count:
                self.received_s = max(self.arrivals.values()) - self.since
        if self.displayed_s is None:
            board = await self.api.get(f"/api/v1/alerts/{self.id}")
            board.raise_for_status()
            self.displayed = int(board.json()["counts"].get("displayed", 0))
            if self.displayed >= self.fleet.count:
                self.displayed_s = time.time() - self.since
        return self.received_s is not None and self.displayed_s is not None

    async def split(self) -> dict[str, Any]:
        """Where receipt time goes, for pushed copies: until the holding
        process stamped the push (``sent_at``: commit, bus, handler; by
        process) and from there to the screen (the edge, TLS, the screen's
        loop). Listed copies (after a reconnect) carry no stamp."""
        sent: dict[str, float] = {}
        for part in await self.fleet.workers.call("alert_sent", self.id):
            sent |= part
        by_process: dict[str, list[float]] = {}
        for terminal, at in sent.items():
            by_process.setdefault(self.fleet.holders.get(terminal, "?"), []).append(at - self.since)
        transit = [self.arrivals[t] - at for t, at in sent.items() if t in self.arrivals]
        return {
            "pushed": len(sent),
            "pushed_at_ms": {name: percentiles(at) for name, at in sorted(by_process.items())},
            "push_transit_ms": percentiles(transit),
        }

    def figures(self) -> dict[str, Any]:
        """Receipt per screen from ``since``: all, on other processes than the
        issuing one (``across``), on the issuing one (``local``)."""
        holder = self.fleet.holders.get
        taken = {t: at - self.since for t, at in self.arrivals.items()}
        return {
            "received": len(taken),
            "receipt_ms": percentiles(list(taken.values())),
            "receipt_across_ms": percentiles(
                [s for t, s in taken.items() if holder(t) != self.here]
            ),
            "receipt_local_ms": percentiles(
                [s for t, s in taken.items() if holder(t) == self.here]
            ),
            "all_received_s": _round(self.received_s),
            "displayed_on_board": self.displayed,
            "all_displayed_on_board_s": _round(self.displayed_s),
        }


async def issue(api: httpx.AsyncClient, headline: str) -> tuple[str, int, float, float]:
    """Issue an alert on ``api``'s process: (id, targeted, started, request ms)."""
    started = time.time()
    reply = await api.post("/api/v1/alerts", json=alert_body(headline))
    reply.raise_for_status()
    alert = reply.json()
    return str(alert["id"]), int(alert["targeted"]), started, (time.time() - started) * 1000


async def alert(
    api: httpx.AsyncClient, fleet: Fleet, here: str, timeout_s: float
) -> dict[str, Any]:
    """Issue on ``here`` → every screen has it (per screen) → the board
    counts all displayed."""
    alert_id, targeted, started, request_ms = await issue(api, "地震预警（集群基准测试）")
    watch = AlertWatch(api, fleet, alert_id, started, here)
    await until_all(watch.poll, timeout_s, every=0.25)
    await cancel(api, alert_id)
    return {
        "targeted": targeted,
        "issue_request_ms": round(request_ms, 1),
        **watch.figures(),
        **await watch.split(),
    }


async def cancel(api: httpx.AsyncClient, alert_id: str) -> None:
    """Cancelled once measured: a later reconnect lists it as a cancel, not again."""
    (await api.post(f"/api/v1/alerts/{alert_id}/cancel")).raise_for_status()


# failover ----------------------------------------------------------------------


async def failover(
    kill: Callable[[], None],
    api: httpx.AsyncClient,
    fleet: Fleet,
    here: str,
    victim: str,
    timeout_s: float,
) -> dict[str, Any]:
    """``kill()`` ends ``victim`` (a process, a broker node: the holder of
    some screens) at once; 1 s later an alert is issued (elsewhere). Until
    its screens are back (greeted anew elsewhere) and the alert is on every
    screen and counted displayed on the board."""
    held = len(fleet.held_by(victim))
    killed_at = time.time()
    kill()
    await asyncio.sleep(1.0)
    alert_id, targeted, _, request_ms = await issue(api, "地震预警（故障切换基准测试）")
    watch = AlertWatch(api, fleet, alert_id, killed_at, here)
    back_s: float | None = None

    async def settled() -> bool:
        nonlocal back_s
        if back_s is None:
            again = sum(await fleet.workers.call("ready_since", killed_at))
            ready = await fleet.workers.ready()
            if again >= held and ready >= fleet.count:
                back_s = time.time() - killed_at
        return await watch.poll() and back_s is not None

    await until_all(settled, timeout_s, every=0.25)
    figures = watch.figures()
    moved = set(fleet.held_by(victim))
    back = {t: at - killed_at for t, at in watch.arrivals.items() if t in moved}
    await cancel(api, alert_id)
    return {
        "killed": victim,
        "screens_it_held": held,
        "all_back_s": _round(back_s),
        "alert_issued_after_kill_s": 1.0,
        "alert_issue_request_ms": round(request_ms, 1),
        "targeted": targeted,
        "alert_on_every_screen_s": figures["all_received_s"],
        "alert_displayed_on_board_s": figures["all_displayed_on_board_s"],
        "receipt_from_kill_ms": figures["receipt_ms"],
        "receipt_from_kill_moved_ms": percentiles(list(back.values())),
        "received": figures["received"],
        "displayed_on_board": figures["displayed_on_board"],
        "alerts_lost": targeted - figures["displayed_on_board"],
    }


def _round(seconds: float | None) -> float | None:
    return None if seconds is None or math.isinf(seconds) else round(seconds, 2)
