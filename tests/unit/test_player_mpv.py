"""The mpv backend's calls into libmpv, against a fake ``mpv`` module
(mpv itself is not installed where the tests run)."""

from __future__ import annotations

import sys
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lianbo.player.mpv_backend import MpvBackend, load_mpv
from lianbo.player.playback import BackendUnavailable, Cue

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class FakeMPV:
    def __init__(self, **options: Any) -> None:
        self.options = options
        self.calls: list[tuple[Any, ...]] = []

    def loadfile(self, target: str, mode: str, **options: str) -> None:
        self.calls.append(("loadfile", target, mode, options))

    def command(self, *args: str) -> None:
        self.calls.append(("command", *args))
        if args[0] == "screenshot-to-file":
            Path(args[1]).write_bytes(b"\x89PNG fake")

    def terminate(self) -> None:
        self.calls.append(("terminate",))


@pytest.fixture
def fake_mpv(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("mpv")
    module.MPV = FakeMPV  # type: ignore[attr-defined]  # a stand-in module
    monkeypatch.setitem(sys.modules, "mpv", module)


def cue(asset: str, seek_ms: int = 0, fit: str = "contain", kind: str = "video") -> Cue:
    return Cue(
        asset_id=asset,
        kind=kind,
        fit=fit,
        seek_ms=seek_ms,
        until=AT + timedelta(seconds=10),
        schedule_id="s",
        sha256=asset * 64,
        path=Path(f"/cache/{asset * 64}"),
        text="今晚有雨" if kind == "ticker" else None,
    )


def calls(backend: MpvBackend) -> list[tuple[Any, ...]]:
    player = backend._mpv
    assert isinstance(player, FakeMPV)
    return player.calls


async def test_full_screen_and_fit_options(fake_mpv: None) -> None:
    backend = MpvBackend()
    await backend.start()
    assert backend._mpv.options["fullscreen"] is True
    await backend.show(cue("a", seek_ms=1500, fit="cover"), AT)
    assert calls(backend) == [
        (
            "loadfile",
            f"/cache/{'a' * 64}",
            "replace",
            {"keepaspect": "yes", "panscan": "1.0", "start": "1.500"},
        )
    ]


async def test_the_next_item_is_loaded_ahead_and_stepped_to(fake_mpv: None) -> None:
    backend = MpvBackend()
    await backend.start()
    await backend.show(cue("a"), AT)
    await backend.prepare(cue("b"))
    await backend.show(cue("b", seek_ms=3), AT)  # woke 3 ms into it
    assert calls(backend)[1:] == [
        ("loadfile", f"/cache/{'b' * 64}", "append", {"keepaspect": "yes", "panscan": "0.0"}),
        ("command", "playlist-next", "force"),
        ("command", "playlist-clear"),
    ]
    await backend.show(cue("c"), AT)  # not what was prepared: replace
    assert calls(backend)[-1][2] == "replace"


async def test_tickers_blanks_screenshots_and_close(fake_mpv: None) -> None:
    backend = MpvBackend()
    await backend.start()
    await backend.show(cue("t", kind="ticker"), AT)
    assert calls(backend)[-1] == ("command", "show-text", "今晚有雨", "10000")
    await backend.blank("no programme", AT)
    assert calls(backend)[-1][1].startswith("av://lavfi:color=c=black")
    shot = await backend.screenshot(AT)
    assert shot.png == b"\x89PNG fake" and not shot.stub
    await backend.close()
    with pytest.raises(BackendUnavailable):
        await backend.show(cue("a"), AT)


def test_without_python_mpv_the_message_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "mpv", None)  # import mpv → ImportError
    with pytest.raises(BackendUnavailable, match=r"pip install mpv"):
        load_mpv()
