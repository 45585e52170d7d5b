"""Free TCP ports for the services a run starts (PostgreSQL, brokers, HAProxy, …).

A port is picked, checked free, released, and only then bound by the
service, so something else may take it in between. Asking the kernel for
port 0 hands out ports from its ephemeral range, which every outgoing
connection on the machine also draws from — a busy run (or several test
runs side by side) then loses that race now and then ("address already in
use"). So ports are picked at random *below* the ephemeral range, where no
outgoing connection lands, and checked free by binding them.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST = 10_000  # leave the well-known and registered low ports alone
ATTEMPTS = 200
# Its own source: a test runner that reseeds ``random`` before every test
# (pytest-randomly) would otherwise hand every test the same first pick.
_PICK = random.SystemRandom()
# Ports this process has handed out. A picked port is only checked, not
# held, until its service binds it; a NATS node asks for four ports before
# it starts, and a repeat among them made it fail ("address already in
# use" on its own route port). Never hand out the same port twice.
_GIVEN: set[int] = set()


def _ephemeral_low() -> int:
    try:
        return int(RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago, outside the ephemeral
    range when the kernel leaves room below it (else one the kernel picks)."""
    top = _ephemeral_low() - 1
    if top - LOWEST >= 1_000:
        for _ in range(ATTEMPTS):
            port = _PICK.randint(LOWEST, top)
            if port not in _GIVEN and _bindable(port):
                _GIVEN.add(port)
                return port
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port
