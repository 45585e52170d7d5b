"""Where handlers run: the hub pushes from every process, a broker from one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import SimpleNamespace
from typing import Any

from lianbo.config import Settings
from lianbo.domain import events as ev
from lianbo.protocol.messages import Message
from lianbo.services.handlers import register
from lianbo.services.manifest_cache import Holder, ManifestCache
from lianbo.services.messagebus import MessageBus


class FakeFleet:
    def __init__(self) -> None:
        self.told: list[Mapping[str, str]] = []
        self.bases: list[str | None] = []
        self.sent: list[tuple[list[str], Message]] = []
        self.dropped: list[tuple[str, bool]] = []

    async def manifest_changed(self, versions: Mapping[str, str], base: str | None = None) -> int:
        self.told.append(versions)
        self.bases.append(base)
        return len(versions)

    async def send(self, terminal_ids: Iterable[str], message: Message) -> int:
        self.sent.append((list(terminal_ids), message))
        return 1

    async def drop(self, terminal_id: str, *, revoked: bool) -> bool:
        self.dropped.append((terminal_id, revoked))
        return True


class FakeCallers:
    def __init__(self) -> None:
        self.forgotten: list[str] = []
        self.cleared = 0

    def forget(self, terminal_id: str) -> None:
        self.forgotten.append(terminal_id)

    def clear(self) -> None:
        self.cleared += 1


def _process(*, hub: bool) -> tuple[MessageBus, Any]:
    container: Any = SimpleNamespace(
        fleet=FakeFleet(),
        manifest_cache=ManifestCache(),
        settings=Settings(public_url="http://centre:8000", media_url="http://edge:8080/"),
        monitor=SimpleNamespace(callers=FakeCallers()),
    )
    bus = MessageBus("here")
    register(bus, container, pushes_everywhere=hub)
    return bus, container


async def test_with_the_hub_another_process_pushes_to_its_own_sockets() -> None:
    bus, container = _process(hub=True)
    await bus.received(ev.wrap("there", ev.ManifestsChanged({"aud": "v2"})))
    assert container.manifest_cache.version("aud") == "v2"
    assert container.fleet.told == [{"aud": "v2"}]
    assert container.fleet.bases == ["http://edge:8080"]  # the pushed URLs' base: the edge


async def test_with_a_broker_only_the_committing_process_publishes() -> None:
    bus, container = _process(hub=False)
    await bus.received(ev.wrap("there", ev.ManifestsChanged({"aud": "v2"})))
    await bus.received(ev.wrap("there", ev.CommandSent("t1", "c1", "reload")))
    assert container.manifest_cache.version("aud") == "v2"  # caches: every process
    assert container.fleet.told == [] and container.fleet.sent == []
    await bus.handle([ev.ManifestsChanged({"aud": "v3"})])
    assert container.fleet.told == [{"aud": "v3"}]


async def test_a_retirement_elsewhere_forgets_the_token_and_ends_the_socket() -> None:
    bus, container = _process(hub=True)
    container.manifest_cache.remember_terminal("hash", Holder("t1", "aud"))
    await bus.received(ev.wrap("there", ev.TerminalRetired("t1")))
    assert container.manifest_cache.terminal("hash") is None
    assert container.monitor.callers.forgotten == ["t1"]
    assert container.fleet.dropped == [("t1", True)]


async def test_an_edit_elsewhere_asks_the_screen_to_reconnect() -> None:
    bus, container = _process(hub=True)
    await bus.received(ev.wrap("there", ev.TerminalEdited("t1")))
    assert container.fleet.dropped == [("t1", False)]


async def test_revalidation_empties_the_caches() -> None:
    bus, container = _process(hub=True)
    container.manifest_cache.remember_terminal("hash", Holder("t1", "aud"))
    container.manifest_cache.remember_version("aud", "v1")
    await bus.revalidate()
    assert container.manifest_cache.terminal("hash") is None
    assert container.manifest_cache.version("aud") is None
    assert container.monitor.callers.cleared == 1
