"""Server settings from the environment (HMS_*), refusing unsafe values outside development."""

from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
    timezone: str = Field(default="UTC", description="The hospital's time zone (IANA name)")
    # Appointment messages to patients.
    reminder_hours: list[float] = Field(default=[24.0, 2.0], description="e.g. [24, 2]")
    notify_interval_seconds: float = Field(default=5.0, gt=0)
    notify_max_attempts: int = Field(default=6, ge=1, le=50)
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "hms <no-reply@localhost>"
    smtp_ca_file: Path | None = Field(default=None, description="Extra CA to trust (tests)")
    sms_url: str | None = Field(default=None, description="HTTP SMS gateway endpoint")
    sms_token: SecretStr | None = None
    sms_sender: str = "HMS"
    # The bedside monitor gateway (HL7 v2 over MLLP); off unless a port is given.
    mllp_host: str = "127.0.0.1"
    mllp_port: int | None = Field(default=None, ge=0, le=65535)

    @model_validator(mode="after")
    def _sane_reminders(self) -> "Settings":
        if any(not 0 < hours <= 24 * 30 for hours in self.reminder_hours):
            raise ValueError("HMS_REMINDER_HOURS must list hours between 0 and 720, e.g. [24, 2]")
        return self

    @model_validator(mode="after")
    def _known_timezone(self) -> "Settings":
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"HMS_TIMEZONE {self.timezone!r} is not a known time zone") from None
        return self

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
