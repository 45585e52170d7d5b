"""The agent: one screen's loop tying fetching, caching and playing together.

Tasks, all in one event loop:

- **player** — plays the current manifest on the backend, on deadlines;
- **sync** — heartbeats (``heartbeat.py``), manifest polls (``If-None-Match``;
  every ``poll_seconds`` without push, rarely with it), play-log batches; when
  the server is unreachable it retries with jittered backoff while the player
  goes on from the cache until ``valid_until``;
- **downloads** — fetches the files a new manifest needs, soonest first
  (``downloads.py``);
- **push** (optional) — the WebSocket: ``manifest`` triggers a fetch at once
  (from the URL it names, without a token, else from ``/terminal/v1/manifest``),
  ``command`` runs ``reload`` / ``screenshot`` / ``restart``, ``alert`` /
  ``alert-cancel`` go to the alert desk, ``heartbeat`` answers a heartbeat;
- **alerts** — the alert list (start-up, every (re)connect, every poll),
  alert acks (kept until delivered; over the push channel while it is up),
  alert audio (``alert_sync.py``,
  ``alert_acks.py``; the decisions are in ``alerts.py``).

The sync loop and the push handlers are in ``agent_loops.py``; this module
wires the parts together and runs the tasks.

A task that dies of a bug restarts the whole loop (after a backoff delay)
instead of leaving a screen half alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from lianbo.player.agent_loops import AgentLoops
from lianbo.player.alert_acks import AckBook, AckSender
from lianbo.player.alert_sync import AlertSync
from lianbo.player.alerts import AlertDesk
from lianbo.player.api import Refused, TerminalApi, Unreachable
from lianbo.player.backoff import Link
from lianbo.player.cache import MediaCache
from lianbo.player.channels import push_channel
from lianbo.player.clock import Clock, ServerClock, SystemClock
from lianbo.player.downloads import Downloader
from lianbo.player.fetch import ManifestFetcher
from lianbo.player.heartbeat import BeatConfig, Heartbeats
from lianbo.player.identity import Identity
from lianbo.player.playback import Backend, Player
from lianbo.player.push import PushChannel
from lianbo.player.reporter import HttpReporter, PlayLogBook
from lianbo.player.schedule import needed
from lianbo.player.tls import server_context
from lianbo.player.trust import KeyPins
from lianbo.player.waits import within

log = logging.getLogger("lianbo.player")


@dataclass(frozen=True, slots=True)
class AgentConfig:
    state_dir: Path
    cache_bytes: int = 8 * 1024**3
    poll_seconds: float = 30.0  # manifest polls while there is no push channel
    push_poll_seconds: float = 300.0  # safety polls while push is connected
    beats: BeatConfig = field(default_factory=BeatConfig)  # heartbeats: interval, socket/HTTP
    playlog_seconds: float = 60.0
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    push: bool = True
    # an alert ack waits up to this (uniform) before it goes: spread, merged
    ack_spread_seconds: float = 0.5


class Agent(AgentLoops):
    """One screen. ``await run()`` until ``stop()``."""

    def __init__(
        self,
        identity: Identity,
        config: AgentConfig,
        backend: Backend,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.identity = identity
        self.config = config
        self.backend = backend
        self.clock = ServerClock(clock or SystemClock())
        self.rng = rng or random.Random()
        self.http_link = Link("control centre")
        self.beats = Heartbeats(
            config.beats, self.status, self.clock.estimator, self._mono, self._new_audience
        )
        self.restarts = 0
        self._stop = asyncio.Event()
        self._restart = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        config.state_dir.mkdir(parents=True, exist_ok=True)
        self._book = PlayLogBook(config.state_dir / "playlog.jsonl")
        self.acks = AckBook(config.state_dir / "alert-acks.jsonl")
        self.pins = KeyPins(
            identity.keys,
            identity.key_serial,
            lambda: self.api.keys(),
            self.clock.now,
            self._new_keys,
        )
        self.alerts = AlertDesk(
            config.state_dir,
            lambda: self.pins.keys,
            self.clock.now,
            self.acks.add,
            learn_key=self.pins.learn,
            on_change=self._alerts_changed,
            monotonic=self.clock.clock.monotonic,
        )
        # closed when run() ends; https:// checks the certificate (tls.py)
        self.client = httpx.AsyncClient(transport=transport, verify=server_context(identity.ca))
        self._setup()

    # -- life cycle ----------------------------------------------------------

    async def run(self) -> None:
        """Play until ``stop()``; ``restart`` commands go round again."""
        self._loop = asyncio.get_running_loop()
        await self.backend.start()
        crashes = self._backoff()
        try:
            while not self._stop.is_set():
                crashed = await self._run_once()
                if self._stop.is_set():
                    break
                if crashed:
                    await self._wait(self._stop, crashes.next_delay())
                self.restarts += 1
        finally:
            await self.backend.close()
            await self.client.aclose()

    @property
    def heartbeats(self) -> int:
        """Heartbeats the server accepted (socket or HTTP), for status and tests."""
        return self.beats.accepted

    def stop(self) -> None:
        """Ask the agent to stop; safe to call from any thread."""
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stop.set)
        else:
            self._stop.set()

    def status(self) -> dict[str, Any]:
        """What the heartbeat and the push channel report."""
        manifest = self.fetcher.current
        rejection = self.fetcher.rejection
        return {
            "terminal_id": self.identity.terminal_id,
            "manifest_version": manifest.version if manifest else None,
            "manifest_valid_until": manifest.valid_until.isoformat() if manifest else None,
            "rejected": rejection.as_json() if rejection else None,
            "showing": self.player.showing(),
            "cache": self.cache.stats(),
            "clock_offset_ms": round(self.clock.estimator.offset * 1000, 1),
            "push": "connected" if self.push and self.push.connected else "polling",
            "backend": self.backend.name,
            "playlog_pending": len(self._book.pending),
            "alerts": self.alerts.status(),
            "untrusted_key": self.pins.untrusted,
            "key_serial": self.pins.serial,
        }

    def _setup(self) -> None:
        """(Re)build the parts for one round of the loop."""
        config, ident = self.config, self.identity
        self.api = TerminalApi(
            ident.server, ident.token, self.client, self.clock.clock, terminal_id=ident.terminal_id
        )
        self.fetcher = ManifestFetcher(
            self.api, self.pins, config.state_dir, self.clock.now, audience=ident.audience
        )
        self.cache = MediaCache(config.state_dir / "media", config.cache_bytes, self.client)
        self.reporter = HttpReporter(self._book, self.api)
        self.player = Player(
            self.backend, self.cache, self.clock, self.reporter.record, alerts=self.alerts
        )
        self.alert_sync = AlertSync(
            self.alerts,
            self.api,
            self.cache,
            self._files_needed,
            self._backoff(),
            self._mono,
        )
        self.downloads = Downloader(
            self.cache,
            lambda: self.fetcher.current,
            self.api.media_url,
            self.clock.now,
            self._backoff(),
            self.player.poke,
        )
        self.cache.on_stale = self.downloads.wake  # a file changed on disk: check, fetch
        self.push: PushChannel | None = None
        if config.push:
            self.push = push_channel(  # the hub or the broker, as enrolled
                ident,
                self._on_push,
                audience=lambda: self.identity.audience,
                clock=self.clock.clock,
                estimator=self.clock.estimator,
                backoff=self._backoff(),
                on_connect=self._on_push_connect,
            )
        self.beats.attach(self.api, self.push)
        self.ack_sender = AckSender(  # over the push channel while it answers, else HTTP
            self.acks,
            self.api,
            self._backoff(),
            self.push,
            reply_seconds=config.beats.reply_seconds,
            quiet_seconds=config.beats.quiet_seconds,
            spread_seconds=config.ack_spread_seconds,
            rng=self.rng,
            monotonic=self._mono,
        )
        self._refetch = asyncio.Event()
        self._force = False
        self._pushed = None
        self._background: set[asyncio.Task[None]] = set()

    async def _run_once(self) -> bool:
        """One round until stop or restart; True when a task crashed."""
        self._restart.clear()
        self._setup()
        self.player.update(self.fetcher.load_saved())
        self.downloads.wake()
        jobs = [self.player.run(), self._sync(), self.downloads.run()]
        jobs += [self.alert_sync.run(), self.alert_sync.audio(), self.ack_sender.run()]
        if self.push is not None:
            jobs.append(self.push.run())
        tasks: list[asyncio.Task[Any]] = [asyncio.create_task(job) for job in jobs]
        enders: list[asyncio.Task[Any]] = [
            asyncio.create_task(e.wait()) for e in (self._stop, self._restart)
        ]
        done, _ = await asyncio.wait(tasks + enders, return_when=asyncio.FIRST_COMPLETED)
        crashed = [t for t in done if t in tasks]
        for task in crashed:
            log.error("agent task failed; restarting", exc_info=task.exception())
        for task in [*tasks, *enders, *self._background]:
            task.cancel()
        await asyncio.gather(*tasks, *enders, *self._background, return_exceptions=True)
        await self.player.finish()
        with contextlib.suppress(Unreachable, Refused, TimeoutError):
            await within(self.reporter.flush(), 2.0)
        with contextlib.suppress(Unreachable, TimeoutError):  # the rest wait on disk
            await within(self.ack_sender.flush(), 1.0)
        return bool(crashed)

    # -- alerts --------------------------------------------------------------

    def _alerts_changed(self) -> None:
        if hasattr(self, "player"):  # not while the desk loads, before the first round
            self.player.poke()
            self.alert_sync.changed()

    def _files_needed(self) -> set[str]:
        manifest = self.fetcher.current
        return needed(manifest) if manifest is not None else set()

    # -- helpers -------------------------------------------------------------

    def _new_keys(self, keys: dict[str, str], serial: int) -> None:
        """A signed key set was adopted: pin it across restarts."""
        self._save_identity(replace(self.identity, keys=keys, key_serial=serial))
