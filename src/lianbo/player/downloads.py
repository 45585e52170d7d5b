"""Downloading what the current manifest needs, ahead of air time.

Files go in the order they are first needed (the timeline's order), so the
next hour is ready before tomorrow's. A new manifest starts the pass over
in its own order; failures (server down, a refused sha256) are retried after
a jittered backoff delay, and their reasons stay in ``MediaCache.failures``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from lianbo.player.backoff import Backoff
from lianbo.player.cache import CacheError, MediaCache
from lianbo.player.schedule import files_by_air_time, needed
from lianbo.player.waits import wait_event
from lianbo.protocol.manifest import VerifiedManifest


class Downloader:
    """Keeps the cache holding what ``manifest()`` names."""

    def __init__(
        self,
        cache: MediaCache,
        manifest: Callable[[], VerifiedManifest | None],
        fallback_url: Callable[[str], str],
        now: Callable[[], datetime],
        backoff: Backoff,
        on_file: Callable[[], None],
    ) -> None:
        self.cache = cache
        self.manifest = manifest
        self.fallback_url = fallback_url
        self.now = now
        self.backoff = backoff
        self.on_file = on_file
        self.changed = asyncio.Event()

    def wake(self) -> None:
        """A new manifest (or a reload): go over the files again now."""
        self.changed.set()

    async def run(self) -> None:
        while True:
            await self.changed.wait()
            self.changed.clear()
            failed = await self._pass()
            if failed and not self.changed.is_set():
                await wait_event(self.changed, self.backoff.next_delay())
                self.changed.set()
            elif not failed:
                self.backoff.reset()

    async def _pass(self) -> bool:
        """One pass over the manifest's files; True when some could not be had."""
        manifest = self.manifest()
        if manifest is None:
            return False
        keep = needed(manifest)
        self.cache.evict_unneeded(keep)
        failed = False
        for file in files_by_air_time(manifest, self.now()):
            if self.changed.is_set():
                break  # a newer manifest: start over in its order
            if self.cache.path_of(file.sha256) is not None:
                continue
            try:
                await self.cache.ensure(file, [file.url, self.fallback_url(file.sha256)], keep)
            except CacheError:
                failed = True  # the reason is in cache.failures, for the status
                continue
            self.on_file()
        return failed
