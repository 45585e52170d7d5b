"""A real local HTTP server playing an upstream CAP source (a thread, no
framework): each path answers what the test put there, honours ETags, and
can hang until the test ends."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.waiting import HANG_GUARD_S


@dataclass
class Page:
    body: bytes
    content_type: str = "application/atom+xml"
    status: int = 200
    hang: bool = False  # never answer (until the server closes)


class FeedServer:
    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.requests: list[tuple[str, str | None]] = []  # (path, If-None-Match)
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, self.headers.get("If-None-Match")))
                page = server.pages.get(self.path)
                with contextlib.suppress(OSError):  # the poller may have given up
                    if page is None:
                        self.send_response(404)
                        self.end_headers()
                        return
                    if page.hang:
                        server.release.wait(HANG_GUARD_S)
                        return
                    etag = f'"{hashlib.sha256(page.body).hexdigest()[:16]}"'
                    if self.headers.get("If-None-Match") == etag:
                        self.send_response(304)
                        self.send_header("ETag", etag)
                        self.end_headers()
                        return
                    self.send_response(page.status)
                    self.send_header("Content-Type", page.content_type)
                    self.send_header("Content-Length", str(len(page.body)))
                    self.send_header("ETag", etag)
                    self.end_headers()
                    self.wfile.write(page.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def atom(*entries: str) -> bytes:
    """An Atom feed of entries (``entry`` makes each)."""
    body = "".join(entries)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        "<id>urn:test:feed</id><title>test</title><updated>2026-07-10T15:00:00+08:00</updated>"
        f"{body}</feed>"
    ).encode()


def entry(ident: str, *, inline: bytes | None = None, link: str | None = None) -> str:
    """One Atom entry, with its CAP inline (as public CAP feeds do) or linked
    (as NWS does)."""
    content = ""
    if inline is not None:
        document = inline.decode().split("?>", 1)[-1] if inline.startswith(b"<?xml") else inline
        content = f'<content type="application/cap+xml">{document}</content>'
    linked = f'<link rel="alternate" type="application/cap+xml" href="{link}"/>' if link else ""
    return (
        f"<entry><id>{ident}</id><title>{ident}</title>"
        f"<updated>2026-07-10T15:00:00+08:00</updated>{linked}{content}</entry>"
    )
