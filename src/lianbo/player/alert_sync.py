"""The agent's alert tasks: fetching the alert list, and alert audio.

``GET /terminal/v1/alerts`` is asked at start-up, whenever the push channel
(re)connects, whenever the HTTP link comes back, and with every manifest
poll: pushes sent while a screen was away are lost, and this list is how an
alert still in force reaches it within seconds of its return. Failures
retry with jittered backoff; a ``wake`` (a reconnect) cuts the wait short.

An alert's audio resource is downloaded into the media cache and used only
once its sha256 matched; until then (or if it never does) the screen plays
its own attention tone. A failed download is tried again after a backoff
delay; bytes that do not match are never tried again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from lianbo.player.alerts import AlertDesk
from lianbo.player.api import Refused, TerminalApi, Unreachable
from lianbo.player.backoff import Backoff
from lianbo.player.cache import CacheError, MediaCache
from lianbo.player.waits import wait_event
from lianbo.protocol.manifest import FileRef

log = logging.getLogger("lianbo.player")


class AlertSync:
    """Keeps the desk up to date with the control centre's list of alerts."""

    def __init__(
        self,
        desk: AlertDesk,
        api: TerminalApi,
        cache: MediaCache,
        keep: Callable[[], set[str]],
        backoff: Backoff,
        monotonic: Callable[[], float],
    ) -> None:
        self.desk = desk
        self.api = api
        self.cache = cache
        self.keep = keep
        self.backoff = backoff
        self.monotonic = monotonic
        self.due = asyncio.Event()
        self.audio_due = asyncio.Event()
        self.unsupported = False  # the server has no alerts endpoint (404)
        self.audio_backoff = Backoff(backoff.base, backoff.cap)
        self._audio_failed: set[str] = set()
        self.due.set()  # at start-up

    def wake(self) -> None:
        """Fetch the list now (a reconnect, a poll)."""
        self.due.set()

    def changed(self) -> None:
        """The desk changed: perhaps an alert with audio to fetch."""
        self.audio_due.set()

    async def run(self) -> None:
        while True:
            await self.due.wait()
            self.due.clear()
            try:
                await self.fetch()
            except (Unreachable, Refused) as error:
                log.debug("alert list not fetched: %s", error)
                await self._wait(self.due, self.backoff.next_delay())
                self.due.set()
                continue
            self.backoff.reset()

    async def fetch(self) -> None:
        """One request. Raises Unreachable / Refused when it fails."""
        asked = self.monotonic()
        reply = await self.api.alerts()
        if reply is None:
            if not self.unsupported:
                log.info("the server has no alert list; alerts come by push only")
            self.unsupported = True
            return
        self.unsupported = False
        await self.desk.fetched(reply, asked)

    async def audio(self) -> None:
        while True:
            await self.audio_due.wait()
            self.audio_due.clear()
            for alert_id, resource in self.desk.audio_wanted():
                if alert_id in self._audio_failed:
                    continue
                await self._fetch_audio(alert_id, resource)

    async def _fetch_audio(self, alert_id: str, resource: dict[str, object]) -> None:
        sha256, size = str(resource["sha256"]), resource["size"]
        assert isinstance(size, int)
        url = str(resource.get("url") or "")
        if url.startswith("/"):
            url = self.api.server + url
        file = FileRef(f"alert:{alert_id}", sha256, size, str(resource["mime_type"]), url)
        try:
            path = await self.cache.ensure(file, [url, self.api.media_url(sha256)], self.keep())
        except CacheError as error:
            if error.reason == "download failed":  # the network: try again later
                delay = self.audio_backoff.next_delay()
                asyncio.get_running_loop().call_later(delay, self.audio_due.set)
                return
            log.warning("alert %s audio not used (%s): the attention tone plays", alert_id, error)
            self._audio_failed.add(alert_id)  # wrong bytes stay wrong
            return
        self.audio_backoff.reset()
        self.desk.audio_ready(alert_id, path)

    @staticmethod
    async def _wait(event: asyncio.Event, seconds: float) -> None:
        await wait_event(event, seconds)
