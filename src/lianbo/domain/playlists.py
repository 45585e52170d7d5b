"""Playlists: ordered items of approved assets, with a computed length."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lianbo.domain.assets import Asset
from lianbo.domain.errors import Conflict, InvalidInput
from lianbo.domain.media import AssetKind
from lianbo.domain.review import ReviewState

ITEMS_MAX = 500
STILL_DEFAULT_MS = 10_000
DURATION_MAX_MS = 24 * 3600 * 1000


class Fit(StrEnum):
    CONTAIN = "contain"
    COVER = "cover"
    STRETCH = "stretch"


@dataclass(frozen=True, slots=True)
class PlaylistItem:
    asset_id: str
    duration_ms: int
    fit: Fit = Fit.CONTAIN


@dataclass(frozen=True, slots=True)
class Playlist:
    id: str
    name: str
    items: tuple[PlaylistItem, ...]
    region: str
    owner: str

    @property
    def length_ms(self) -> int:
        return sum(item.duration_ms for item in self.items)


def item_duration(asset: Asset, requested_ms: int | None, index: int) -> int:
    """Videos and audio play their own length unless cut shorter; stills,
    tickers and streams need a duration (stills default to 10 s)."""
    field = f"items.{index}.duration_ms"
    if requested_ms is not None and not 1000 <= requested_ms <= DURATION_MAX_MS:
        raise InvalidInput("duration_ms must be between 1000 and 86400000", field=field)
    own = asset.probe.duration_s if asset.probe and asset.probe.duration_s else None
    if asset.kind in (AssetKind.VIDEO, AssetKind.AUDIO) and own:
        natural = round(own * 1000)
        return min(requested_ms, natural) if requested_ms else natural
    if requested_ms is None and asset.kind is AssetKind.STREAM:
        raise InvalidInput("a live stream item needs duration_ms", field=field)
    return requested_ms or STILL_DEFAULT_MS


def require_playable(asset: Asset, index: int) -> None:
    """Only approved assets go on air (409 names the one that is not)."""
    if asset.review_state is not ReviewState.APPROVED:
        raise Conflict(
            f"asset {asset.name!r} ({asset.id}) is {asset.review_state.value}, not approved",
            field=f"items.{index}.asset_id",
        )


def check_items(count: int) -> None:
    if count == 0:
        raise InvalidInput("a playlist needs at least one item", field="items")
    if count > ITEMS_MAX:
        raise InvalidInput(f"at most {ITEMS_MAX} items", field="items")
