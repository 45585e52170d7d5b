"""`lianbo bench wire`: lianbo's own wire code beside the well-kept libraries.

Issue 15 asks two questions, answered by measurement (ADR 0023):

* **MQTT.** The server's broker session (`adapters/fleet/mqtt_session.py`)
  is lianbo's own MQTT 3.1.1 client. Could a well-kept asyncio client do the
  same job? A publisher process sends N status messages (distinct topics, as
  N screens coming online would) through a real mosquitto; the subscriber —
  lianbo's session, aiomqtt 2.5 (paho 2.2 underneath) or gmqtt 0.8 — takes
  them in while its event loop does 5 ms of blocking work per turn, as a
  server answering HTTP requests does. Reported: seconds and loop turns
  until all N arrived (and the same with an idle loop).
* **WebSocket framing.** A screen's socket (`api/terminal_socket.py`) frames
  RFC 6455 with `api/ws_frames.py` on the raw transport. The public
  alternative is the `websockets` library's sans-I/O `ServerProtocol`.
  Reported: µs to read one masked 120-byte client message and to write one
  server message, and the memory one opened connection's state holds.

One JSON line; both sides of each comparison are measured in the same run.
"""

from __future__ import annotations

import asyncio
import gc
import os
import secrets
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lianbo.adapters.fleet import topics
from lianbo.adapters.fleet.mqtt_session import open_session

DEFAULT_SIZE = 20_000
BUSY_TURN_S = 0.005  # blocking work per loop turn, as a busy API process has
GIVE_UP_S = 300.0
REPO = Path(__file__).resolve().parents[1]
ACK = '{"type":"alert-ack","ref":"r-0001","alert_id":"0f0e0d0c0b0a","state":"displayed"}'


def run(size: int, data_dir: Path | None = None, **_: Any) -> dict[str, Any]:
    """Both comparisons; ``size`` is the number of MQTT messages."""
    return {
        "bench": "wire",
        "size": size,
        "mqtt": _mqtt(size),
        "websocket": _websocket(max(size, 10_000)),
        "load_average": list(os.getloadavg()),
        "cpus": os.cpu_count(),
    }


# -- MQTT ---------------------------------------------------------------------

Subscriber = Callable[[int, int, str, str, bool], Coroutine[Any, Any, dict[str, float]]]


def _mqtt(size: int) -> dict[str, Any]:
    from bench.fleet import SERVER_ACCOUNT, Mosquitto

    with tempfile.TemporaryDirectory(prefix="lianbo-bench-wire-") as root:
        broker = Mosquitto(Path(root), [])
        try:
            results: dict[str, Any] = {}
            for name, subscriber in _subscribers().items():
                results[name] = {
                    busy_label: asyncio.run(
                        subscriber(broker.port, size, SERVER_ACCOUNT[0], SERVER_ACCOUNT[1], busy)
                    )
                    for busy_label, busy in (("busy_loop", True), ("idle_loop", False))
                }
            return results
        finally:
            broker.stop()


def _subscribers() -> dict[str, Subscriber]:
    return {"lianbo_session": _lianbo, "aiomqtt": _aiomqtt, "gmqtt": _gmqtt}


class _Tally:
    """Counts a subscriber's messages; ``done`` once ``size`` have come."""

    def __init__(self, size: int) -> None:
        self.size, self.got, self.done = size, 0, asyncio.Event()

    def count(self, *_message: Any) -> None:
        self.got += 1
        if self.got >= self.size:
            self.done.set()


async def _lianbo(port: int, size: int, user: str, password: str, busy: bool) -> dict[str, float]:
    tally = _Tally(size)
    session = await open_session(
        "127.0.0.1",
        port,
        tally.count,
        client_id="wire-lianbo",
        username=user,
        password=password,
    )
    await session.subscribe([topics.terminal("+", topics.STATUS)])
    try:
        return await _measure(port, size, user, password, busy, tally)
    finally:
        session.close()


async def _aiomqtt(port: int, size: int, user: str, password: str, busy: bool) -> dict[str, float]:
    import aiomqtt

    tally = _Tally(size)
    async with aiomqtt.Client(
        "127.0.0.1", port, username=user, password=password, identifier="wire-aiomqtt"
    ) as client:
        await client.subscribe(topics.terminal("+", topics.STATUS))

        async def take_in() -> None:
            async for message in client.messages:
                tally.count(message)
                if tally.done.is_set():
                    return

        reader = asyncio.create_task(take_in())
        try:
            return await _measure(port, size, user, password, busy, tally)
        finally:
            reader.cancel()


async def _gmqtt(port: int, size: int, user: str, password: str, busy: bool) -> dict[str, float]:
    import gmqtt  # type: ignore[import-untyped]

    tally = _Tally(size)
    client = gmqtt.Client("wire-gmqtt")
    client.set_auth_credentials(user, password)
    client.on_message = tally.count
    await client.connect("127.0.0.1", port, version=gmqtt.constants.MQTTv311)
    subscribed = asyncio.Event()
    client.on_subscribe = lambda *_a: subscribed.set()
    client.subscribe(topics.terminal("+", topics.STATUS), qos=0)
    async with asyncio.timeout(10):
        await subscribed.wait()
    try:
        return await _measure(port, size, user, password, busy, tally)
    finally:
        await client.disconnect()


