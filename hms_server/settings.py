"""Server settings from the environment (HMS_*), refusing unsafe values outside development."""

import re
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
    # The issuer on printed bills and claims, and the hospital's money.
    hospital_address: str = Field(default="", description="Address lines separated by '\\n'")
    hospital_phone: str = ""
    hospital_tax_id: str = ""
    currency: str = Field(default="USD", description="ISO 4217 code of the hospital currency")
    currency_exponent: int = Field(default=2, ge=0, le=4, description="Digits after the point")
    fhir_system_base: str = Field(
        default="urn:hms", description="Namespace of the hospital's identifiers in FHIR exports"
    )
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
    # Online payments through an acquirer's HTTP API; off unless a URL and a secret are given.
    payments_url: str | None = Field(default=None, description="Checkout endpoint of the acquirer")
    payments_token: SecretStr | None = None
    payments_webhook_secret: SecretStr | None = Field(
        default=None, description="Shared secret that signs the acquirer's webhooks"
    )

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
    def _currency_code(self) -> "Settings":
        if not re.fullmatch(r"[A-Z]{3}", self.currency):
            raise ValueError(
                f"HMS_CURRENCY {self.currency!r} must be a three-letter code such as USD or KES"
            )
        return self

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> "Settings":
        if self.environment == "production" and self.database_url is None:
            raise ValueError(
                "HMS_DATABASE_URL must point at a managed PostgreSQL in production; "
                "the embedded database is for development and single-machine installs."
            )
        if self.environment == "production" and (self.payments_url or "").startswith("http:"):
            raise ValueError("HMS_PAYMENTS_URL must use https:// in production.")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
