"""``free_port``: a bindable port below the kernel's ephemeral range."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from bench.harness import ports


def test_a_port_below_the_ephemeral_range_that_can_be_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    range_file = tmp_path / "ip_local_port_range"
    range_file.write_text("32768\t60999\n")
    monkeypatch.setattr(ports, "RANGE_FILE", range_file)
    picked = {ports.free_port() for _ in range(20)}
    assert all(ports.LOWEST <= port < 32768 for port in picked)
    assert len(picked) > 1  # random, not the same first pick every time
    for port in picked:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_a_port_the_kernel_picks_when_there_is_no_room_below(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    range_file = tmp_path / "ip_local_port_range"
    range_file.write_text("1024\t65535\n")
    monkeypatch.setattr(ports, "RANGE_FILE", range_file)
    port = ports.free_port()
    assert 1024 <= port <= 65535
    monkeypatch.setattr(ports, "RANGE_FILE", tmp_path / "missing")
    assert ports.free_port() > 0


class _Repeating:
    """A random source that picks the same number first twice."""

    def __init__(self, picks: list[int]) -> None:
        self.picks = picks

    def randint(self, low: int, high: int) -> int:
        return self.picks.pop(0)


def test_a_port_is_never_handed_out_twice_before_it_is_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    range_file = tmp_path / "ip_local_port_range"
    range_file.write_text("32768\t60999\n")
    monkeypatch.setattr(ports, "RANGE_FILE", range_file)
    first, second = ports.free_port(), ports.free_port()  # two real picks, for free numbers
    monkeypatch.setattr(ports, "_PICK", _Repeating([first, first, second]))
    monkeypatch.setattr(ports, "_GIVEN", {first})
    assert ports.free_port() == second  # the repeat of ``first`` is skipped
