"""Where audit anchors are kept: a JSON-lines file in the data dir, and
optional copies to webhooks or syslog (docs/audit.md).

The file is appended to by every server process that shares the data dir.
An ``flock`` on it serialises "read the newest anchor, decide, append" so two
processes do not anchor the same head twice; each line goes out in a single
``write`` on an ``O_APPEND`` descriptor (so lines never interleave) and is
``fsync``-ed before the anchor counts as written.
"""

from __future__ import annotations

import asyncio
import base64
import fcntl
import json
import os
import socket
from collections.abc import Callable, Sequence
from pathlib import Path

import structlog
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from lianbo.adapters.notify.webhooks import WebhookNotifier
from lianbo.domain.audit_anchors import (
    Anchor,
    AnchorLine,
    SignatureCheck,
    parse_anchor,
    read_lines,
)
from lianbo.domain.ports import AnchorSink

log = structlog.get_logger()

TAIL_BYTES = 64 * 1024  # an anchor line is ~300 bytes: the newest is in here


class FileAnchorLog:
    """The anchor log as ``<data_dir>/audit-anchors.jsonl``, one JSON object a line.

    With ``genuine``, the newest anchor handed to ``append_next`` is the newest
    one a control-centre key signed, so a forged line claiming a high seq
    cannot stop anchoring (verify reports it).
    """

    def __init__(self, path: Path, genuine: SignatureCheck | None = None) -> None:
        self.path = path
        self.genuine = genuine

    async def read(self) -> list[AnchorLine]:
        return await asyncio.to_thread(self._read)

    def _read(self) -> list[AnchorLine]:
        try:
            with self.path.open(encoding="utf-8", errors="replace") as handle:
                return read_lines(handle)
        except FileNotFoundError:
            return []

    async def append_next(self, make: Callable[[Anchor | None], Anchor | None]) -> Anchor | None:
        return await asyncio.to_thread(self._append_next, make)

    def _append_next(self, make: Callable[[Anchor | None], Anchor | None]) -> Anchor | None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released by close()
            tail = _tail(fd)
            anchor = make(self._newest(tail))
            if anchor is None:
                return None
            line = json.dumps(anchor.to_json(), ensure_ascii=False).encode() + b"\n"
            if tail and not tail.endswith(b"\n"):
                line = b"\n" + line  # a torn last line (power loss) stays a line of its own
            if os.write(fd, line) != len(line):  # disk full: the next append starts afresh
                raise OSError(f"short write to {self.path}")
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(self.path.parent)  # the new file's name survives a crash too
        return anchor

    def _newest(self, tail: bytes) -> Anchor | None:
        """The newest readable (and genuine) anchor in the file's tail; a torn
        or forged line is skipped."""
        for raw in reversed(tail.splitlines()):
            try:
                anchor = parse_anchor(raw.decode("utf-8"))
            except ValueError:  # UnicodeDecodeError is one too
                continue
            if self.genuine is None or self.genuine(
                anchor.key_id, anchor.signed_bytes(), anchor.signature
            ):
                return anchor
        return None


def _tail(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    start = max(0, size - TAIL_BYTES)
    return os.pread(fd, size - start, start)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def signature_check(public: Callable[[str], Ed25519PublicKey | None]) -> SignatureCheck:
    """Whether one of the control centre's keys (current or older) signed.

    ``public`` finds a key by id without creating one (verifying writes
    nothing): the server's ``SharedKeys.cached_public``, filled from the
    store before each anchoring and verify. A key id that names no key
    fails the check.
    """

    def check(key_id: str, data: bytes, signature: str) -> bool:
        key = public(key_id)  # retired keys count too
        if key is None:
            return False
        try:
            key.verify(base64.b64decode(signature, validate=True), data)
        except (InvalidSignature, ValueError):
            return False
        return True

    return check


class WebhookAnchorSink:
    """Each anchor POSTed as JSON to every URL, retried with backoff."""

    def __init__(self, urls: Sequence[str]) -> None:
        self.notifier = WebhookNotifier(urls)

    async def run(self) -> None:
        await self.notifier.run()

    def send(self, anchor: Anchor) -> None:
        self.notifier.notify(anchor.to_json())


class SyslogAnchorSink:
    """Each anchor as one syslog datagram (RFC 3164 form, facility auth,
    severity notice) to the local socket or a remote host over UDP."""

    PRIORITY = 4 * 8 + 5  # auth.notice

    def __init__(self, address: str | tuple[str, int]) -> None:
        self.address = address

    async def run(self) -> None:
        return None

    def send(self, anchor: Anchor) -> None:
        body = json.dumps(anchor.to_json(), ensure_ascii=False)
        datagram = f"<{self.PRIORITY}>lianbo-audit-anchor: {body}".encode()
        try:
            address: str | tuple[object, ...]
            if isinstance(self.address, str):
                family, address = socket.AF_UNIX, self.address
            else:
                found = socket.getaddrinfo(*self.address, type=socket.SOCK_DGRAM)
                family, address = found[0][0], found[0][4]
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                sock.sendto(datagram, address)
        except OSError as error:  # no syslog daemon, unreachable host: the file has it
            log.warning("audit anchor not sent to syslog", reason=str(error))


def anchor_sinks(targets: Sequence[str]) -> list[AnchorSink]:
    """The copies ``LIANBO_AUDIT_ANCHOR_TARGETS`` asks for (config.py checked them)."""
    sinks: list[AnchorSink] = []
    urls = [t for t in targets if t.startswith(("http://", "https://"))]
    if urls:
        sinks.append(WebhookAnchorSink(urls))
    for target in targets:
        if target == "syslog":
            sinks.append(SyslogAnchorSink("/dev/log"))
        elif target.startswith("syslog://"):
            host, _, port = target.removeprefix("syslog://").rpartition(":")
            sinks.append(SyslogAnchorSink((host.strip("[]"), int(port))))
    return sinks
