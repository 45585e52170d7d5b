"""What happens after a change commits: the side effects, in one place.

Routes, console pages and the CLI only call services; services record
events (``domain/events.py``); the bus (``services/messagebus.py``) runs
these handlers after the commit. A handler that writes the store (a
manifest rebuild) runs once, on the process that committed the event; a
handler that touches what one process holds (its caches, the screens on
its own sockets) runs on every process.

Pushes to screens follow the terminal channel: the built-in hub holds the
sockets of its own process, so every process pushes to its own; an MQTT
broker fans a publish out to everyone, so only the committing process
publishes.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import structlog

from lianbo.domain import events as ev
from lianbo.domain.alerting.records import StoredAlert
from lianbo.services import commands, manifests
from lianbo.services.alert_notice import Signed
from lianbo.services.messagebus import Handler, MessageBus

if TYPE_CHECKING:
    from lianbo.services.context import Context

log = structlog.get_logger()


def register(bus: MessageBus, container: Context, *, pushes_everywhere: bool) -> None:
    """Subscribe every handler; ``pushes_everywhere`` for the hub (each
    process pushes to its own sockets), not for a broker (one publish)."""
    here = _Here(container)
    everywhere = _Everywhere(container)
    kind: type[ev.Event]
    for kind in (ev.TerminalEdited, ev.TerminalRetired, ev.TerminalEnrolled):
        bus.subscribe(kind, everywhere.forget_terminal, everywhere=True)
    bus.subscribe(ev.AssetAdded, here.queue_qc, everywhere=False)
    bus.subscribe(ev.AssetRevoked, here.take_off_air, everywhere=False)
    bus.subscribe(ev.AssetRevoked, here.purge_edges, everywhere=False)
    for kind in (ev.SchedulePublished, ev.ScheduleUnpublished):
        bus.subscribe(kind, here.rebuild_schedule, everywhere=False)
    for kind in (ev.KeysRotated, ev.KeyRetired):
        bus.subscribe(kind, here.resign, everywhere=False)
        bus.subscribe(kind, everywhere.reload_keys, everywhere=True)
    bus.subscribe(ev.ManifestsChanged, everywhere.remember_versions, everywhere=True)
    # Whichever process leads sends them (ADR 0016): wake its sender now.
    bus.subscribe(ev.WebhooksQueued, everywhere.wake_webhooks, everywhere=True)
    pushes: list[tuple[type[ev.Event], Handler]] = [
        (ev.ManifestsChanged, everywhere.push_manifests),
        (ev.AlertIssued, everywhere.push_alert),
        (ev.AlertCancelled, everywhere.push_cancel),
        (ev.CommandSent, everywhere.push_command),
    ]
    for kind, handler in pushes:
        bus.subscribe(kind, handler, everywhere=pushes_everywhere)
    bus.on_revalidate(everywhere.revalidate)


class _Here:
    """Handlers that run once, on the committing process: they write the store."""

    def __init__(self, container: Context) -> None:
        self.container = container

    async def queue_qc(self, event: ev.Event) -> None:
        """A new asset that owes QC: ask a worker for it. Should the queue
        be away, the workers ask again for QC still pending
        (``ingest._keep_asking``)."""
        assert isinstance(event, ev.AssetAdded)
        if event.needs_qc:
            await self.container.jobs.enqueue_qc(event.asset_id)

    async def take_off_air(self, event: ev.Event) -> None:
        """A revoked asset: rebuild every audience that could play it."""
        assert isinstance(event, ev.AssetRevoked)
        await manifests.after_revoke(self.container, event.asset_id)

    async def purge_edges(self, event: ev.Event) -> None:
        """A revoked asset's files leave the caching edges (the origin
        already refuses them: ``uow.assets.withdrawn``)."""
        assert isinstance(event, ev.AssetRevoked)
        async with self.container.uow() as uow:
            asset = await uow.assets.get(event.asset_id)
            renditions = await uow.assets.renditions(event.asset_id)
        blobs = [(r["sha256"], int(r["size"])) for r in renditions]
        if asset is not None and asset.sha256 and asset.size is not None:
            blobs.append((asset.sha256, asset.size))
        if blobs:
            await self.container.edges.purge(blobs)

    async def rebuild_schedule(self, event: ev.Event) -> None:
        """A schedule on or off air: rebuild the audiences it reaches."""
        assert isinstance(event, ev.SchedulePublished | ev.ScheduleUnpublished)
        async with self.container.uow() as uow:
            schedule = await uow.programming.schedule(event.schedule_id)
            if schedule is None:
                return
            reached = await manifests.audiences_of(uow, [schedule])
        await manifests.rebuild(self.container, audiences=reached)

    async def resign(self, event: ev.Event) -> None:
        """The signing key changed: every stored manifest is signed anew."""
        await manifests.rebuild(self.container)


class _Everywhere:
    """Handlers that run on every process: its own caches and sockets."""

    def __init__(self, container: Context) -> None:
        self.container = container

    async def forget_terminal(self, event: ev.Event) -> None:
        """An edit (its audience may have changed) or a revoked token: the
        next request reads the store, and the live connection ends."""
        assert isinstance(event, ev.TerminalEdited | ev.TerminalRetired | ev.TerminalEnrolled)
        self.container.manifest_cache.forget_terminal(event.terminal_id)
        self.container.monitor.callers.forget(event.terminal_id)
        revoked = not isinstance(event, ev.TerminalEdited)
        await self.container.fleet.drop(event.terminal_id, revoked=revoked)

    async def reload_keys(self, event: ev.Event) -> None:
        """The key set changed: the public keys this process checks with
        (``cached_public``) include the new one; published versions are
        signed anew, so their kept envelopes are read again."""
        await self.container.keys.load_publics()
        self.container.manifest_cache.forget_documents()

    async def remember_versions(self, event: ev.Event) -> None:
        """The manifest fast path answers the new versions (no stale 304)."""
        assert isinstance(event, ev.ManifestsChanged)
        for key, version in event.versions.items():
            self.container.manifest_cache.remember_version(key, version)

    async def wake_webhooks(self, event: ev.Event) -> None:
        """Alarm webhooks were queued: the sender looks now, if it runs here."""
        self.container.monitor.webhooks.poke()

    async def push_manifests(self, event: ev.Event) -> None:
        """Connected screens of those audiences fetch the new version now,
        from its immutable URL through the edge (ADR 0024)."""
        assert isinstance(event, ev.ManifestsChanged)
        await self.container.fleet.manifest_changed(
            event.versions, self.container.settings.edge_base
        )

    async def push_command(self, event: ev.Event) -> None:
        """A command to one screen, on whichever socket holds it (which marks
        it delivered in the store)."""
        assert isinstance(event, ev.CommandSent)
        await commands.push_command(self.container.uow, self.container.fleet, event)

    async def push_alert(self, event: ev.Event) -> None:
        """The signed notice, once per region topic (the hub or broker fans out)."""
        assert isinstance(event, ev.AlertIssued)
        stored = await self._alert(event.alert_id)
        if stored is None or stored.notice is None:
            return
        signed = Signed(stored.notice, stored.signature or "", stored.key_id or "")
        await self._publish(stored, "alert", signed)

    async def push_cancel(self, event: ev.Event) -> None:
        assert isinstance(event, ev.AlertCancelled)
        stored = await self._alert(event.alert_id)
        if stored is None or stored.cancel_notice is None:
            return
        signed = Signed(
            stored.cancel_notice, stored.cancel_signature or "", stored.cancel_key_id or ""
        )
        await self._publish(stored, "alert-cancel", signed)

    async def _alert(self, alert_id: str) -> StoredAlert | None:
        async with self.container.uow() as uow:
            return await uow.alerts.get(alert_id)

    async def _publish(self, stored: StoredAlert, kind: str, signed: Signed) -> None:
        message = signed.push(kind, stored.id, time.time())
        for topic in stored.topics:
            await self.container.fleet.publish_region(topic, message)
        log.info("alert published", kind=kind, alert_id=stored.id, topics=len(stored.topics))

    async def revalidate(self) -> None:
        """Forget every cached token, version, terminal fact and programme:
        the next request of each reads the store. The hub re-files its
        sockets against the store and closes those of screens retired
        meanwhile."""
        self.container.manifest_cache.clear()
        self.container.monitor.callers.clear()
        fleet = self.container.fleet
        if isinstance(fleet, Refiling):
            await fleet.refresh()


@runtime_checkable
class Refiling(Protocol):
    """A channel that files sockets by terminal facts (the built-in hub)."""

    async def refresh(self) -> int: ...
