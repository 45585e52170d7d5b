"""The attention tone a screen sounds when an alert goes on (standard library only).

The two-tone attention signal of broadcast emergency alerting (853 Hz and
960 Hz together, as in the US EAS and the EBU's alarm practice): unmistakable
over street noise and unlike any programme audio. Written as a 16-bit mono
WAV that mpv plays like any other file.
"""

from __future__ import annotations

import io
import math
import struct
import wave

FREQUENCIES = (853.0, 960.0)
RATE = 16_000
SECONDS = 3.0
FADE = 0.02  # seconds of fade in and out: no click at the edges


def attention_tone(seconds: float = SECONDS, rate: int = RATE) -> bytes:
    """The WAV file's bytes."""
    count = int(seconds * rate)
    fade = max(1, int(FADE * rate))
    frames = bytearray()
    for n in range(count):
        t = n / rate
        sample = sum(math.sin(2 * math.pi * f * t) for f in FREQUENCIES) / len(FREQUENCIES)
        envelope = min(1.0, n / fade, (count - 1 - n) / fade)
        frames += struct.pack("<h", int(sample * envelope * 0.8 * 32767))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(bytes(frames))
    return out.getvalue()
