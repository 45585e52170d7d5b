"""The alarm desk: observations in, stored alarms (and their webhooks) out.

``AlarmDesk`` keeps this process's ``AlarmBook`` (the pure reducer in
``domain/monitoring/alarms.py``: dedup per terminal and type, flap
suppression, auto-resolve) and writes what it decides to the ``alarms``
table. Observations that change nothing (the usual case) touch no database.
The book is rebuilt from the stored live alarms on first use, so a restart
keeps open alarms open; condition trackers start afresh. With several
processes the store is the truth: at most one live alarm per terminal and
type is a unique index, so of two processes opening the same alarm one
stores it (and queues its webhooks) and the other adopts the stored one; a
screen coming back reads its live offline alarm from the store (the
leader's sweeper opened it, ADR 0011). Every change queues its webhooks in
the transaction that stores it (the outbox, ADR 0016). See
docs/monitoring.md.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from lianbo.adapters.db.repos.alarms import StoredAlarm
from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.monitoring import alarms as rules
from lianbo.domain.monitoring.alarms import (
    Alarm,
    AlarmBook,
    AlarmEvent,
    AlarmState,
    AlarmType,
    Observation,
    Severity,
)
from lianbo.domain.ports import Clock
from lianbo.services.webhook_outbox import WebhookOutbox

Key = tuple[str, AlarmType]


def alarm_json(alarm: StoredAlarm) -> dict[str, Any]:
    """An alarm as the API and webhooks show it."""
    return {
        "id": alarm.id,
        "type": alarm.type,
        "severity": alarm.severity,
        "terminal_id": alarm.terminal_id,
        "region": alarm.region,
        "tier": alarm.tier,
        "state": alarm.state,
        "opened_at": alarm.opened_at.isoformat(),
        "acknowledged_at": alarm.acknowledged_at.isoformat() if alarm.acknowledged_at else None,
        "acknowledged_by": alarm.acknowledged_by,
        "resolved_at": alarm.resolved_at.isoformat() if alarm.resolved_at else None,
        "resolved_by": alarm.resolved_by,
        "evidence": alarm.evidence,
        "count": alarm.count,
    }


def _json_safe(evidence: Mapping[str, object]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, str | int | float | bool | None | list | dict) else str(v)
        for k, v in evidence.items()
    }


def _domain(stored: StoredAlarm) -> Alarm:
    return Alarm(
        stored.terminal_id,
        AlarmType(stored.type),
        Severity(stored.severity),
        AlarmState(stored.state),
        stored.opened_at,
        stored.evidence,
        stored.acknowledged_at,
    )


def _watched(book: AlarmBook, found: Observation) -> bool:
    """True when an all-clear matters: an alarm is live or a run is active.

    "Condition absent" from a screen with neither changes nothing the
    reducer acts on, and every heartbeat of every healthy screen is one;
    skipping them keeps the book (copied per observation) small.
    """
    key: Key = (found.terminal_id, found.kind)
    tracker = book.trackers.get(key)
    return key in book.alarms or (tracker is not None and tracker.active)


class AlarmDesk:
    """The live alarm book of this process and where its decisions go."""

    def __init__(self, uows: Callable[[], UnitOfWork], clock: Clock, outbox: WebhookOutbox) -> None:
        self.uows = uows
        self.clock = clock
        self.outbox = outbox
        self.book = AlarmBook()
        self.ids: dict[Key, str] = {}
        self._loaded = False
        self._lock = asyncio.Lock()

    def live(self, terminal_id: str, kind: AlarmType) -> bool:
        """True when an alarm of ``kind`` is open or acknowledged on the terminal."""
        return (terminal_id, kind) in self.ids

    def forget(self) -> None:
        """Rebuild the book from the store on next use (this process has just
        become leader: others changed alarms meanwhile)."""
        self._loaded = False

    async def adopt(self, terminal_ids: Sequence[str], kind: AlarmType) -> None:
        """Learn the stored live alarms of ``kind`` on these terminals that
        this process's book does not hold (another process opened them)."""
        async with self._lock:
            await self._load()
            async with self.uows() as uow:
                stored = await uow.alarms.live_of(terminal_ids, kind.value)
            for alarm in stored:
                self._learn(alarm)

    def _learn(self, alarm: StoredAlarm) -> None:
        key: Key = (alarm.terminal_id, AlarmType(alarm.type))
        if self.ids.get(key) != alarm.id:
            self.book = replace(self.book, alarms={**self.book.alarms, key: _domain(alarm)})
            self.ids[key] = alarm.id

    async def _load(self) -> None:
        if self._loaded:
            return
        async with self.uows() as uow:
            stored = await uow.alarms.live()
        self.book = AlarmBook({(a.terminal_id, AlarmType(a.type)): _domain(a) for a in stored})
        self.ids = {(a.terminal_id, AlarmType(a.type)): a.id for a in stored}
        self._loaded = True

    async def observe(
        self, observations: Sequence[Observation], regions: Mapping[str, str]
    ) -> list[StoredAlarm]:
        """Apply observations (``regions``: terminal id → region code); the
        alarms opened or resolved by them, stored with their webhooks."""
        if not observations:
            return []
        async with self._lock:
            await self._load()
            now = self.clock.now()
            book, ids = self.book, dict(self.ids)
            changes: list[tuple[AlarmEvent, str]] = []
            seen: Counter[str] = Counter()
            for observation in observations:
                if not observation.active and not _watched(book, observation):
                    continue
                book, events = rules.observe(book, observation, now)
                key: Key = (observation.terminal_id, observation.kind)
                for event in events:
                    if event.name == "opened":
                        ids[key] = uuid.uuid4().hex
                        changes.append((event, ids[key]))
                    elif key in ids:
                        changes.append((event, ids.pop(key)))
                if not events and observation.active and key in ids:
                    seen[ids[key]] += 1
            if not changes and not seen:
                self.book = book
                return []
            done, found = await self._store(changes, seen, regions, now)
            self.book, self.ids = book, ids
            for alarm in found:  # opened elsewhere first: that one is the alarm
                self._learn(alarm)
        return done

    async def _store(
        self,
        changes: list[tuple[AlarmEvent, str]],
        seen: Mapping[str, int],
        regions: Mapping[str, str],
        now: datetime,
    ) -> tuple[list[StoredAlarm], list[StoredAlarm]]:
        """Store the changes and their webhooks; (alarms opened or resolved
        here; live alarms another process stored first, to adopt)."""
        done: list[StoredAlarm] = []
        found: list[StoredAlarm] = []
        async with self.uows() as uow:
            for event, alarm_id in changes:
                alarm = event.alarm
                if event.name == "opened":
                    stored = StoredAlarm(
                        id=alarm_id,
                        type=alarm.kind.value,
                        severity=alarm.severity.value,
                        terminal_id=alarm.terminal_id,
                        region=regions.get(alarm.terminal_id, ""),
                        tier=_tier_of(alarm),
                        state=AlarmState.OPEN.value,
                        opened_at=alarm.opened_at,
                        evidence=_json_safe(alarm.evidence),
                        count=1,
                    )
                    if await uow.alarms.add(stored):
                        done.append(stored)
                    else:  # one live alarm per terminal and type: someone was first
                        first = await uow.alarms.live_for(alarm.terminal_id, alarm.kind.value)
                        found += [first] if first is not None else []
                elif await uow.alarms.resolve_live(alarm_id, now, "system"):
                    after = await uow.alarms.get(alarm_id)
                    if after is not None:
                        done.append(after)
            await uow.alarms.bump(seen)
            await self.outbox.queue_many(uow, [(event_name(a), alarm_json(a)) for a in done])
            await uow.commit()
        return done, found

    async def acknowledged(self, alarm: StoredAlarm) -> None:
        """Keep the book in step with a stored acknowledgement."""
        async with self._lock:
            await self._load()
            key: Key = (alarm.terminal_id, AlarmType(alarm.type))
            if self.ids.get(key) == alarm.id:
                self.book, _ = rules.acknowledge(self.book, key, self.clock.now())

    async def resolved(self, alarm: StoredAlarm) -> None:
        """Keep the book in step with a resolve by hand."""
        async with self._lock:
            await self._load()
            key: Key = (alarm.terminal_id, AlarmType(alarm.type))
            if self.ids.get(key) == alarm.id:
                self.book, _ = rules.resolve(self.book, key, self.clock.now())
                del self.ids[key]


def _tier_of(alarm: Alarm) -> str:
    """The tier the severity was chosen for (evidence carries it when known)."""
    tier = alarm.evidence.get("tier")
    return str(tier) if tier else ""


def event_name(alarm: StoredAlarm) -> str:
    """The webhook event a stored alarm's state stands for."""
    return {"open": "opened", "acknowledged": "acknowledged"}.get(alarm.state, "resolved")
