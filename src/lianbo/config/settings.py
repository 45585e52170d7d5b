"""``Settings``: everything configurable about one deployment (see the package)."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from lianbo.config.cap import CapSettings
from lianbo.config.fleet import FleetSettings
from lianbo.config.media_store import MediaStoreSettings
from lianbo.domain.media import (
    DEFAULT_TIER_PROFILES,
    EBU_R128,
    GY_T_282,
    Dynamic,
    LoudnessProfile,
    TierProfile,
)

# A small default list so screening works out of the box; deployments load
# their regulator's list with LIANBO_SENSITIVE_WORDS_FILE (one word a line).
DEFAULT_SENSITIVE_WORDS = ("赌博", "博彩", "色情", "暴恐", "邪教", "毒品")


class TierProfileSettings(BaseModel):
    """A tier's conformance profile as written in settings."""

    sizes: list[tuple[int, int]]
    min_frame_rate: float
    min_bit_depth: int
    primaries: list[str]
    dynamics: list[Dynamic]

    @classmethod
    def of(cls, profile: TierProfile) -> TierProfileSettings:
        return cls(
            sizes=list(profile.sizes),
            min_frame_rate=profile.min_frame_rate,
            min_bit_depth=profile.min_bit_depth,
            primaries=list(profile.primaries),
            dynamics=list(profile.dynamics),
        )

    def profile(self, name: str) -> TierProfile:
        return TierProfile(
            name=name,
            sizes=tuple(self.sizes),
            min_frame_rate=self.min_frame_rate,
            min_bit_depth=self.min_bit_depth,
            primaries=tuple(self.primaries),
            dynamics=tuple(self.dynamics),
        )


