"""The terminal token cache: long-lived, bounded (LRU), forgotten on change."""

from __future__ import annotations

import time

import pytest

from lianbo.services import manifest_cache
from lianbo.services.manifest_cache import Holder, ManifestCache


def test_the_least_recently_used_token_is_evicted_when_full() -> None:
    cache = ManifestCache(terminal_max=2)
    cache.remember_terminal("h1", Holder("t1", "a"))
    cache.remember_terminal("h2", Holder("t2", "a"))
    assert cache.terminal("h1") == Holder("t1", "a")  # h1 used: h2 is now the oldest
    cache.remember_terminal("h3", Holder("t3", "a"))
    assert cache.terminal("h2") is None
    assert cache.terminal("h1") is not None and cache.terminal("h3") is not None
    cache.forget_terminal("t2")  # evicted already: nothing to do, no error


def test_forgetting_a_terminal_drops_every_token_it_had() -> None:
    cache = ManifestCache()
    cache.remember_terminal("old", Holder("t1", "a"))
    cache.remember_terminal("new", Holder("t1", "a"))
    cache.remember_terminal("other", Holder("t2", "a"))
    cache.forget_terminal("t1")
    assert cache.terminal("old") is None and cache.terminal("new") is None
    assert cache.terminal("other") == Holder("t2", "a")


def test_a_token_re_filed_under_another_terminal_is_forgotten_with_it() -> None:
    cache = ManifestCache()
    cache.remember_terminal("h", Holder("t1", "a"))
    cache.remember_terminal("h", Holder("t1", "b"))  # audience edited, same token
    assert cache.terminal("h") == Holder("t1", "b")
    cache.forget_terminal("t1")
    assert cache.terminal("h") is None


def test_entries_expire_after_the_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])  # the cache's clock
    cache = ManifestCache(terminal_ttl_s=3600.0)
    cache.remember_terminal("h", Holder("t1", "a"))
    now[0] += 3599.0
    assert cache.terminal("h") is not None
    now[0] += 2.0
    assert cache.terminal("h") is None
    cache.forget_terminal("t1")  # dropped on expiry: nothing left


def test_published_envelopes_are_kept_least_recently_used_first_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(manifest_cache, "DOCUMENTS_MAX", 2)
    cache = ManifestCache()
    cache.remember_document("a", "v1", "one")
    cache.remember_document("a", "v2", "two")
    assert cache.document("a", "v1") == "one"  # now the most recent
    cache.remember_document("b", "v1", "three")
    assert cache.document("a", "v2") is None
    assert cache.document("a", "v1") == "one" and cache.document("b", "v1") == "three"
    cache.forget_documents()  # the key set changed: signed anew
    assert cache.document("a", "v1") is None
