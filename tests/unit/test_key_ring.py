"""The key files in the data dir (adapters/keys.py): signed key sets on rotate and retire."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from lianbo.adapters.keys import SET_FILE, KeyChangeRefused, KeyRing
from lianbo.protocol import keyset

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


def reply(ring: KeyRing) -> dict[str, object]:
    text, signatures = ring.key_set()
    return keyset.wire(text, signatures, {})


def test_a_first_key_comes_with_a_self_signed_set(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path)
    first = ring.ensure()
    found = keyset.self_signed(reply(ring))
    assert (found.serial, found.active, list(found.keys)) == (1, first, [first])


def test_a_rotation_is_signed_by_the_old_key_and_a_retirement_by_the_leaving_one(
    tmp_path: Path,
) -> None:
    ring = KeyRing(tmp_path)
    old = ring.ensure()
    pinned = keyset.self_signed(reply(ring))
    new = ring.rotate(NOW)
    rotated = keyset.accept(reply(ring), pinned.keys, pinned_serial=pinned.serial)
    assert rotated.serial == 2 and rotated.active == new and set(rotated.keys) == {old, new}
    assert rotated.issued_at == NOW.isoformat()
    ring.retire(old, NOW)
    # A screen that pinned only the old key still learns its successor.
    retired = keyset.accept(reply(ring), pinned.keys, pinned_serial=pinned.serial)
    assert retired.serial == 3 and list(retired.keys) == [new]
    assert not (tmp_path / f"{old}.pem").exists() and ring.retired() == [old]
    assert [k.key_id for k in ring.public_keys()] == [new]


def test_the_active_or_an_unknown_key_is_not_retired(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path)
    active = ring.ensure()
    for key_id in (active, "0" * 16):
        with pytest.raises(KeyChangeRefused):
            ring.retire(key_id)
    assert ring.current_set().serial == 1


def test_a_data_dir_from_before_key_sets_gets_one(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path)
    active = ring.ensure()
    (tmp_path / SET_FILE).unlink()  # as a data dir made by an older lianbo
    assert keyset.self_signed(reply(ring)).keys.keys() == {active}
