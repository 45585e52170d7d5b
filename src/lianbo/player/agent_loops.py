"""The agent's loops: the **sync** task with the control centre over HTTP, and
what the **push** channel's messages and commands do (agent.py says which
task does what).

``AgentLoops`` holds the behaviour; ``Agent`` (agent.py) extends it with the
wiring: it builds, every round of its loop, the parts declared here.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from lianbo.player import identity as identity_store
from lianbo.player.alert_acks import AckSender
from lianbo.player.alert_sync import AlertSync
from lianbo.player.alerts import AlertDesk
from lianbo.player.api import Refused, TerminalApi, Unreachable
from lianbo.player.backoff import Backoff, Link
from lianbo.player.clock import ServerClock
from lianbo.player.downloads import Downloader
from lianbo.player.fetch import ManifestFetcher
from lianbo.player.heartbeat import Heartbeats, moved
from lianbo.player.identity import Identity
from lianbo.player.playback import Backend, Player
from lianbo.player.push import PushChannel
from lianbo.player.reporter import HttpReporter
from lianbo.player.waits import wait_event
from lianbo.protocol.messages import Message

if TYPE_CHECKING:
    from lianbo.player.agent import AgentConfig

log = logging.getLogger("lianbo.player")


class AgentLoops:
    """The sync loop and the push handlers of one screen's agent."""

    identity: Identity
    config: AgentConfig
    backend: Backend
    clock: ServerClock
    rng: random.Random
    http_link: Link
    beats: Heartbeats
    alerts: AlertDesk
    _restart: asyncio.Event
    # rebuilt every round (Agent._setup)
    api: TerminalApi
    fetcher: ManifestFetcher
    reporter: HttpReporter
    player: Player
    alert_sync: AlertSync
    ack_sender: AckSender
    downloads: Downloader
    push: PushChannel | None
    _refetch: asyncio.Event
    _force: bool
    _pushed: tuple[str, str] | None  # (url, version) of the latest manifest push
    _background: set[asyncio.Task[None]]
    _push_connected_at = 0.0  # monotonic: when the push channel last connected
    _hello_lists = False  # the next fetch is a connect's: its hello lists the alerts

    # -- the control centre over HTTP ----------------------------------------

    async def _sync(self) -> None:
        poll_due = 0.0
        playlog_due = self._mono() + self.config.playlog_seconds
        backoff = self._backoff()
        while True:
            try:
                if self._mono() >= self.beats.due:
                    await self.beats.beat()
                if self._refetch.is_set() or self._mono() >= poll_due:
                    await self._fetch()
                    poll_due = self._mono() + self._poll_interval()
                if self._mono() >= playlog_due:
                    await self.reporter.flush()
                    playlog_due = self._mono() + self.config.playlog_seconds
            except (Unreachable, Refused) as error:
                self.http_link.failed(str(error))
                self.beats.soon()
                poll_due = 0.0  # when it answers again: both at once
                await self._wait(self._refetch, backoff.next_delay())
                continue
            backoff.reset()
            if self.http_link.ok():
                self.alert_sync.wake()  # back after an outage: what went out meanwhile?
            wait = min(self.beats.due, poll_due, playlog_due) - self._mono()
            await self._wait(self._refetch, wait)

    async def _fetch(self) -> None:
        force, self._force = self._force, False
        pushed, self._pushed = self._pushed, None
        self._refetch.clear()
        before = self.fetcher.rejection
        # From the URL the push named (ADR 0024): taken there, no request of
        # ours reaches the control centre, so no alert list either (alerts
        # are pushed; the next poll asks).
        new = None if pushed is None or force else await self.fetcher.fetch_published(*pushed)
        if new is None:
            if self._hello_lists:  # a (re)connect's fetch: the greeting lists the alerts
                self._hello_lists = False
            else:
                self.alert_sync.wake()  # every poll asks for the alert list too
            new = await self.fetcher.fetch(force=force)
        if new:
            self.player.update(self.fetcher.current)
            self.downloads.wake()
            await self.beats.report()  # on the socket: a heartbeat with the news
        elif self.fetcher.rejection is not before and moved(self.fetcher.rejection):
            # Someone else's manifest, or were we moved? Ask before settling on
            # the refusal (a new audience fetches again: ``_new_audience``).
            await self.beats.refresh_audience()

    def _new_audience(self, audience: dict[str, Any]) -> None:
        """The audience a heartbeat reply names: keep it; retry a manifest
        refused as someone else's, which may be ours now."""
        if audience == self.fetcher.audience:
            return
        self.fetcher.audience = audience
        self._save_identity(replace(self.identity, audience=audience))
        if moved(self.fetcher.rejection):
            self._refetch.set()

    def _poll_interval(self) -> float:
        if self.push is not None and self.push.connected:
            return self.config.push_poll_seconds
        return self.config.poll_seconds

    # -- push ----------------------------------------------------------------

    async def _on_push_connect(self) -> None:
        # Messages sent while we were away are lost: look for ourselves. The
        # hub lists our alerts right after its ``hello`` (``_greeted``,
        # ``_listed``); MQTT has no hello.
        self._push_connected_at = self._mono()
        self._hello_lists = self.push is not None and self.push.greets
        if not self._hello_lists:
            self.alert_sync.wake()
        self._refetch.set()
        self.ack_sender.reconnected()  # acks awaiting answers: again, on this connection
        await self.beats.connected()

    async def _on_push(self, message: Message) -> None:
        if message.type == "hello":
            self._greeted(message.body)
        elif message.type == "alerts":
            await self._listed(message.body)
        elif message.type == "manifest":
            current, version = self.fetcher.current, message.body.get("version")
            if current is None or version != current.version:
                url = message.body.get("url")
                if isinstance(url, str) and isinstance(version, str):
                    self._pushed = (url, version)  # fetched at once from there (ADR 0024)
                self._refetch.set()
        elif message.type == "command":
            await self._command(str(message.body.get("id", "")), message.body.get("command"))
        elif message.type in ("alert", "alert-cancel"):
            await self.alerts.receive({"type": message.type, **message.body})
        elif message.type == "heartbeat":
            self.beats.answer(message.body)
        elif message.type == "alert-ack":
            self.ack_sender.answer(message.body)

    def _greeted(self, hello: dict[str, Any]) -> None:
        """The socket's greeting: a server that will not list our alerts
        next (``alerts_follow``) is asked for them."""
        if hello.get("alerts_follow") is not True:
            self.alert_sync.wake()

    async def _listed(self, listed: dict[str, Any]) -> None:
        """The ``alerts`` message after the ``hello``: the answer
        ``GET /terminal/v1/alerts`` would give, as of the connect; without a
        list the server could not read it: ask."""
        if isinstance(listed.get("alerts"), list):
            await self.alerts.fetched(listed, self._push_connected_at)
        else:
            self.alert_sync.wake()

    async def _command(self, command_id: str, name: Any) -> None:
        if name == "reload":
            self._force = True
            self._refetch.set()
            self.downloads.wake()
        elif name == "screenshot":
            task = asyncio.create_task(self._screenshot())
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        elif name == "restart":
            self._restart.set()
        else:
            log.warning("unknown command %r ignored", name)
            return
        if self.push is not None:
            await self.push.send(Message("ack", {"id": command_id}))

    async def _screenshot(self) -> None:
        try:
            shot = await self.backend.screenshot(self.clock.now())
        except Exception:  # a backend failure must not take the agent down
            log.exception("screenshot failed")
            return
        try:
            verdict = await self.api.screenshot(shot.png, shot.taken_at, shot.stub)
        except (Unreachable, Refused) as error:
            log.warning("screenshot not delivered: %s", error)
            return
        if verdict is None:
            log.info("the server takes no screenshots yet")

    # -- helpers -------------------------------------------------------------

    def _save_identity(self, updated: Identity) -> None:
        self.identity = updated
        identity_store.save(updated, self.config.state_dir)

    def _backoff(self) -> Backoff:
        return Backoff(self.config.backoff_base, self.config.backoff_cap, self.rng)

    def _mono(self) -> float:
        return self.clock.clock.monotonic()

    async def _wait(self, event: asyncio.Event, seconds: float) -> None:
        """Sleep ``seconds`` or until ``event`` is set, whichever comes first."""
        await wait_event(event, seconds)
