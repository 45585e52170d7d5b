"""Assets: media files (content-addressed), ticker text and live streams."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from lianbo.domain.errors import InvalidInput
from lianbo.domain.media import AssetKind, Probe
from lianbo.domain.review import ReviewState

NAME_MAX = 200
TICKER_MAX = 2000
URL_MAX = 2000
STREAM_SCHEMES = ("rtmp", "rtmps", "rtsp", "srt", "http", "https", "udp", "rtp")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class QcStatus:
    """Where QC of an asset stands (plain strings in the store and API)."""

    PENDING = "pending"
    RUNNING = "running"
    PASSED = "passed"
    WARNINGS = "warnings"
    FAILED = "failed"
    NOT_APPLICABLE = "n/a"


@dataclass(frozen=True, slots=True)
class Asset:
    id: str
    name: str
    kind: AssetKind
    region: str
    owner: str
    review_state: ReviewState
    review_round: int
    qc_status: str
    created_at: datetime
    updated_at: datetime
    sha256: str | None = None
    size: int | None = None
    text: str | None = None
    url: str | None = None
    probe: Probe | None = None
    qc_progress: float = 0.0
    fit_tiers: tuple[str, ...] = field(default_factory=tuple)

    def facts(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "sha256": self.sha256,
            "review_state": self.review_state.value,
        }


def clean_name(raw: str, *, field_name: str = "name") -> str:
    """A display name from a user or a file name: control characters dropped,
    never empty, and never a path (``../../x`` is refused, not guessed at).
    Files are stored by sha256 only; this is a label."""
    name = unicodedata.normalize("NFC", raw)
    if "/" in name or "\\" in name or name.strip() in (".", ".."):
        raise InvalidInput("name must be a file name, not a path", field=field_name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    name = name.lstrip(".").strip()
    if not name:
        raise InvalidInput(
            "name is empty after removing path and control characters", field=field_name
        )
    if len(name) > NAME_MAX:
        raise InvalidInput(f"name is longer than {NAME_MAX} characters", field=field_name)
    return name


def check_ticker(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInput("ticker text must not be empty", field="text")
    if len(cleaned) > TICKER_MAX:
        raise InvalidInput(f"ticker text is longer than {TICKER_MAX} characters", field="text")
    return cleaned


def check_stream_url(url: str) -> str:
    cleaned = url.strip()
    if len(cleaned) > URL_MAX:
        raise InvalidInput("stream URL is too long", field="url")
    parts = urlsplit(cleaned)
    if parts.scheme.lower() not in STREAM_SCHEMES or not parts.netloc:
        allowed = ", ".join(STREAM_SCHEMES)
        raise InvalidInput(f"stream URL must be {allowed} with a host", field="url")
    return cleaned


def is_sha256(value: str) -> bool:
    return bool(SHA256.match(value))
