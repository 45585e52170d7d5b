"""Manifest verification and the simulcast arithmetic (lianbo.protocol.manifest).

The helpers at the top (a signing key, a manifest body, an envelope built
exactly like the server builds it) are shared by the player's unit tests.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from lianbo.domain.canonical import canonical_json
from lianbo.domain.manifest import AssetFacts, MediaFile, PlaylistFacts, build, version_of
from lianbo.domain.schedules import PriorityClass, Schedule, ScheduleState, Targets
from lianbo.domain.targeting import Audience
from lianbo.domain.terminals import Tier
from lianbo.protocol.manifest import (
    Entry,
    ManifestRejected,
    Playlist,
    item_at,
    position_ms,
    verify,
)

NOW = datetime(2026, 11, 23, 10, 17, 30, tzinfo=UTC)
AUDIENCE = {"region": "510107", "tier": "outdoor", "groups": [], "tags": ["landmark"]}
SHA_A, SHA_B = hashlib.sha256(b"a").hexdigest(), hashlib.sha256(b"b").hexdigest()


class Signer:
    """A control-centre key made in the test."""

    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        raw = self.key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]
        self.public = base64.b64encode(raw).decode()

    @property
    def keys(self) -> dict[str, str]:
        return {self.key_id: self.public}

    def envelope(self, body: dict[str, Any], server_time: datetime = NOW) -> str:
        """The server's envelope: the canonical bytes embedded as signed."""
        data = canonical_json(body)
        signature = base64.b64encode(self.key.sign(data)).decode()
        return (
            f'{{"manifest":{data.decode()},"signature":"{signature}",'
            f'"key_id":"{self.key_id}","server_time":"{server_time.isoformat()}"}}'
        )


def manifest_body(
    *,
    start: datetime = NOW.replace(minute=0, second=0),
    hours: int = 48,
    origin: datetime | None = None,
    items: tuple[tuple[str, str, int], ...] = (("a", SHA_A, 2000), ("b", SHA_B, 3000)),
    timeline: list[dict[str, Any]] | None = None,
    sync: bool = True,
    audience: dict[str, Any] | None = None,
    version: str | None = None,
) -> dict[str, Any]:
    """A manifest: one playlist of files, one entry over the whole horizon."""
    end = start + timedelta(hours=hours)
    files = [
        {"asset_id": a, "sha256": s, "size": 1, "media_type": "image/png", "url": f"/m/{s}"}
        for a, s, _ in items
    ]
    body: dict[str, Any] = {
        "protocol": 1,
        "audience": audience or AUDIENCE,
        "valid_from": start.isoformat(),
        "valid_until": end.isoformat(),
        "timeline": timeline
        or [
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "schedule_id": "s1",
                "playlist_id": "p1",
                "priority": "public",
                "sync": sync,
                "origin": (origin or start - timedelta(days=1)).isoformat(),
                "reason": "唯一的节目",
            }
        ],
        "playlists": {
            "p1": {
                "items": [
                    {"asset_id": a, "kind": "image", "duration_ms": d, "fit": "contain"}
                    for a, _, d in items
                ],
                "length_ms": sum(d for _, _, d in items),
            }
        },
        "files": files,
        "alerts": [],
    }
    body["version"] = version or version_of(body)
    return body


@pytest.fixture
def signer() -> Signer:
    return Signer()


def test_a_good_manifest_verifies_and_parses(signer: Signer) -> None:
    manifest = verify(signer.envelope(manifest_body()), signer.keys, now=NOW, audience=AUDIENCE)
    assert manifest.version == manifest_body()["version"]
    assert manifest.key_id == signer.key_id
    assert manifest.server_time == NOW
    assert [f.sha256 for f in manifest.files] == [SHA_A, SHA_B]
    assert manifest.playlists["p1"].length_ms == 5000
    assert manifest.timeline[0].reason == "唯一的节目"
    assert manifest.entry_at(NOW) is manifest.timeline[0]


