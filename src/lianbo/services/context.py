"""What a use case may reach: the ports, as ``bootstrap.py`` wires them.

Services take a ``Context`` and never import ``bootstrap`` (an
import-linter contract keeps it so): the composition root stays the one
place that picks adapters, and a test can hand a service any object with
these attributes — the real container or a fake built from the ports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

# The unit of work is part of what a use case reaches; pages and routes name
# its type from here, so only the composition root and services see adapters.
from lianbo.adapters.db.uow import UnitOfWork

__all__ = ["Context", "UnitOfWork"]

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from lianbo.adapters.cap.dsig import CapSigner
    from lianbo.adapters.key_store import SharedKeys
    from lianbo.config import Settings
    from lianbo.domain.ports import (
        AnchorLog,
        AnchorSink,
        BlobStore,
        Clock,
        EdgeCaches,
        FleetChannel,
        JobQueue,
        Leadership,
    )
    from lianbo.services.alert_outline import JurisdictionOutline
    from lianbo.services.cluster_health import ClusterHealth
    from lianbo.services.manifest_cache import ManifestCache
    from lianbo.services.messagebus import MessageBus
    from lianbo.services.monitoring import Monitor


class Context(Protocol):
    """The ports of one process (``bootstrap.Container`` is the real one)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def engine(self) -> AsyncEngine: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def keys(self) -> SharedKeys: ...
    @property
    def blobs(self) -> BlobStore: ...
    @property
    def fleet(self) -> FleetChannel: ...
    @property
    def monitor(self) -> Monitor: ...
    @property
    def anchors(self) -> AnchorLog: ...
    @property
    def anchor_copies(self) -> list[AnchorSink]: ...
    @property
    def cluster_health(self) -> ClusterHealth: ...
    @property
    def leader(self) -> Leadership: ...
    @property
    def jobs(self) -> JobQueue: ...
    @property
    def bus(self) -> MessageBus: ...
    @property
    def manifest_cache(self) -> ManifestCache: ...
    @property
    def edges(self) -> EdgeCaches: ...
    @property
    def cap_signer(self) -> CapSigner | None: ...
    @property
    def outlines(self) -> JurisdictionOutline: ...

    def uow(self) -> UnitOfWork:
        """A new unit of work whose commit hands its events to the bus."""
        ...
