"""Raw fan-out anchors: the limit of this machine with nothing of lianbo in the way.

The same logic as the shared anchor scripts: a bare ``websockets`` hub
broadcasting one frame to N minimal clients, and mosquitto delivering one
publish to N minimal subscribers. Clients are spread over processes and
127.0.x.y source addresses exactly like the simulator's, so lianbo's
figure over the anchor's is a fair overhead ratio.

    python -m lianbo.sim.anchors ws-hub PORT
    python -m lianbo.sim.anchors ws-clients PORT FIRST COUNT
    python -m lianbo.sim.anchors mqtt-clients PORT FIRST COUNT

Client processes print ``connected`` once all their sockets are up, then
one JSON line with the latencies (seconds) after the message arrived.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import IO, Any

from lianbo.protocol import mqtt_wire
from lianbo.sim import wire
from lianbo.sim.screens import source_address
from lianbo.sim.worker import raise_open_files

TOPIC = b"lianbo/r/51/push"


# the bare hub ---------------------------------------------------------------


async def ws_hub(port: int) -> None:
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    clients: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        if ws.request.path == "/fire":
            await ws.recv()
            broadcast(clients, json.dumps({"type": "alert", "sent_at": time.time()}))
            await ws.send(json.dumps({"n": len(clients)}))
            return
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    async with serve(
        handler, "127.0.0.1", port, backlog=4096, compression=None, ping_interval=None
    ):
        print("ready", flush=True)
        await asyncio.Future()


async def ws_fire(port: int) -> None:
    from websockets.asyncio.client import connect

    async with connect(f"ws://127.0.0.1:{port}/fire") as ws:
        await ws.send("go")
        await ws.recv()


# minimal clients -------------------------------------------------------------


class Ready:
    """Counts connected clients; at most ``MAX_CONNECTING`` attempts in flight
    (a burst beyond the listen backlog costs seconds of SYN retransmits)."""

    MAX_CONNECTING = 64

    def __init__(self, count: int) -> None:
        self.left = count
        self.all = asyncio.Event()
        self.gate = asyncio.Semaphore(self.MAX_CONNECTING)

    def one(self) -> None:
        self.gate.release()
        self.left -= 1
        if self.left <= 0:
            self.all.set()


async def _clients(
    count: int, first: int, one: Callable[[int, list[float], Ready], Coroutine[Any, Any, None]]
) -> None:
    latencies: list[float] = []
    ready = Ready(count)
    tasks = []
    for i in range(count):
        await ready.gate.acquire()
        tasks.append(asyncio.create_task(one(first + i, latencies, ready)))
    await ready.all.wait()
    print("connected", flush=True)
    await asyncio.gather(*tasks)
    print(json.dumps(latencies), flush=True)


def _latency(payload: bytes) -> float:
    return time.time() - float(json.loads(payload)["sent_at"])


async def ws_clients(port: int, first: int, count: int) -> None:
    async def one(index: int, latencies: list[float], ready: Ready) -> None:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, local_addr=(source_address(index), 0)
        )
        writer.write(wire.handshake("127.0.0.1", "/t", "-"))
        await reader.readuntil(b"\r\n\r\n")
        ready.one()
        buffer = bytearray()
        while not (frames := wire.server_frames(buffer)):
            buffer += await reader.read(4096)
        latencies.append(_latency(frames[0][1]))
        writer.close()

    await _clients(count, first, one)


async def mqtt_clients(port: int, first: int, count: int) -> None:
    async def one(index: int, latencies: list[float], ready: Ready) -> None:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, local_addr=(source_address(index), 0)
        )
        writer.write(mqtt_wire.connect(f"s{index}".encode()))
        writer.write(mqtt_wire.subscribe(1, [TOPIC]))
        buffer = bytearray()
        while True:
            for first_byte, body in mqtt_wire.packets(buffer):
                kind = first_byte >> 4
                if kind == mqtt_wire.SUBACK:
                    ready.one()
                elif kind == mqtt_wire.PUBLISH:
                    latencies.append(_latency(mqtt_wire.published(first_byte, body)[1]))
                    writer.close()
                    return
            buffer += await reader.read(4096)

    await _clients(count, first, one)


async def mqtt_publish(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(mqtt_wire.connect(b"anchor-publisher"))
    await reader.readexactly(4)
    payload = json.dumps({"type": "alert", "sent_at": time.time()}).encode()
    writer.write(mqtt_wire.publish(TOPIC, payload))
    await writer.drain()
    writer.close()


# orchestration (used by bench/fleet.py) --------------------------------------


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "lianbo.sim.anchors", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _line(stream: IO[str] | None, expect: str | None = None, within: float = 120) -> str:
    assert stream is not None
    if not select.select([stream], [], [], within)[0]:
        raise RuntimeError(f"anchor process silent for {within} s")
    line = stream.readline().strip()
    if expect is not None and line != expect:
        raise RuntimeError(f"anchor process said {line!r}, not {expect!r}")
    return line


def fan_out(kind: str, count: int, processes: int, port: int) -> list[float]:
    """Connect ``count`` clients over ``processes``, fire once, latencies (s)."""
    share = -(-count // processes)
    clients = [
        _spawn(f"{kind}-clients", str(port), str(first), str(min(share, count - first)))
        for first in range(0, count, share)
    ]
    try:
        for client in clients:
            _line(client.stdout, "connected")
        time.sleep(0.5)
        asyncio.run(ws_fire(port) if kind == "ws" else mqtt_publish(port))
        latencies: list[float] = []
        for client in clients:
            latencies += json.loads(_line(client.stdout))
        return latencies
    finally:
        for client in clients:
            client.kill()
            client.wait()


def ws_anchor(count: int, processes: int, port: int) -> list[float]:
    hub = _spawn("ws-hub", str(port))
    try:
        _line(hub.stdout, "ready")
        return fan_out("ws", count, processes, port)
    finally:
        hub.terminate()
        hub.wait()


def mqtt_anchor(count: int, processes: int, port: int) -> list[float]:
    root = Path(tempfile.mkdtemp(prefix="lianbo-anchor-"))
    conf = root / "mosquitto.conf"
    user = "user root\n" if os.geteuid() == 0 else ""
    conf.write_text(
        f"{user}listener {port} 127.0.0.1\nallow_anonymous true\n"
        "max_queued_messages 100\npersistence false\n"
    )
    broker = subprocess.Popen(["mosquitto", "-c", str(conf)], stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        return fan_out("mqtt", count, processes, port)
    finally:
        broker.terminate()
        broker.wait()


def main(argv: list[str]) -> None:
    raise_open_files()
    command, numbers = argv[0], [int(a) for a in argv[1:]]
    runs: dict[str, Callable[..., Any]] = {
        "ws-hub": ws_hub,
        "ws-clients": ws_clients,
        "mqtt-clients": mqtt_clients,
    }
    try:
        import uvloop

        uvloop.run(runs[command](*numbers))
    except ImportError:  # pragma: no cover
        asyncio.run(runs[command](*numbers))


if __name__ == "__main__":
    main(sys.argv[1:])