def test_a_manifest_built_by_the_server_side_domain_verifies(signer: Signer) -> None:
    """The contract between domain.manifest.build and the player."""
    audience = Audience("510107", Tier.OUTDOOR, (), ("landmark",))
    schedule = Schedule(
        id="s",
        name="新闻联播",
        playlist_id="p",
        targets=Targets(("5101",)),
        starts_at=NOW - timedelta(hours=2),
        ends_at=NOW + timedelta(days=3),
        priority=PriorityClass.PUBLIC,
        state=ScheduleState.PUBLISHED,
        published_at=NOW - timedelta(hours=3),
        sync=True,
    )
    body = build(
        audience,
        [schedule],
        {"p": PlaylistFacts("p", (("clip", 30_000, "contain"),))},
        {"clip": AssetFacts("clip", "video", "宣传片", MediaFile(SHA_A, 9, "video/mp4"))},
        now=NOW,
        media_base="https://cdn.example",
    )
    manifest = verify(signer.envelope(body), signer.keys, now=NOW, audience=audience.as_json())
    assert manifest.files[0].url == f"https://cdn.example/media/{SHA_A}"
    assert manifest.entry_at(NOW) is not None


def test_bytes_and_reordered_envelopes_verify_the_embedded_bytes(signer: Signer) -> None:
    text = signer.envelope(manifest_body())
    assert verify(text.encode("utf-8"), signer.keys, now=NOW).version
    # The same members in another order, with spaces: still the signed bytes.
    manifest_part = text[len('{"manifest":') : text.index(',"signature"')]
    rest = text[text.index('"signature"') : -1]
    reordered = f'{{ {rest} ,\n "manifest" : {manifest_part} }}'
    assert verify(reordered, signer.keys, now=NOW).version == manifest_body()["version"]


def test_one_tampered_byte_is_a_bad_signature(signer: Signer) -> None:
    text = signer.envelope(manifest_body())
    tampered = text.replace("唯一的节目", "唯一的節目", 1)
    with pytest.raises(ManifestRejected) as refused:
        verify(tampered, signer.keys, now=NOW)
    assert refused.value.reason == "bad signature"


def test_a_tampered_signature_is_a_bad_signature(signer: Signer) -> None:
    text = signer.envelope(manifest_body())
    start = text.index('"signature":"') + len('"signature":"')
    flipped = "B" if text[start] == "A" else "A"
    with pytest.raises(ManifestRejected, match="bad signature"):
        verify(text[:start] + flipped + text[start + 1 :], signer.keys, now=NOW)


def test_a_key_we_do_not_know_is_refused(signer: Signer) -> None:
    stranger = Signer()
    with pytest.raises(ManifestRejected) as refused:
        verify(stranger.envelope(manifest_body()), signer.keys, now=NOW)
    assert refused.value.reason == "unknown key"


def test_a_key_id_naming_our_key_but_signed_by_another_is_refused(signer: Signer) -> None:
    impostor = Signer()
    impostor.key_id = signer.key_id
    with pytest.raises(ManifestRejected, match="bad signature"):
        verify(impostor.envelope(manifest_body()), signer.keys, now=NOW)


@pytest.mark.parametrize(
    "envelope", ['{"manifest":{"a":1}}', '{"manifest":{"a":1},"signature":"","key_id":"k"}']
)
def test_an_unsigned_manifest_is_refused(envelope: str, signer: Signer) -> None:
    with pytest.raises(ManifestRejected) as refused:
        verify(envelope, signer.keys, now=NOW)
    assert refused.value.reason == "unsigned"


def test_an_expired_manifest_is_refused(signer: Signer) -> None:
    text = signer.envelope(manifest_body(start=NOW - timedelta(hours=49)))
    with pytest.raises(ManifestRejected) as refused:
        verify(text, signer.keys, now=NOW)
    assert refused.value.reason == "expired"


def test_a_manifest_from_the_future_is_refused_beyond_the_skew(signer: Signer) -> None:
    soon = signer.envelope(manifest_body(start=NOW + timedelta(minutes=2)))
    assert verify(soon, signer.keys, now=NOW).version  # within the clock skew
    later = signer.envelope(manifest_body(start=NOW + timedelta(hours=1)))
    with pytest.raises(ManifestRejected, match="not yet valid"):
        verify(later, signer.keys, now=NOW)


