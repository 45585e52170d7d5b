"""Over-limit bodies sent chunked to a real ``lianbo serve``: refused while
read, so the server's memory does not grow with them.

Before limits were enforced while reading, a 400 MB login body grew the
server by 760 MB before its 422. The bound here is a memory figure (the
server's resident set), not a time.
"""

from __future__ import annotations

import select
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import _cli, _lianbo, _wait_healthy
from tests.support.services import free_port

pytestmark = pytest.mark.e2e

BODY = 256 * 1024 * 1024  # each attack: far over every limit but uploads'
CHUNK = 64 * 1024
GROWTH = 8 * 1024 * 1024  # "a few MB": allocator noise, not a body


@dataclass(frozen=True)
class Served:
    port: int
    pid: int


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """A server of our own: its process id is what the test measures."""
    with tempfile.TemporaryDirectory(prefix="lianbo-limits-") as tmp:
        data_dir = Path(tmp) / "data"
        _cli("init", data_dir=data_dir)
        port = free_port()
        log = Path(tmp) / "serve.log"
        with log.open("wb") as out:
            command = [str(_lianbo()), "serve", "--port", str(port), "--data-dir", str(data_dir)]
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
            try:
                _wait_healthy(f"http://127.0.0.1:{port}", process, log)
                yield Served(port, process.pid)
            finally:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def resident(pid: int) -> int:
    """The process's resident set in bytes (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def post_chunked(port: int, path: str, content_type: str) -> tuple[int, bytes]:
    """POST ``BODY`` bytes chunked, stopping when the server answers or stops
    listening; (bytes sent, the answer's first bytes or b"")."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk = f"{CHUNK:x}\r\n".encode() + b" " * CHUNK + b"\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head)
        try:
            while sent < BODY and not select.select([sock], [], [], 0)[0]:
                sock.sendall(chunk)
                sent += CHUNK
        except OSError:  # the server closed the connection on the rest of the body
            pass
        try:
            answer = sock.recv(4096)
        except OSError:
            answer = b""
    return sent, answer


ATTACKS = [
    ("/api/v1/auth/token", "application/json"),  # unauthenticated
    ("/api/v1/terminals", "application/json"),  # read before authentication
    ("/api/v1/terminals/import", "text/csv"),
    ("/login", "application/x-www-form-urlencoded"),
]


def test_over_limit_bodies_do_not_grow_the_server(served: Served) -> None:
    post_chunked(served.port, *ATTACKS[0])  # warm up: first requests allocate for good
    before = resident(served.pid)
    for path, content_type in ATTACKS:
        sent, answer = post_chunked(served.port, path, content_type)
        assert sent < BODY, f"{path}: the server read the whole body"
        # 413, or a refusal that never read the body (401 before authentication)
        assert not answer or answer.startswith((b"HTTP/1.1 413", b"HTTP/1.1 401")), answer[:200]
    grown = resident(served.pid) - before
    assert grown < GROWTH, f"the server grew by {grown / 2**20:.1f} MB"
