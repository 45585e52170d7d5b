"""lianbo answers the NATS auth callout: who may connect, and to what (ADR 0018).

Every connect to any node of the cluster (screens log in over MQTT) is sent
by that node, as an ``authorization_request`` JWT signed with its server
nkey, to ``$SYS.REQ.USER.AUTH`` in the callout account. Each lianbo process
answers in one queue group, so one of them handles each request. A screen
logs in as it does with mosquitto: username and client id = its terminal
id, password = its token, checked against the token digest in the store
(``Directory.by_token``, batched for reconnect storms). The answer, signed
with the issuer account key, carries a user JWT with the screen's ACL
(``nats_jwt.screen_permissions``) and an expiry, or a refusal.

A handler never raises: a bad request is dropped (the server times the
connect out), a store error answers a refusal; both are counted and logged.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import nats
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg

from lianbo.adapters.fleet import nats_jwt
from lianbo.adapters.fleet.directory import Directory

log = structlog.get_logger()

AUTH_SUBJECT = "$SYS.REQ.USER.AUTH"
QUEUE = "lianbo"
REFUSED = "not authorised"


@dataclass(frozen=True, slots=True)
class Login:
    """A NATS user and password (one of lianbo's own ``auth_users``)."""

    user: str
    password: str


async def _nothing() -> None:
    return None


async def connect(
    urls: list[str],
    login: Login,
    name: str,
    *,
    on_down: Callable[[], Awaitable[None]] = _nothing,
    on_up: Callable[[], Awaitable[None]] = _nothing,
) -> Client:
    """A NATS connection that reconnects by itself (to any node) and logs once
    per transition; ``on_down``/``on_up`` hear of them too."""

    client = Client()

    async def disconnected() -> None:
        if client.is_closed:
            return  # closed by us: no news
        log.warning("NATS connection lost", connection=name)
        await on_down()

    async def reconnected() -> None:
        log.info("NATS connection back", connection=name)
        await on_up()

    last: list[str] = [""]

    async def error(problem: Exception) -> None:
        # nats-py reports every failed attempt while a node is away: once is news
        if str(problem) != last[0]:
            last[0] = str(problem)
            log.info("NATS connection problem", connection=name, error=last[0])

    await client.connect(
        servers=urls,
        user=login.user,
        password=login.password,
        name=f"lianbo-{name}",
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        allow_reconnect=True,
        connect_timeout=5,
        disconnected_cb=disconnected,
        reconnected_cb=reconnected,
        error_cb=error,
    )
    return client


class AuthCallout:
    """The callout responder of one process."""

    def __init__(
        self,
        urls: list[str],
        login: Login,
        issuer: nats_jwt.Signer,
        directory: Directory,
        *,
        account: str = "SCREENS",
        session_seconds: int = 24 * 3600,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._urls = urls
        self._login = login
        self._issuer = issuer
        self._directory = directory
        self._account = account
        self._session_seconds = session_seconds
        # The broker enforces ``exp`` with its own clock: the wall clock, not
        # the injected one (tests run that at a fixed past day).
        self._now = now
        self._client: Client | None = None
        self.counts: Counter[str] = Counter()  # accepted, refused, malformed, failed

    async def start(self) -> None:
        """Connect and answer (raises when no node is reachable: retry)."""
        self._client = await connect(self._urls, self._login, "callout")
        await self._client.subscribe(AUTH_SUBJECT, QUEUE, cb=self._on_request)
        await self._client.flush()

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    @property
    def answering(self) -> bool:
        """Subscribed and connected to a node (nats-py subscribes again by
        itself after a reconnect)."""
        return self._client is not None and self._client.is_connected

    async def _on_request(self, msg: Msg) -> None:
        answer = await self.answer(msg.data)
        if answer is not None and msg.reply:
            await msg.respond(answer)

    async def answer(self, data: bytes) -> bytes | None:
        """The signed response to one request JWT; None for a malformed one."""
        try:
            request = nats_jwt.decode(data.decode(), "server")
            nats_claims = request["nats"]
            user_nkey = str(nats_claims["user_nkey"])
            if request["iss"] != nats_claims["server_id"]["id"]:
                raise nats_jwt.BadJwt("not signed by the server it names")
        except (nats_jwt.BadJwt, KeyError, TypeError, UnicodeDecodeError) as error:
            self.counts["malformed"] += 1
            log.warning("auth callout: malformed request", error=str(error))
            return None
        try:
            claims = await self.decide(request, user_nkey)
        except Exception:
            self.counts["failed"] += 1
            log.exception("auth callout failed")
            claims = nats_jwt.response_claims(request, error=REFUSED)
        return nats_jwt.encode(claims, self._issuer).encode()

    async def decide(self, request: dict[str, Any], user_nkey: str) -> dict[str, Any]:
        """The response claims: a user JWT for a live screen's own login, or a refusal."""
        nats_claims = request["nats"]
        options = nats_claims.get("connect_opts") or {}
        client = nats_claims.get("client_info") or {}
        username, token = options.get("user"), options.get("pass")
        mqtt_id = client.get("mqtt_id")
        peer = None
        # MQTT: the client id must be the terminal id too (one session per screen)
        own_id = client.get("type") != "mqtt" or mqtt_id == username
        if isinstance(username, str) and isinstance(token, str) and token and own_id:
            peer = await self._directory.by_token(token)
        if peer is None or peer.terminal_id != username:
            self.counts["refused"] += 1
            log.info("auth callout refused", user=str(username)[:64], client=str(mqtt_id)[:64])
            return nats_jwt.response_claims(request, error=REFUSED)
        expires = int(self._now()) + self._session_seconds
        user = nats_jwt.user_claims(
            peer.terminal_id, peer.region, user_nkey, self._account, expires
        )
        self.counts["accepted"] += 1
        return nats_jwt.response_claims(request, user_jwt=nats_jwt.encode(user, self._issuer))


async def keep_answering(callout: AuthCallout, retry_max_s: float = 30.0) -> None:
    """Start the callout, retrying with backoff until a node answers (a task)."""
    delay = 1.0
    while True:
        try:
            await callout.start()
            return
        except (TimeoutError, OSError, nats.errors.Error) as error:
            if delay == 1.0:  # once, not per attempt
                log.warning("auth callout: NATS unreachable", error=str(error), retry_in=delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, retry_max_s)