def test_another_audience_is_refused(signer: Signer) -> None:
    text = signer.envelope(manifest_body())
    elsewhere = {**AUDIENCE, "region": "510104"}
    with pytest.raises(ManifestRejected) as refused:
        verify(text, signer.keys, now=NOW, audience=elsewhere)
    assert refused.value.reason == "audience mismatch"
    same = {**AUDIENCE, "tags": ["landmark"], "groups": []}
    assert verify(text, signer.keys, now=NOW, audience=same).version


def test_a_signed_body_whose_version_is_not_its_hash_is_refused(signer: Signer) -> None:
    text = signer.envelope(manifest_body(version="0" * 64))
    with pytest.raises(ManifestRejected) as refused:
        verify(text, signer.keys, now=NOW)
    assert refused.value.reason == "version mismatch"


@pytest.mark.parametrize("garbage", ["", "null", "[1]", '{"manifest":', '{"manifest":{}} x'])
def test_garbage_is_malformed(garbage: str, signer: Signer) -> None:
    with pytest.raises(ManifestRejected) as refused:
        verify(garbage, signer.keys, now=NOW)
    assert refused.value.reason == "malformed"


def test_a_file_name_that_is_not_a_sha256_is_refused(signer: Signer) -> None:
    body = manifest_body()
    body["files"][0]["sha256"] = "../../etc/passwd"
    body["version"] = version_of(body)
    with pytest.raises(ManifestRejected, match="malformed"):
        verify(signer.envelope(body), signer.keys, now=NOW)


# -- simulcast arithmetic --------------------------------------------------

ORIGIN = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
PLAYLIST = Playlist((), 0)


def entry(origin: datetime = ORIGIN, sync: bool = True) -> Entry:
    return Entry(ORIGIN, ORIGIN + timedelta(days=2), "s", "p", "public", sync, origin, "")


def test_position_is_time_since_the_origin_modulo_the_length() -> None:
    assert position_ms(entry(), 5000, ORIGIN) == 0
    assert position_ms(entry(), 5000, ORIGIN + timedelta(milliseconds=7300)) == 2300
    assert position_ms(entry(), 5000, ORIGIN - timedelta(milliseconds=1000)) == 4000
    assert position_ms(entry(sync=False), 5000, ORIGIN + timedelta(seconds=12)) == 2000
    assert position_ms(entry(), 0, ORIGIN) == 0


@given(st.integers(min_value=-(10**12), max_value=10**12), st.integers(1, 10**8))
def test_position_stays_in_the_playlist_and_repeats(elapsed_ms: int, length: int) -> None:
    now = ORIGIN + timedelta(milliseconds=elapsed_ms)
    position = position_ms(entry(), length, now)
    assert 0 <= position < length
    assert position_ms(entry(), length, now + timedelta(milliseconds=length)) == position


def test_item_at_finds_the_item_and_the_offset_into_it() -> None:
    from lianbo.protocol.manifest import Item

    playlist = Playlist(
        (Item("a", "image", 2000, "contain"), Item("b", "video", 3000, "cover")), 5000
    )
    assert item_at(playlist, 0) == (0, 0)
    assert item_at(playlist, 1999) == (0, 1999)
    assert item_at(playlist, 2000) == (1, 0)
    assert item_at(playlist, 4999) == (1, 2999)
    with pytest.raises(ValueError):
        item_at(playlist, 5000)


def test_position_does_not_drift_over_months() -> None:
    """Integer milliseconds: no float error after a long-running anchor."""
    far = ORIGIN + timedelta(days=400, milliseconds=1234)
    assert position_ms(entry(), 1000, far) == 234


def test_an_unreadable_server_time_is_ignored_not_fatal(signer: Signer) -> None:
    """server_time sits outside the signature: informational only."""
    text = signer.envelope(manifest_body()).replace(NOW.isoformat(), "yesterday-ish")
    assert verify(text, signer.keys, now=NOW).server_time is None
