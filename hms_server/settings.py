"""Server settings from the environment (HMS_*), refusing unsafe values outside development."""

from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("hms-server", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HMS_", extra="ignore")

    environment: str = Field(default="development", description="development | production")
    database_url: SecretStr | None = None
    data_dir: Path = Field(default_factory=default_data_dir)
    hospital_name: str = "hms Demo Hospital"
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    max_failed_logins: int = Field(default=5, ge=1, le=100)
    lockout_minutes: float = Field(default=15.0, ge=0)
    max_request_bytes: int = Field(default=1_000_000, ge=1024)

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> "Settings":
        if self.environment == "production" and self.database_url is None:
            raise ValueError(
                "HMS_DATABASE_URL must point at a managed PostgreSQL in production; "
                "the embedded database is for development and single-machine installs."
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
