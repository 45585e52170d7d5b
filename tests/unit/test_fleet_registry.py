"""The hub's registry: one link per terminal, found by audience and region subtree."""

from __future__ import annotations

from lianbo.adapters.fleet.registry import Peer, Registry


def peer(terminal_id: str, audience: str = "a1", region: str = "510107") -> Peer:
    return Peer(terminal_id, audience, region)


def test_links_are_found_by_audience() -> None:
    registry: Registry[str] = Registry()
    registry.add(peer("t1", "a1"), "L1")
    registry.add(peer("t2", "a1"), "L2")
    registry.add(peer("t3", "a2"), "L3")
    assert sorted(registry.audience("a1")) == ["L1", "L2"]
    assert registry.audience("a2") == ["L3"]
    assert registry.audience("unknown") == []


def test_links_are_found_by_region_prefix() -> None:
    registry: Registry[str] = Registry()
    registry.add(peer("t1", region="510107"), "wuhou")
    registry.add(peer("t2", region="510104"), "jinjiang")
    registry.add(peer("t3", region="5107"), "mianyang")
    registry.add(peer("t4", region="11"), "beijing")
    assert sorted(registry.within("51")) == ["jinjiang", "mianyang", "wuhou"]
    assert sorted(registry.within("5101")) == ["jinjiang", "wuhou"]
    assert registry.within("510107") == ["wuhou"]
    assert registry.within("52") == []


def test_a_newer_link_replaces_the_older_one() -> None:
    registry: Registry[str] = Registry()
    assert registry.add(peer("t1"), "old") is None
    assert registry.add(peer("t1"), "new") == "old"
    assert len(registry) == 1 and registry.audience("a1") == ["new"]
    # the old socket closing later must not remove the new one
    assert not registry.remove("t1", "old")
    assert registry.links(["t1"]) == ["new"]
    assert registry.remove("t1", "new")
    assert len(registry) == 0 and registry.audience("a1") == [] and registry.within("51") == []


def test_a_terminal_that_moved_is_filed_under_its_new_facts() -> None:
    registry: Registry[str] = Registry()
    registry.add(peer("t1", "a1", "510107"), "L1")
    registry.add(peer("t1", "a2", "5107"), "L2")
    assert registry.audience("a1") == [] and registry.audience("a2") == ["L2"]
    assert registry.within("5101") == [] and registry.within("5107") == ["L2"]
    assert registry.peer("t1") == peer("t1", "a2", "5107")


def test_links_by_id_skip_the_unknown() -> None:
    registry: Registry[str] = Registry()
    registry.add(peer("t1"), "L1")
    assert registry.links(["t1", "nope"]) == ["L1"]
    assert registry.ids() == {"t1"} and "t1" in registry
