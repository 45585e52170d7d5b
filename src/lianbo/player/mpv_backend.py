"""The mpv backend: full screen on a real display, through libmpv.

Needs python-mpv (the PyPI package ``mpv``; ``pip install 'lianbo[player]'``) and libmpv
(``apt install libmpv2``). Files play from the verified cache only. The next
cue is appended to mpv's playlist ahead of time (``prepare``) and stepped
to with ``playlist-next``, so consecutive items play gapless; anything else
(a seek into a simulcast, a new manifest) replaces the playlist.

An emergency alert draws with mpv's OSD overlay (``osd-overlay``, ASS
text): a ``takeover`` first replaces the picture with the level's colour,
a ``banner`` lies over the bottom of the programme. The attention tone (a
generated WAV) or the alert's own verified audio is added as an audio track.

libmpv calls block, so they run in a worker thread.
"""

from __future__ import annotations

import asyncio
import importlib
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from lianbo.player.playback import EXERCISE_MARK, AlertCue, BackendUnavailable, Cue, Screenshot
from lianbo.player.tone import attention_tone

BLACK = "av://lavfi:color=c=black:s=1920x1080"
FITS = {  # manifest fit → mpv options
    "contain": {"keepaspect": "yes", "panscan": "0.0"},
    "cover": {"keepaspect": "yes", "panscan": "1.0"},
    "stretch": {"keepaspect": "no", "panscan": "0.0"},
}


OVERLAY_ID = "47"  # our OSD overlay's id (any fixed number)
WIDTH, HEIGHT = 1920, 1080
ALERT_COLOURS = {  # level colour → (background, text) as RRGGBB
    "red": ("E60012", "FFFFFF"),
    "orange": ("F39800", "FFFFFF"),
    "yellow": ("FFF100", "000000"),
    "blue": ("0068B7", "FFFFFF"),
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
        self._sounds: Path | None = None  # where the attention tone is written

    async def start(self) -> None:
        self._sounds = Path(tempfile.mkdtemp(prefix="lianbo-mpv-"))
        await asyncio.to_thread((self._sounds / "attention.wav").write_bytes, attention_tone())
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

    async def show_alert(self, alert: AlertCue, at: datetime) -> None:
        if alert.mode == "takeover":
            self._prepared = None
            background = ALERT_COLOURS.get(alert.colour, ALERT_COLOURS["red"])[0]
            source = f"av://lavfi:color=c=0x{background}:s={WIDTH}x{HEIGHT}"
            await self._call("loadfile", source, "replace")
        await self._call("command", *overlay_args(alert_ass(alert)))
        if not alert.resumed:
            await self._sound(alert)

    async def alert_audio(self, alert: AlertCue, at: datetime) -> None:
        await self._sound(alert)

    async def end_alert(self, alert: AlertCue, at: datetime) -> None:
        await self._call("command", "osd-overlay", OVERLAY_ID, "none", "")

    async def close(self) -> None:
        if self._mpv is not None:
            await asyncio.to_thread(self._mpv.terminate)
            self._mpv = None
        if self._sounds is not None:
            shutil.rmtree(self._sounds, ignore_errors=True)
            self._sounds = None

    async def _sound(self, alert: AlertCue) -> None:
        """The alert's own audio (verified) when it has one, else the tone."""
        sound = alert.audio or (self._sounds / "attention.wav" if self._sounds else None)
        if sound is not None:
            await self._call("command", "audio-add", str(sound), "select")

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


def overlay_args(ass: str) -> tuple[str, ...]:
    """``osd-overlay`` arguments: id, format, data, res_x, res_y, z, hidden."""
    return ("osd-overlay", OVERLAY_ID, "ass-events", ass, str(WIDTH), str(HEIGHT), "0", "no")


def alert_ass(alert: AlertCue) -> str:
    """ASS events drawing ``alert``: full screen text, or a banner at the bottom."""
    colours = ALERT_COLOURS.get(alert.colour, ALERT_COLOURS["red"])
    background, ink = _ass_colour(colours[0]), _ass_colour(colours[1])
    headline = _ass_text(alert.headline)
    mark = _ass_text(EXERCISE_MARK) if alert.exercise else ""
    if alert.mode == "banner":
        top = HEIGHT - 200
        box = f"{{\\an7\\pos(0,{top})\\p1\\bord0\\shad0\\1c{background}}}"
        box += f"m 0 0 l {WIDTH} 0 l {WIDTH} 200 l 0 200{{\\p0}}"
        text = " · ".join(p for p in (mark, headline, _ass_text(alert.instruction)) if p)
        line = f"{{\\an4\\pos(40,{top + 100})\\fs56\\b1\\bord0\\1c{ink}}}{text}"
        return box + "\n" + line
    style = f"\\bord0\\shad0\\q0\\1c{ink}"
    lines = []
    if mark:
        lines.append(f"{{\\an8\\pos(960,60){style}\\fs80\\b1}}{mark}")
    lines.append(f"{{\\an8\\pos(960,220){style}\\fs96\\b1}}{headline}")
    lines.append(f"{{\\an8\\pos(960,420){style}\\fs52}}{_ass_text(alert.description)}")
    lines.append(f"{{\\an8\\pos(960,760){style}\\fs56\\b1}}{_ass_text(alert.instruction)}")
    return "\n".join(lines)


def _ass_text(text: str) -> str:
    """Text as ASS shows it literally: no override blocks, no escapes."""
    cleaned = text.replace("{", "｛").replace("}", "｝").replace("\\", "＼")
    return cleaned.replace("\r\n", "\\N").replace("\n", "\\N")


def _ass_colour(rgb: str) -> str:
    """``RRGGBB`` → ASS ``&HBBGGRR&``."""
    return f"&H{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}&"
