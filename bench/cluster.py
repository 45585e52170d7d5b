"""Benchmark ``cluster``: three ``lianbo serve`` behind HAProxy on PostgreSQL,
N simulated screens, and one process alone in the same run for comparison.

The cluster is the one ``tests/cluster`` runs (``bench/harness/cluster.py``:
the shipped ``deploy/haproxy/haproxy.cfg``, TLS with a certificate made for
the run). Screens are seeded straight into the store with tokens (setup, not
measured) and connect as the player does behind HAProxy: ``wss://…?terminal=<id>``
with the run's CA, spread over simulator processes and 127.0.x.y source
addresses as ``bench fleet`` does; on every (re)connect each takes the
alert list the hub sends after its ``hello`` (ADR 0021; it asks
``GET /terminal/v1/alerts`` only without one) and acks each new alert
``displayed`` 0–0.5 s later — up its socket (an ``alert-ack`` message,
issue 15 §2), as a player with a push channel does, not over HTTP.
Measured (issue 14 §5):

- ``propagation``: commands issued on process A (its own port) to screens
  held by every process: request start → the screen has it. ``across`` (held
  by B or C) travels A's commit → PostgreSQL ``NOTIFY`` → the holder's bus
  handler → its socket; ``local`` (held by A) is the same path without the
  bus, so across − local is the bus's share;
- ``publish``: a schedule published through the proxy → push received and
  manifest applied on every screen, and ``api_manifest_requests``: how many
  manifest requests the API processes answered for it (authenticated and
  by version, from their ``/metrics``). The push names the version's URL on
  one nginx edge (the shipped ``deploy/nginx`` config, ``LIANBO_MEDIA_URL``)
  in front of the first process, so the screens fetch it there at once and
  the API answers it about once (ADR 0024); ``--no-edge`` names the API
  behind HAProxy instead;
- ``alert``: issued on A → received on every screen (p50/p99; ``across`` are
  screens held by B and C), and how long until the delivery board counts
  all of them displayed;
- ``failover``: kill -9 one process (not A); how long until all its screens
  are back, and until an alert issued 1 s after the kill is on every screen
  and counted displayed on the board; ``alerts_lost`` must be 0.

    lianbo bench cluster [--size N]
    python -m bench.cluster --screens 1000 [--processes 3] [--database-url URL] [--no-single]
        [--no-edge]

PostgreSQL: ``--database-url`` (or ``LIANBO_DATABASE_URL``; an empty database
is migrated), otherwise a private cluster started for the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import cluster_measure as measure
from bench.fleet import _seed  # the fleet benchmark's seeding: enrolled screens with tokens
from bench.harness import edge as nginx
from bench.harness.cluster import Cluster, launch
from bench.harness.ports import free_port
from bench.harness.postgres import database
from lianbo.config import Settings
from lianbo.sim.admin import Admin
from lianbo.sim.run import Endpoint, Workers, default_processes, percentiles, propagate
from lianbo.sim.screens import Credential

DEFAULT_SIZE = 10_000
PROCESSES = 3
COMMANDS = 90  # propagation samples (30 per process of three)
# HTTP connections per simulator process: real screens each have their own, so
# one screen's alert list must not queue long behind thousands of others' acks
FETCH_CONNECTIONS = 48
# A process may hold 20,000 open files here and HAProxy spends two per
# screen (client and server side): one edge per 7,500 screens, as a province
# would run several edges (same config, same hashing: a screen reaches the
# same process whichever edge it comes through).
EDGE_SCREENS = 7_500
EDGE_MAXCONN = 9_000
GOALS = {"propagation_p99_ms": 200, "alert_receipt_p99_ms": 1000, "failover_s": 30, "lost": 0}


def _note(what: str) -> None:
    """Progress on stderr (stdout carries the one JSON line)."""
    print(f"[cluster {time.strftime('%H:%M:%S')}] {what}", file=sys.stderr, flush=True)


@contextmanager
def manifest_edge(cluster: Cluster, port: int | None) -> Iterator[None]:
    """The nginx edge on ``port`` in front of the first process (none: no edge)."""
    if port is None:
        yield
        return
    edge = nginx.Edge(cluster.processes[0].port, port)
    try:
        yield
    finally:
        edge.stop()


async def _connect(cluster: Cluster, credentials: list[Credential]) -> tuple[Workers, float]:
    n = len(credentials)
    edges = [Endpoint("127.0.0.1", proxy.port) for proxy in cluster.edges]
    workers = Workers(
        "hub",
        edges[0],
        edges[0],
        credentials,
        max(default_processes(n), len(edges)),
        edges=edges,
        fetch_connections=FETCH_CONNECTIONS,
        tls=True,
        ca_pem=cluster.ca.pem,
        answers_alerts=True,
        acks_over="channel",  # "http": the acks as before issue 15, for comparison
    )
    started = time.monotonic()
    await workers.start()
    await workers.wait_ready(n, max(120.0, n / 50))
    return workers, time.monotonic() - started


async def _phase(
    cluster: Cluster, database_url: str, credentials: list[Credential], *, failover: bool
) -> dict[str, Any]:
    """Every measurement on one running cluster (``failover`` kills the last process)."""
    n = len(credentials)
    timeout_s = max(60.0, n / 50)
    here = cluster.processes[0]
    api = await measure.admin_api(here.url, cluster.admin)
    tap = measure.BusTap(database_url)
    await tap.start()
    workers, connect_s = await _connect(cluster, credentials)
    result: dict[str, Any] = {"processes": len(cluster.processes), "connect_s": round(connect_s, 2)}
    try:
        ready = await workers.ready()
        _note(f"{len(cluster.processes)} process(es): {ready}/{n} screens in {connect_s:.1f} s")
        await asyncio.sleep(workers.fetch_jitter_s)
        await workers.drained(timeout_s)  # every screen has fetched its manifest and alerts
        fleet = measure.Fleet(workers, n, await measure.holders(cluster, workers))
        result |= {"ready": ready, "held": fleet.spread()}
        samples = min(COMMANDS, n)
        before = len(tap.lags)
        result["propagation"] = await measure.commands(api, fleet, here.name, samples)
        result["propagation"]["bus_tap_ms"] = percentiles(tap.lags[before:])
        _note(f"propagation: {result['propagation']['across_ms']} across")
        verify = cluster.tls()
        admin = await Admin.login(cluster.proxy_url, *cluster.admin, verify=verify)
        try:
            playlist = await admin.programme("51")
            asked = await measure.manifest_requests(cluster)
            published = await propagate(admin, workers, playlist, "51", n, timeout_s=timeout_s)
            published["api_manifest_requests"] = await measure.manifest_requests(cluster) - asked
        finally:
            await admin.close()
        published.pop("lagging")
        result["publish"] = published
        _note(f"publish: push {published['push_ms']}")
        await workers.drained(timeout_s)
        result["alert"] = await measure.alert(api, fleet, here.name, timeout_s)
        _note(f"alert: {result['alert']['receipt_ms']}")
        await workers.drained(timeout_s)
        if failover and len(cluster.processes) > 1:
            victim = cluster.processes[-1].name
            result["failover"] = await measure.failover(
                cluster.by_name(victim).kill, api, fleet, here.name, victim, max(120.0, n / 50)
            )
            _note(f"failover: {result['failover']}")
    finally:
        result["client_counts"] = (await workers.stop())["counts"]
        result["bus_tap"] = tap.figures()
        await tap.stop()
        await api.aclose()
    return result


def _ratios(three: dict[str, Any]) -> dict[str, float | None]:
    """Each figure over its goal (<= 1 meets it)."""

    def over(value: float | None, goal: float) -> float | None:
        return round(value / goal, 2) if value is not None else None

    failover = three.get("failover", {})
    return {
        "propagation_p99": over(three["propagation"]["across_ms"]["p99"], 200),
        "alert_receipt_p99_across": over(three["alert"]["receipt_across_ms"]["p99"], 1000),
        "failover_screens_back": over(failover.get("all_back_s"), 30),
        "failover_alert_displayed": over(failover.get("alert_displayed_on_board_s"), 30),
    }


def measure_all(
    size: int, base: Path, database_url: str, processes: int, single: bool, edge: bool = True
) -> dict[str, Any]:
    """Seed, then the cluster phase and (``single``) the one-process phase."""
    if edge and not nginx.available():
        _note("no nginx with the cache-purge module: pushes name the API, not an edge")
    edge_port = free_port() if edge and nginx.available() else None
    settings = {"LIANBO_LOGIN_FAILURES_PER_MINUTE": "1000"}
    if edge_port is not None:  # pushes name manifest URLs on the edge
        settings["LIANBO_MEDIA_URL"] = f"http://127.0.0.1:{edge_port}"
    password = secrets.token_urlsafe(12)
    edges = math.ceil(size / EDGE_SCREENS)
    cluster = launch(
        base,
        database_url,
        ("bench-cluster", password),
        processes=processes,
        maxconn=EDGE_MAXCONN,
        settings=settings,
        edges=edges,
    )
    try:
        store = Settings(data_dir=cluster.data_dir, database_url=database_url)
        credentials = asyncio.run(_seed(store, size))
        _note(f"seeded {size} screens")
        with manifest_edge(cluster, edge_port):
            many = asyncio.run(_phase(cluster, database_url, credentials, failover=True))
    finally:
        cluster.stop()
    result: dict[str, Any] = {"manifest_edge": edge_port is not None, "cluster": many}
    if single:
        alone = launch(
            base,
            database_url,
            ("bench-single", password),
            processes=1,
            maxconn=EDGE_MAXCONN,
            settings=settings,
            edges=edges,
        )
        try:
            with manifest_edge(alone, edge_port):
                result["single"] = asyncio.run(
                    _phase(alone, database_url, credentials, failover=False)
                )
        finally:
            alone.stop()
    return result


def run(size: int, data_dir: Path | None, **options: Any) -> dict[str, Any]:
    """The result line (``lianbo bench cluster``; options as ``main`` takes them)."""
    processes = int(options.get("processes") or PROCESSES)
    base = data_dir or Path(tempfile.mkdtemp(prefix="lianbo-bench-cluster-"))
    load_before = os.getloadavg()
    url = options.get("database_url") or os.environ.get("LIANBO_DATABASE_URL")
    with database(url, "cluster") as database_url:
        figures = measure_all(
            size,
            base,
            database_url,
            processes,
            options.get("single", True),
            options.get("edge", True),
        )
    if data_dir is None:
        shutil.rmtree(base, ignore_errors=True)
    return {
        "bench": "cluster",
        "size": size,
        **figures,
        "goals": GOALS,
        "over_goal": _ratios(figures["cluster"]),
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__)
    parser.add_argument("--screens", type=int, default=DEFAULT_SIZE)
    parser.add_argument("--processes", type=int, default=PROCESSES)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--no-single", dest="single", action="store_false")
    parser.add_argument("--no-edge", dest="edge", action="store_false")
    args = parser.parse_args(argv)
    result = run(
        args.screens,
        args.data_dir,
        processes=args.processes,
        database_url=args.database_url,
        single=args.single,
        edge=args.edge,
    )
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
