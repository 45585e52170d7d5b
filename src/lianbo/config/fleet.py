"""How lianbo reaches its screens: the built-in hub, an MQTT broker or NATS."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings


class FleetSettings(BaseSettings):
    """The fleet transport and its broker accounts (a part of ``Settings``)."""

    fleet: Literal["hub", "mqtt", "nats"] = "hub"
    # The broker when fleet = "mqtt"; lianbo connects as this account (it needs
    # read/write on lianbo/#). Terminals log in as themselves: docs/fleet-scaling.md.
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = Field(default=1883, ge=1, le=65535)
    mqtt_username: str | None = None
    mqtt_password: str | None = None
    # The broker as screens reach it (told at enrolment), when that is not the
    # server's own address for it (NAT, a public name); default mqtt_host/port.
    mqtt_public_host: str | None = None
    mqtt_public_port: int | None = Field(default=None, ge=1, le=65535)
    # Server processes share the screens' ``up`` topics in this MQTT shared
    # subscription group, so each message is handled once ("" for a broker
    # without shared subscriptions, with one process): ADR 0014.
    mqtt_share_group: str = Field(default="lianbo", max_length=64, pattern=r"^[^/+#\s]*$")
    # The MQTT listeners screens are told at enrolment, "host:port" (JSON list),
    # tried in turn when one fails (a broker cluster: every node); empty: the one above.
    mqtt_public_brokers: list[str] = Field(default_factory=list)
    # fleet = "nats" (ADR 0018, docs/broker.md): the NATS cluster's client URLs
    # (JSON list) and lianbo's three users there, which skip the auth callout:
    # one in the screens' account (pushes, up, presence; also its MQTT login for
    # the retained presence snapshot on mqtt_host/port), the callout's own, and
    # one in the system account (ends sessions). The callout signs with an
    # account nkey seed ("SA..."): a file (0600), or the secret itself.
    nats_urls: list[str] = Field(default_factory=lambda: ["nats://127.0.0.1:4222"])
    nats_user: str = "lianbo"
    nats_password: SecretStr | None = None
    nats_callout_user: str = "callout"
    nats_callout_password: SecretStr | None = None
    nats_system_user: str = "sys"
    nats_system_password: SecretStr | None = None
    nats_issuer_seed_file: Path | None = None
    nats_issuer_seed: SecretStr | None = None
    # The account screens are placed in, and how long a screen's broker
    # session may last before it must log in again (a missed kick ends then).
    nats_account: str = Field(default="SCREENS", min_length=1, max_length=64)
    nats_session_hours: int = Field(default=24, ge=1)

    @model_validator(mode="after")
    def _nats_needs_an_issuer(self) -> FleetSettings:
        if self.nats_issuer_seed_file is not None and self.nats_issuer_seed is not None:
            raise ValueError(
                "give LIANBO_NATS_ISSUER_SEED_FILE or LIANBO_NATS_ISSUER_SEED, not both"
            )
        if (
            self.fleet == "nats"
            and self.nats_issuer_seed_file is None
            and self.nats_issuer_seed is None
        ):
            raise ValueError("LIANBO_FLEET=nats needs LIANBO_NATS_ISSUER_SEED_FILE")
        return self

    def nats_issuer_seed_text(self) -> str:
        """The auth callout's account nkey seed (file or secret)."""
        if self.nats_issuer_seed_file is not None:
            return self.nats_issuer_seed_file.read_text(encoding="utf-8").strip()
        return self.nats_issuer_seed.get_secret_value().strip() if self.nats_issuer_seed else ""

    @field_validator("mqtt_public_brokers")
    @classmethod
    def _brokers(cls, brokers: list[str]) -> list[str]:
        for broker in brokers:
            host, _, port = broker.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"MQTT broker {broker!r} is not HOST:PORT")
        return brokers