async def _measure(
    port: int,
    size: int,
    user: str,
    password: str,
    busy: bool,
    tally: _Tally,
) -> dict[str, float]:
    """Let a publisher process send ``size`` statuses; time their arrival."""
    stop = asyncio.Event()
    turns = [0]
    worker = asyncio.create_task(_busy(stop, turns)) if busy else None
    started = time.perf_counter()
    publisher = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.wire",
        str(port),
        str(size),
        user,
        password,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        waiting = asyncio.create_task(tally.done.wait())
        await asyncio.wait(
            {waiting, asyncio.create_task(publisher.wait())},
            timeout=GIVE_UP_S,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if not tally.done.is_set():  # the publisher ended: give the tail a moment
            async with asyncio.timeout(10):
                await waiting
        took = time.perf_counter() - started
    except TimeoutError:
        took = float("nan")
    finally:
        stop.set()
        if worker is not None:
            await worker
        await publisher.wait()
    return {
        "received": tally.got,
        "seconds": round(took, 3),
        "per_second": round(tally.got / took) if took == took and took > 0 else 0,
        "loop_turns": turns[0],
    }


async def _busy(stop: asyncio.Event, turns: list[int]) -> None:
    while not stop.is_set():
        time.sleep(BUSY_TURN_S)  # noqa: ASYNC251 - blocking on purpose: one turn's work
        turns[0] += 1
        await asyncio.sleep(0)


async def _publish_all(port: int, size: int, user: str, password: str) -> None:
    session = await open_session(
        "127.0.0.1",
        port,
        lambda _t, _p: None,
        client_id=f"wire-pub-{secrets.token_hex(4)}",
        username=user,
        password=password,
    )
    for i in range(size):
        session.publish(topics.terminal(f"s{i:06d}", topics.STATUS), topics.ONLINE)
        if i % 500 == 499:
            await session.writable()
    await session.writable()
    await asyncio.sleep(0.5)  # let the broker take the tail before the goodbye
    session.close()


# -- WebSocket framing ---------------------------------------------------------


def _websocket(messages: int) -> dict[str, Any]:
    frames = [_client_frame(ACK.encode()) for _ in range(messages)]
    return {
        "messages": messages,
        "ws_frames": _ws_frames(frames),
        "websockets_sansio": _sansio(frames),
    }


def _client_frame(payload: bytes) -> bytes:
    """A masked, final text frame as a browser or a player sends it."""
    mask = secrets.token_bytes(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + masked


def _ws_frames(frames: list[bytes]) -> dict[str, float]:
    from lianbo.api import ws_frames as wire

    buffer = bytearray()
    started = time.perf_counter()
    for data in frames:
        buffer += data
        for frame in wire.read_frames(buffer, 1 << 20):
            frame.payload.decode()
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(len(frames)):
        wire.frame(wire.TEXT, f"{ACK}{i}".encode())  # uncached, as a reply would be
    write_s = time.perf_counter() - started
    return {
        "read_us": round(read_s / len(frames) * 1e6, 2),
        "write_us": round(write_s / len(frames) * 1e6, 2),
        "connection_bytes": _per_connection(_terminal_socket),
    }


def _sansio(frames: list[bytes]) -> dict[str, float]:
    protocol = _opened_protocol()
    started = time.perf_counter()
    for data in frames:
        protocol.receive_data(data)
        for event in protocol.events_received():
            bytes(event.data).decode()
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(len(frames)):
        protocol.send_text(f"{ACK}{i}".encode())
        protocol.data_to_send()
    write_s = time.perf_counter() - started
    return {
        "read_us": round(read_s / len(frames) * 1e6, 2),
        "write_us": round(write_s / len(frames) * 1e6, 2),
        "connection_bytes": _per_connection(_opened_protocol),
    }


def _opened_protocol() -> Any:
    from websockets.http11 import Request
    from websockets.server import ServerProtocol

    protocol = ServerProtocol(max_size=1 << 20)
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    protocol.receive_data(
        (
            "GET /terminal/v1/ws HTTP/1.1\r\nHost: lianbo\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    request = protocol.events_received()[0]
    assert isinstance(request, Request)
    protocol.send_response(protocol.accept(request))
    protocol.data_to_send()
    return protocol


_SERVER_STATE = SimpleNamespace(connections=set())  # uvicorn's, shared by all connections


def _terminal_socket() -> Any:
    from lianbo.api.terminal_socket import TerminalSocket

    socket = TerminalSocket(None, _SERVER_STATE, {})
    socket.setup = None  # dropped once the handshake is read, as in use
    socket.state = 2  # OPEN
    return socket


def _per_connection(make: Callable[[], Any], count: int = 10_000) -> int:
    """Bytes allocated per opened connection's protocol state, averaged."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    kept = [make() for _ in range(count)]
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    del kept
    return round(grown / count)


if __name__ == "__main__":  # the publisher process: PORT SIZE USER PASSWORD
    asyncio.run(_publish_all(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]))
