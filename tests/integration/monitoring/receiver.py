"""A real local HTTP receiver for webhook tests (a thread, no framework)."""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.waiting import HANG_GUARD_S


class Receiver:
    """A tiny HTTP server: 503 for its first ``failures`` requests and while
    ``down``; otherwise it keeps the body and its ``Idempotency-Key``. With
    a ``gate``, each request waits for it to open before it is answered."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.down = False
        self.gate: threading.Event | None = None
        self.received: list[dict[str, Any]] = []
        self.keys: list[str] = []
        self.attempts = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                with receiver._lock:
                    receiver.attempts += 1
                if receiver.gate is not None:
                    receiver.gate.wait(HANG_GUARD_S)
                with receiver._lock:
                    refused = receiver.down or receiver.attempts <= receiver.failures
                    if not refused:
                        receiver.received.append(json.loads(body))
                        receiver.keys.append(self.headers.get("Idempotency-Key", ""))
                with contextlib.suppress(OSError):  # the sender may have gone
                    self.send_response(503 if refused else 204)
                    self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[str]:
        return [e["event"] for e in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
