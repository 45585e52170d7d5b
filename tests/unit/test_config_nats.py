"""Settings of the NATS fleet (LIANBO_FLEET=nats): the callout's issuer is required."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from lianbo.adapters.fleet.nats_fleet import NatsFleet
from lianbo.adapters.fleet.nats_jwt import Signer
from lianbo.bootstrap import bootstrap
from lianbo.config import Settings


def test_the_nats_fleet_needs_the_issuer_seed() -> None:
    with pytest.raises(ValidationError, match="LIANBO_NATS_ISSUER_SEED_FILE"):
        Settings(fleet="nats")


def test_the_seed_comes_from_its_file_or_the_secret(tmp_path: Path) -> None:
    seed = tmp_path / "issuer.nk"
    seed.write_text("SAEXAMPLE\n", encoding="utf-8")
    assert Settings(fleet="nats", nats_issuer_seed_file=seed).nats_issuer_seed_text() == "SAEXAMPLE"
    assert Settings(fleet="nats", nats_issuer_seed="SAOTHER").nats_issuer_seed_text() == "SAOTHER"


def test_not_both(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not both"):
        Settings(nats_issuer_seed_file=tmp_path / "s", nats_issuer_seed="SA")


def test_the_cluster_urls_default_to_one_local_node() -> None:
    assert Settings().nats_urls == ["nats://127.0.0.1:4222"]
    assert Settings().nats_account == "SCREENS" and Settings().nats_session_hours == 24


def test_settings_choose_the_nats_channel_with_its_callout(tmp_path: Path) -> None:
    signer = Signer.new("account")
    seed = tmp_path / "issuer.nk"
    seed.write_bytes(signer.seed)
    settings = Settings(
        data_dir=tmp_path,
        fleet="nats",
        nats_urls=["nats://10.0.0.11:4222", "nats://10.0.0.12:4222"],
        nats_issuer_seed_file=seed,
    )
    fleet = bootstrap(settings).fleet
    assert isinstance(fleet, NatsFleet)
    assert fleet.callout is not None
