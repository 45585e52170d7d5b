"""Fetching the signed manifest, and keeping the last good one.

A refused manifest (bad signature, wrong version hash, expired, someone
else's audience ...) never replaces the one playing: the screen goes on
with the last manifest it could verify, and the reason is kept for the
status report so the control centre sees the attempt. The last good
envelope is stored on disk as received and verified again on start, so a
restarted player with no network still plays (until ``valid_until``).

The keys are the screen's pinned ones (``trust.py``): a manifest signed
with a key id they do not hold is played only when a signed key set, signed
by a pinned key, brings that key in; otherwise it is refused as
"untrusted key" (a man in the middle re-signing manifests looks like this).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from lianbo.player.api import Refused, TerminalApi, Unreachable
from lianbo.player.files import write_atomic
from lianbo.player.trust import KeyPins
from lianbo.protocol.envelope import MalformedEnvelope, split
from lianbo.protocol.manifest import ManifestRejected, VerifiedManifest, verify

log = logging.getLogger("lianbo.player")

MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why the last manifest offered was refused."""

    reason: str
    detail: str
    at: datetime

    def as_json(self) -> dict[str, Any]:
        return {"reason": self.reason, "detail": self.detail, "at": self.at.isoformat()}


class ManifestFetcher:
    """Fetches with ``If-None-Match``, verifies, and remembers the last good one."""

    def __init__(
        self,
        api: TerminalApi,
        pins: KeyPins,
        state_dir: Path,
        now: Callable[[], datetime],
        *,
        audience: dict[str, Any] | None = None,
    ) -> None:
        self.api = api
        self.pins = pins
        self.path = state_dir / MANIFEST_FILE
        self.now = now
        self.audience = audience
        self.current: VerifiedManifest | None = None
        self.rejection: Rejection | None = None
        self.fetches = 0  # answered requests (200 or 304), for status and tests

    def load_saved(self) -> VerifiedManifest | None:
        """The stored manifest when it still verifies (signature, validity)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            self.current = verify(text, self.pins.keys, now=self.now(), audience=self.audience)
        except ManifestRejected as error:
            log.warning("stored manifest not used: %s", error)
            return None
        log.info("playing the stored manifest %s", self.current.version[:12])
        return self.current

    async def fetch(self, *, force: bool = False) -> bool:
        """One request; True when a new manifest was accepted.

        ``force`` skips ``If-None-Match`` (the ``reload`` command). Raises the
        api module's Unreachable / Refused when the server does not answer.
        """
        etag = f'"{self.current.version}"' if self.current and not force else None
        reply = await self.api.manifest(etag)
        self.fetches += 1
        if reply.status == 304:
            return False
        try:
            manifest = await self._verify(reply.body)
        except ManifestRejected as error:
            self._refuse(error)
            return False
        self.rejection = None
        self.pins.trusted_again()
        return self._take(manifest)

    async def fetch_published(self, url: str, version: str) -> bool | None:
        """The pushed ``version`` from its ``url`` (no token, maybe through
        a cache): True when it was verified and taken, False when it is the
        one playing already. None on any failure — unreachable, refused, a
        bad signature, another version than the push named (a cache
        replaying an older signed one) — after which the caller asks
        ``GET /terminal/v1/manifest`` as before (``fetch``). Verified exactly
        as a fetched one; never applied otherwise."""
        if self.current is not None and self.current.version == version:
            return False  # a poll brought it meanwhile
        try:
            text = await self.api.published(url)
            manifest = await self._verify(text)
        except (Unreachable, Refused, ManifestRejected) as error:
            log.warning("pushed manifest %s not taken from %s (%s)", version[:12], url, error)
            return None
        if manifest.version != version:
            log.warning("pushed manifest %s: %s served another version", version[:12], url)
            return None
        self.fetches += 1
        self.rejection = None
        self.pins.trusted_again()
        return self._take(manifest)

    def _take(self, manifest: VerifiedManifest) -> bool:
        if self.current is not None and manifest.version == self.current.version:
            return False
        self.current = manifest
        write_atomic(self.path, manifest.envelope.encode("utf-8"))
        log.info("new manifest %s (valid until %s)", manifest.version[:12], manifest.valid_until)
        return True

    async def _verify(self, text: bytes) -> VerifiedManifest:
        try:
            return verify(text, self.pins.keys, now=self.now(), audience=self.audience)
        except ManifestRejected as error:
            if error.reason != "unknown key":
                raise
        # A rotation, or someone re-signing manifests: only a key set signed
        # by a pinned key may bring the new key in (ADR 0004).
        try:
            key_id = split(text).key_id
        except MalformedEnvelope:  # verify() parsed it already; cannot happen
            raise ManifestRejected("malformed") from None
        refused = await self.pins.learn(key_id)
        if refused is not None:
            raise ManifestRejected("untrusted key", f"{key_id[:64]}: {refused}")
        return verify(text, self.pins.keys, now=self.now(), audience=self.audience)

    def _refuse(self, error: ManifestRejected) -> None:
        previous = self.rejection
        self.rejection = Rejection(error.reason, error.detail, self.now())
        if previous is None or (previous.reason, previous.detail) != (error.reason, error.detail):
            log.warning("manifest refused (%s); keeping the previous one", error)
