"""The ``/terminal/v1`` HTTP calls a player makes, with errors sorted by what
the caller should do about them.

- ``Unreachable``: the network or the server is down (transport error, 5xx):
  retry later with backoff, keep playing from cache.
- ``Refused``: the server understood and said no (4xx): retrying the same
  request will not help.
- Optional endpoints (play logs, screenshots) answer ``None`` when the server
  does not have them yet (404/405), so newer players work with older servers.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from lianbo.player.clock import Clock, SystemClock
from lianbo.protocol.reports import PlayLogEntry, playlog_body

TIMEOUT = httpx.Timeout(30.0, connect=5.0)
# The query parameter that names the screen on /terminal/v1 calls, for the
# load balancer in front of several server processes (deploy/haproxy/).
BALANCE_PARAM = "terminal"


class Unreachable(Exception):
    """The server could not be reached or failed (transport error, 5xx)."""


class Refused(Exception):
    """The server answered 4xx; ``message`` is its error message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Exchange:
    """A reply with our clock before sending (``t0``) and after receiving (``t1``)."""

    body: Any
    t0: float
    t1: float


@dataclass(frozen=True, slots=True)
class ManifestReply:
    status: int  # 200 or 304
    body: bytes  # the envelope exactly as received: verified without re-encoding
    etag: str | None


def normalise_server(url: str) -> str:
    """``http(s)://host[:port][/prefix]`` without a trailing slash, or ValueError."""
    url = url.strip().rstrip("/")
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return url


def websocket_url(server: str, terminal_id: str) -> str:
    """The push channel's URL: ``ws(s)://…/terminal/v1/ws?terminal=<id>``.

    The terminal id (never the token) lets a load balancer keep each screen
    on one server process (HAProxy's ``balance url_param terminal``)."""
    scheme, rest = server.split("://", 1)
    query = urlencode({BALANCE_PARAM: terminal_id})
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/terminal/v1/ws?{query}"


def transport_failure(error: BaseException) -> str:
    """What went wrong below HTTP, saying so plainly when the server's
    certificate is not trusted (a wrong CA, or a name it is not for)."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"the server's certificate is not trusted ({cause.verify_message})"
        cause = cause.__cause__ or cause.__context__
    return f"{type(error).__name__}: {error}"


def error_message(response: httpx.Response) -> str:
    """The server's ``{"error": {"message"}}``, or the start of the body."""
    try:
        data = response.json()
        return str(data["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason_phrase


class TerminalApi:
    """One terminal's calls to its control centre."""

    def __init__(
        self,
        server: str,
        token: str | None,
        client: httpx.AsyncClient,
        clock: Clock | None = None,
        *,
        terminal_id: str | None = None,
    ) -> None:
        self.server = normalise_server(server)
        self.token = token
        self.client = client
        self.clock = clock or SystemClock()
        # Sent as ?terminal= on each call once known (not at enrolment).
        self.params = {BALANCE_PARAM: terminal_id} if terminal_id else None

    def media_url(self, sha256: str) -> str:
        return f"{self.server}/media/{sha256}"

    async def enrol(self, code: str) -> dict[str, Any]:
        response = await self._send("POST", "/terminal/v1/enrol", json={"code": code})
        return dict(response.json())

    async def keys(self) -> Any:
        """The ``/terminal/v1/keys`` reply as sent (``protocol.keyset.accept`` judges it)."""
        response = await self._send("GET", "/terminal/v1/keys")
        try:
            return response.json()
        except ValueError:
            raise Refused(response.status_code, "the keys reply is not JSON") from None

    async def heartbeat(self, status: dict[str, Any]) -> Exchange:
        """``{server_time, heartbeat_seconds}``, timed for the clock estimate."""
        t0 = self.clock.time()
        response = await self._send("POST", "/terminal/v1/heartbeat", json=status)
        return Exchange(response.json(), t0, self.clock.time())

    async def manifest(self, etag: str | None) -> ManifestReply:
        headers = {"If-None-Match": etag} if etag else {}
        response = await self._send("GET", "/terminal/v1/manifest", headers=headers, ok=(304,))
        return ManifestReply(response.status_code, response.content, response.headers.get("etag"))

    async def published(self, url: str) -> bytes:
        """A published manifest version from the URL its push named (ADR 0024):
        no token and no ``?terminal=``, so every screen's request is the same
        and a cache answers it. The envelope as received."""
        if not url.startswith(("https://", "http://")):
            raise Refused(400, "a pushed manifest URL is http(s)")
        try:
            response = await self.client.get(url, timeout=TIMEOUT)
        except httpx.TransportError as error:
            raise Unreachable(transport_failure(error)) from None
        if response.status_code >= 500:
            raise Unreachable(f"{response.status_code}: {error_message(response)}")
        if response.status_code != 200:
            raise Refused(response.status_code, error_message(response))
        return response.content

    async def playlog(self, entries: list[PlayLogEntry]) -> bool | None:
        """True when taken, None when the server has no play-log endpoint yet."""
        body = playlog_body(entries)
        response = await self._send("POST", "/terminal/v1/playlog", json=body, optional=True)
        return None if response is None else True

    async def screenshot(self, png: bytes, taken_at: datetime, stub: bool) -> Any | None:
        """The server's verdict, or None when it has no screenshot endpoint yet."""
        response = await self._send(
            "POST",
            "/terminal/v1/screenshot",
            files={"file": ("screen.png", png, "image/png")},
            data={"taken_at": taken_at.isoformat(), "stub": "true" if stub else "false"},
            optional=True,
        )
        return None if response is None else response.json()

    async def alerts(self) -> dict[str, Any] | None:
        """``{terminal, alerts}``: this screen's facts and the active notices
        for it; None when the server has no alerts endpoint yet."""
        response = await self._send("GET", "/terminal/v1/alerts", optional=True)
        if response is None:
            return None
        try:
            data = response.json()
        except ValueError:
            raise Refused(response.status_code, "the alerts reply is not JSON") from None
        if not isinstance(data, dict):
            raise Refused(response.status_code, "the alerts reply is not a JSON object")
        return data

    async def alert_ack(self, alert_id: str, body: dict[str, Any]) -> None:
        """Report one delivery state of an alert (Refused when the server says no)."""
        path = f"/terminal/v1/alerts/{quote(alert_id, safe='')}/ack"
        await self._send("POST", path, json=body)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        ok: tuple[int, ...] = (),
        optional: bool = False,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        all_headers = dict(headers or {})
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = await self.client.request(
                method,
                self.server + path,
                headers=all_headers,
                params=self.params,
                timeout=TIMEOUT,
                **kwargs,
            )
        except httpx.TransportError as error:
            raise Unreachable(transport_failure(error)) from None
        if optional and response.status_code in (404, 405):
            return None
        if response.status_code >= 500:
            raise Unreachable(f"{response.status_code}: {error_message(response)}")
        if response.status_code >= 400:
            raise Refused(response.status_code, error_message(response))
        if response.status_code >= 300 and response.status_code not in ok:
            raise Refused(response.status_code, f"unexpected status {response.status_code}")
        return response


def keys_of(data: Any) -> dict[str, str]:
    """``{"keys": [{key_id, public_key}]}`` → ``{key_id: public_key}``."""
    try:
        return {str(k["key_id"]): str(k["public_key"]) for k in data["keys"]}
    except (KeyError, TypeError) as error:
        raise ValueError(f"malformed keys: {error}") from None
