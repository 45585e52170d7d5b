"""The player checks the server's certificate over https:// and wss://."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.server import ServerConnection, serve

from lianbo.player import identity as store
from lianbo.player.api import TerminalApi, Unreachable
from lianbo.player.backoff import Backoff
from lianbo.player.clock import OffsetEstimator, SystemClock
from lianbo.player.push import PushChannel
from lianbo.player.tls import BadCaFile, read_ca, server_context
from lianbo.protocol.messages import Message
from tests.support.certs import Ca
from tests.support.waiting import until

BEAT = b'{"server_time": "2026-01-01T00:00:00+00:00", "heartbeat_seconds": 30}'


@pytest.fixture(scope="module")
def centre_ca() -> Ca:
    return Ca.make("centre CA")


def serving_context(ca: Ca, tmp_path: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(ca.write_server_files(tmp_path))
    return context


@asynccontextmanager
async def https_centre(context: ssl.SSLContext) -> AsyncIterator[str]:
    """A server that answers every request with a heartbeat reply."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            head += f"Content-Length: {len(BEAT)}\r\nConnection: close\r\n\r\n"
            writer.write(head.encode() + BEAT)
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass  # a client that refused our certificate hung up
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"https://127.0.0.1:{port}"


async def beat(url: str, ca: str | None) -> None:
    async with httpx.AsyncClient(verify=server_context(ca)) as client:
        await TerminalApi(url, "tok", client, terminal_id="t-1").heartbeat({})


async def test_https_works_with_the_ca_given_at_enrolment(centre_ca: Ca, tmp_path: Path) -> None:
    async with https_centre(serving_context(centre_ca, tmp_path)) as url:
        await beat(url, centre_ca.pem)


async def test_a_certificate_from_another_ca_is_refused(centre_ca: Ca, tmp_path: Path) -> None:
    rogue = Ca.make("rogue CA")
    async with https_centre(serving_context(rogue, tmp_path)) as url:
        with pytest.raises(Unreachable, match="certificate is not trusted"):
            await beat(url, centre_ca.pem)
        with pytest.raises(Unreachable, match="certificate is not trusted"):
            await beat(url, None)  # the system's CAs do not know it either


async def test_the_push_socket_checks_the_certificate_too(centre_ca: Ca, tmp_path: Path) -> None:
    async def hello(ws: ServerConnection) -> None:
        await ws.send(Message("hello", {}).encode())
        await ws.wait_closed()

    received: list[Message] = []

    async def keep(message: Message) -> None:
        received.append(message)

    def channel(port: int, ca: str) -> PushChannel:
        url = f"wss://127.0.0.1:{port}/terminal/v1/ws?terminal=t-1"
        clock = SystemClock()
        return PushChannel(
            url,
            "tok",
            keep,
            clock=clock,
            estimator=OffsetEstimator(),
            backoff=Backoff(1, 2),
            tls=server_context(ca),
            time_every=3600,
        )

    rogue = Ca.make("rogue CA")
    async with serve(hello, "127.0.0.1", 0, ssl=serving_context(centre_ca, tmp_path)) as server:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(ssl.SSLCertVerificationError):
            await channel(port, rogue.pem)._session()
        good = channel(port, centre_ca.pem)
        session = asyncio.create_task(good._session())
        try:
            await until(lambda: bool(received), "a message over wss")
        finally:
            session.cancel()
    assert received[0].type == "hello"


def test_a_ca_file_must_hold_a_certificate(tmp_path: Path, centre_ca: Ca) -> None:
    good = tmp_path / "ca.pem"
    good.write_text(centre_ca.pem)
    assert read_ca(good) == centre_ca.pem
    junk = tmp_path / "junk.pem"
    junk.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    for path, reason in [
        (tmp_path / "none.pem", "cannot read CA file"),
        (junk, "cannot be read"),
        (tmp_path, "cannot read CA file"),
    ]:
        with pytest.raises(BadCaFile, match=reason):
            read_ca(path)
    empty = tmp_path / "empty.pem"
    empty.write_text("hello")
    with pytest.raises(BadCaFile, match="holds no PEM certificate"):
        read_ca(empty)


def test_a_spoilt_ca_in_the_identity_reads_as_not_enrolled(tmp_path: Path) -> None:
    store.save(store.Identity("https://c.example", "t-1", "tok", {}, ca="junk"), tmp_path)
    with pytest.raises(store.NotEnrolled, match="ca is not a usable certificate"):
        store.load(tmp_path)
