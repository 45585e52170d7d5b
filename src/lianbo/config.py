"""Settings from ``LIANBO_*`` environment variables or a TOML file.

``LIANBO_CONFIG=/path/lianbo.toml`` names the file; environment variables
win over it. Everything has a working default for the embedded setup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    """Everything configurable about one lianbo deployment."""

    model_config = SettingsConfigDict(env_prefix="LIANBO_", extra="ignore")

    config: Path | None = None
    data_dir: Path = Path("lianbo-data")
    database_url: str | None = None
    fleet: Literal["hub", "mqtt"] = "hub"
    public_url: str = "http://127.0.0.1:8000"
    token_ttl_minutes: int = Field(default=12 * 60, ge=1)
    session_ttl_minutes: int = Field(default=12 * 60, ge=1)
    login_failures_per_minute: int = Field(default=10, ge=1)
    heartbeat_seconds: int = Field(default=30, ge=1)
    offline_after_missed: int = Field(default=2, ge=1)
    log_level: str = "info"
    log_json: bool = False
    secure_cookies: bool = False

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

    @property
    def offline_hold_off_seconds(self) -> int:
        """A screen is offline after this many seconds without a heartbeat."""
        return self.heartbeat_seconds * self.offline_after_missed

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "lianbo.db"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.sqlite_path.resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")


def _toml_path(*sources: PydanticBaseSettingsSource) -> Path | None:
    for source in sources:
        value = source().get("config")
        if value:
            return Path(str(value))
    return None