class Settings(FleetSettings, MediaStoreSettings, CapSettings):
    """Everything configurable about one lianbo deployment."""

    model_config = SettingsConfigDict(env_prefix="LIANBO_", extra="ignore")

    config: Path | None = None
    data_dir: Path = Path("lianbo-data")
    # Media files (content-addressed); default <data_dir>/media. Point every
    # process at one shared mount when there are several (ADR 0014).
    media_dir: Path = Path("lianbo-data") / "media"
    database_url: str | None = None
    # The private signing key(s), PEM, for deployments of several processes:
    # a file, or the secret itself; neither = files in <data_dir>/keys (ADR 0014).
    signing_key_file: Path | None = None
    signing_key: SecretStr | None = None
    public_url: str = "http://127.0.0.1:8000"
    # Base of media URLs in manifests, and of the manifest URLs pushed to
    # screens (ADR 0024), when screens fetch through a caching edge
    # (deploy/nginx/); default public_url. Each edge's purge
    # base, so a revoked asset leaves the edges at once: '["http://edge1:8080"]'.
    media_url: str | None = None
    edge_purge_urls: list[str] = Field(default_factory=list)
    token_ttl_minutes: int = Field(default=12 * 60, ge=1)
    session_ttl_minutes: int = Field(default=12 * 60, ge=1)
    login_failures_per_minute: int = Field(default=10, ge=1)
    heartbeat_seconds: int = Field(default=30, ge=1)
    offline_after_missed: int = Field(default=2, ge=1)
    # PostgreSQL: how often a process tries to become leader, and the leader
    # checks its lock's connection (ADR 0011); a dead leader is replaced
    # within about this long.
    leader_retry_seconds: float = Field(default=5.0, gt=0, le=60)
    # How long this process trusts a cached terminal token (docs/monitoring.md):
    # retire, re-enrol and edits are pushed into the cache at once.
    terminal_cache_minutes: int = Field(default=6 * 60, ge=1)
    # Monitoring (docs/monitoring.md); webhooks as JSON: '["https://..."]'
    alarm_webhooks: list[str] = Field(default_factory=list)
    # Alarm webhooks go out from a table in the store, sent by the leader
    # (ADR 0016): attempts per delivery, backoff base and cap (doubling, ±20 %
    # jitter), request timeout, the leader's poll (a new alarm wakes it at
    # once), and how long sent and dead deliveries are kept.
    webhook_attempts: int = Field(default=8, ge=1, le=100)
    webhook_backoff_seconds: float = Field(default=1.0, gt=0)
    webhook_backoff_max_seconds: float = Field(default=300.0, gt=0)
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    webhook_poll_seconds: float = Field(default=5.0, gt=0, le=3600)
    webhook_retention_days: int = Field(default=7, ge=1)
    playlog_retention_days: int = Field(default=180, ge=1)
    clock_drift_alarm_ms: int = Field(default=2000, ge=1)
    max_upload_bytes: int = Field(default=20 * 1024**3, ge=1)
    # The largest request body of the JSON API and the console's forms; bodies
    # over an endpoint's limit are refused (413) while they are read (README).
    max_json_bytes: int = Field(default=1024**2, ge=4096)
    upload_expiry_hours: int = Field(default=24, ge=1)
    loudness_profile: Literal["gy-t-282", "ebu-r128"] = "gy-t-282"
    sensitive_words: list[str] = Field(default_factory=lambda: list(DEFAULT_SENSITIVE_WORDS))
    sensitive_words_file: Path | None = None
    tier_profiles: dict[str, TierProfileSettings] = Field(
        default_factory=lambda: {
            tier: TierProfileSettings.of(profile) for tier, profile in DEFAULT_TIER_PROFILES.items()
        }
    )
    renditions: bool = True
    # Per tier, the playlist a screen plays when nothing is scheduled.
    filler_playlists: dict[str, str] = Field(default_factory=dict)
    # Emergency alerts (docs/alerts.md): severities of Actual alerts that need a
    # second issuer's confirmation (never Extreme by default: speed matters), the
    # severities shown as a banner per tier (takeover otherwise), the CAP sender
    # of alerts written here, and the expiry given to a CAP alert without one.
    alert_confirm_severities: list[str] = Field(
        default_factory=lambda: ["Severe", "Moderate", "Minor", "Unknown"]
    )
    alert_banner_severities: dict[str, list[str]] = Field(
        default_factory=lambda: {"home": ["Moderate", "Minor", "Unknown"]}
    )
    alert_sender: str = "lianbo"
    alert_default_hours: int = Field(default=24, ge=1)
    # Idempotency keys (ADR 0015): how long a key answers a retry with the first
    # outcome, and how long a retry waits for a request with its key still running.
    idempotency_key_hours: int = Field(default=24, ge=1)
    idempotency_wait_seconds: float = Field(default=10.0, gt=0, le=60)
    # Audit anchoring (docs/audit.md): the chain's head is signed into
    # <data_dir>/audit-anchors.jsonl after this many new entries or minutes,
    # whichever comes first; targets add copies: "syslog" (local),
    # "syslog://host:514" (UDP), or an http(s) webhook URL.
    audit_anchor_every: int = Field(default=100, ge=1)
    audit_anchor_minutes: int = Field(default=5, ge=1)
    audit_anchor_targets: list[str] = Field(default_factory=list)
    # This process's name in /metrics (the ``process`` label on every series)
    # and in logs; unique per process of a deployment (docs/monitoring.md).
    process_name: str = Field(
        default_factory=lambda: _default_process_name(),
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]*$",
    )
    # What this process does (ADR 0012): "all" serves HTTP and runs the jobs
    # (the embedded default); "api" serves HTTP and never runs a job;
    # "worker" runs jobs and serves no HTTP. Other than "all" needs PostgreSQL.
    role: Literal["all", "api", "worker"] = "all"
    # The job queue on PostgreSQL (procrastinate): a worker silent this long
    # has lost its jobs to another worker; a failed job is retried this many
    # times, waiting backoff^1, backoff^2, ... seconds.
    job_lease_seconds: int = Field(default=30, ge=3)
    job_retries: int = Field(default=5, ge=0)
    job_backoff_seconds: int = Field(default=4, ge=1)
    # Addresses (or networks) of the proxies in front (HAProxy: deploy/haproxy/)
    # whose X-Forwarded-For / -Proto this server believes; from anyone else
    # those headers are ignored. JSON: '["127.0.0.1"]'. Empty: none trusted.
    trusted_proxies: list[str] = Field(default_factory=list)
    log_level: str = "info"
    log_json: bool = False
    secure_cookies: bool = False

    @model_validator(mode="before")
    @classmethod
    def _media_in_data_dir(cls, data: Any) -> Any:
        """No media dir given: the data dir's ``media`` folder, as always."""
        if isinstance(data, dict) and data.get("media_dir") in (None, ""):
            data = {**data, "media_dir": Path(data.get("data_dir") or "lianbo-data") / "media"}
        return data

    @model_validator(mode="after")
    def _one_signing_key_setting(self) -> Settings:
        if self.signing_key_file is not None and self.signing_key is not None:
            raise ValueError("give LIANBO_SIGNING_KEY_FILE or LIANBO_SIGNING_KEY, not both")
        return self

    @property
    def media_cache(self) -> Path:
        """Where the S3 store keeps local copies (``media_cache_dir`` or the default)."""
        return self.media_cache_dir or self.data_dir / "media-cache"

    @property
    def edge_base(self) -> str:
        """Where screens fetch what never changes (media, manifest versions):
        the caching edge when there is one, else this server; no trailing '/'."""
        return (self.media_url or self.public_url).rstrip("/")

    @property
    def signing_key_configured(self) -> bool:
        """Private keys come from a setting, not from files in the data dir."""
        return self.signing_key_file is not None or self.signing_key is not None

    def signing_keys_text(self) -> str | None:
        """The configured private key PEM text; None: keys in the data dir."""
        if self.signing_key_file is not None:
            return self.signing_key_file.read_text(encoding="utf-8")
        if self.signing_key is not None:
            return self.signing_key.get_secret_value()
        return None

    @field_validator("audit_anchor_targets")
    @classmethod
    def _anchor_targets(cls, targets: list[str]) -> list[str]:
        for target in targets:
            if not _anchor_target_ok(target):
                raise ValueError(
                    f"audit anchor target {target!r} is not syslog, syslog://HOST:PORT "
                    "or an http(s) URL"
                )
        return targets

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted proxy {proxy!r} is not an IP address or network"
                ) from None
        return proxies

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_path = _toml_path(init_settings, env_settings)
        if toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    def words(self) -> list[str]:
        """The sensitive-word list: the file when configured, else the setting."""
        if self.sensitive_words_file is not None:
            lines = self.sensitive_words_file.read_text(encoding="utf-8").splitlines()
            return [w.strip() for w in lines if w.strip() and not w.startswith("#")]
        return list(self.sensitive_words)

    def profiles(self) -> dict[str, TierProfile]:
        return {tier: p.profile(tier) for tier, p in self.tier_profiles.items()}

    def loudness(self) -> LoudnessProfile:
        return EBU_R128 if self.loudness_profile == "ebu-r128" else GY_T_282

    @property
    def offline_hold_off_seconds(self) -> int:
        """A screen is offline after this many seconds without a heartbeat."""
        return self.heartbeat_seconds * self.offline_after_missed

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "lianbo.db"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def audit_anchor_path(self) -> Path:
        """The audit anchor log (a fixed name: backups copy it)."""
        return self.data_dir / "audit-anchors.jsonl"

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.sqlite_path.resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")


def _default_process_name() -> str:
    """``<hostname>-<pid>``: unique per process start, readable on a dashboard."""
    host = "".join(
        c if c.isascii() and (c.isalnum() or c in "_.-") else "-" for c in socket.gethostname()
    ).strip("_.-")[:48]
    return f"{host or 'lianbo'}-{os.getpid()}"


def _toml_path(*sources: PydanticBaseSettingsSource) -> Path | None:
    for source in sources:
        value = source().get("config")
        if value:
            return Path(str(value))
    return None


def _anchor_target_ok(target: str) -> bool:
    if target == "syslog" or target.startswith(("http://", "https://")):
        return True
    host, _, port = target.removeprefix("syslog://").rpartition(":")
    if not (target.startswith("syslog://") and host and port.isascii() and port.isdigit()):
        return False
    return 0 < int(port) < 65536
