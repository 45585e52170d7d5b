"""The mpv backend: full screen on a real display, through libmpv.

Needs python-mpv (the PyPI package ``mpv``; ``pip install 'lianbo[player]'``) and libmpv
(``apt install libmpv2``). Files play from the verified cache only. The next
cue is appended to mpv's playlist ahead of time (``prepare``) and stepped
to with ``playlist-next``, so consecutive items play gapless; anything else
(a seek into a simulcast, a new manifest) replaces the playlist.

libmpv calls block, so they run in a worker thread.
"""

from __future__ import annotations

import asyncio
import importlib
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from lianbo.player.playback import BackendUnavailable, Cue, Screenshot

BLACK = "av://lavfi:color=c=black:s=1920x1080"
FITS = {  # manifest fit → mpv options
    "contain": {"keepaspect": "yes", "panscan": "0.0"},
    "cover": {"keepaspect": "yes", "panscan": "1.0"},
    "stretch": {"keepaspect": "no", "panscan": "0.0"},
}


def load_mpv() -> Any:
    """The ``mpv`` module, or BackendUnavailable saying what to install."""
    try:
        return importlib.import_module("mpv")
    except (ImportError, OSError) as error:  # OSError: python-mpv without libmpv
        raise BackendUnavailable(
            "the mpv backend needs python-mpv and libmpv "
            "(pip install mpv, or lianbo[player]; apt install libmpv2): "
            f"{error}"
        ) from None


class MpvBackend:
    name = "mpv"

    def __init__(self, *, fullscreen: bool = True) -> None:
        self._module = load_mpv()
        self._fullscreen = fullscreen
        self._mpv: Any = None
        self._prepared: Cue | None = None

    async def start(self) -> None:
        self._mpv = await asyncio.to_thread(
            self._module.MPV,
            fullscreen=self._fullscreen,
            idle="yes",
            force_window="yes",
            keep_open="always",  # never step on by itself: the deadlines decide
            osc=False,
            input_default_bindings=False,
            input_vo_keyboard=False,
            cursor_autohide="always",
            image_display_duration="inf",
            gapless_audio="yes",
            prefetch_playlist="yes",
            hwdec="auto-safe",
        )

    async def show(self, cue: Cue, at: datetime) -> None:
        if self._prepared is not None and _same_item(self._prepared, cue) and cue.seek_ms < 500:
            self._prepared = None
            await self._call("command", "playlist-next", "force")
            await self._call("command", "playlist-clear")  # drop what just ended
            return
        self._prepared = None
        target, options = self._source(cue)
        if cue.seek_ms:
            options["start"] = f"{cue.seek_ms / 1000:.3f}"
        await self._call("loadfile", target, "replace", **options)
        if cue.kind == "ticker" and cue.text:
            remaining = max(0, int((cue.until - at).total_seconds() * 1000))
            await self._call("command", "show-text", cue.text, str(remaining))

    async def prepare(self, cue: Cue) -> None:
        if cue.kind == "ticker":
            return  # a ticker's text goes on when it shows
        target, options = self._source(cue)
        await self._call("loadfile", target, "append", **options)
        self._prepared = cue

    async def blank(self, reason: str, at: datetime) -> None:
        self._prepared = None
        await self._call("loadfile", BLACK, "replace")

    async def screenshot(self, at: datetime) -> Screenshot:
        with tempfile.TemporaryDirectory(prefix="lianbo-shot-") as folder:
            path = Path(folder) / "screen.png"
            await self._call("command", "screenshot-to-file", str(path), "window")
            data = await asyncio.to_thread(path.read_bytes)
        return Screenshot(data, at, stub=False)

    async def close(self) -> None:
        if self._mpv is not None:
            await asyncio.to_thread(self._mpv.terminate)
            self._mpv = None

    def _source(self, cue: Cue) -> tuple[str, dict[str, str]]:
        options = dict(FITS.get(cue.fit, FITS["contain"]))
        if cue.kind == "stream" and cue.url:
            return cue.url, options
        if cue.path is not None:
            return str(cue.path), options
        return BLACK, options  # a ticker: text over black

    async def _call(self, method: str, *args: Any, **options: Any) -> None:
        if self._mpv is None:
            raise BackendUnavailable("the mpv backend was not started")
        await asyncio.to_thread(getattr(self._mpv, method), *args, **options)


def _same_item(prepared: Cue, due: Cue) -> bool:
    """Whether the cue due now is the one loaded ahead (the deadline wakes us a
    few milliseconds into it, so seek and deadline differ slightly)."""
    return (prepared.sha256, prepared.asset_id, prepared.kind, prepared.url) == (
        due.sha256,
        due.asset_id,
        due.kind,
        due.url,
    )
