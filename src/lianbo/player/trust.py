"""The keys this screen trusts: pinned at enrolment, changed only by a signed set.

A manifest or an alert notice signed with a key id the screen does not know
may be a rotation — or a man in the middle who re-signed it with his own
key. So the screen asks ``/terminal/v1/keys`` once and adopts the answer
only when it is a key set signed by a key already pinned and newer than the
pinned one (``protocol/keyset.py``, ADR 0004). Anything else is refused:
the screen keeps playing what it has and reports ``untrusted_key`` in its
status, which opens an ``untrusted-key`` alarm at the control centre.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from lianbo.protocol.keyset import KeySetRejected, accept

log = logging.getLogger("lianbo.player")


class KeyPins:
    """Pinned keys and their key-set serial; ``learn`` is the only way in."""

    def __init__(
        self,
        keys: dict[str, str],
        serial: int,
        fetch: Callable[[], Awaitable[Any]],
        now: Callable[[], datetime],
        on_change: Callable[[dict[str, str], int], None] | None = None,
    ) -> None:
        self.keys = dict(keys)
        self.serial = serial
        self.fetch = fetch  # the raw ``/terminal/v1/keys`` reply
        self.now = now
        self.on_change = on_change
        self.untrusted: dict[str, str] | None = None  # for the status report

    async def learn(self, key_id: str) -> str | None:
        """Try to come to trust ``key_id`` through a signed key set.

        None when it is trusted now; otherwise why not (and the screen's
        ``untrusted`` status is set). Transport errors propagate (the caller
        keeps what it has and retries later).
        """
        if key_id in self.keys:
            return None
        reply = await self.fetch()
        try:
            key_set = accept(reply, self.keys, pinned_serial=self.serial)
        except KeySetRejected as refused:
            return self._refuse(key_id, refused.reason)
        self.keys, self.serial = dict(key_set.keys), key_set.serial
        log.info("key set %d adopted (signed by a pinned key)", key_set.serial)
        if self.on_change is not None:
            self.on_change(self.keys, self.serial)
        if key_id not in self.keys:
            return self._refuse(key_id, "not in the signed key set")
        self.untrusted = None
        return None

    def trusted_again(self) -> None:
        """Something verified with a pinned key: the alarm condition is over."""
        if self.untrusted is not None:
            log.info("signatures verify with the pinned keys again")
        self.untrusted = None

    def _refuse(self, key_id: str, reason: str) -> str:
        if self.untrusted is not None and self.untrusted["key_id"] == key_id[:64]:
            return reason  # logged and reported already (since its first sight)
        log.warning("key %s not trusted (%s); keeping the pinned keys", key_id[:32], reason)
        self.untrusted = {"key_id": key_id[:64], "reason": reason, "at": self.now().isoformat()}
        return reason
