"""Settings from the environment and `.env`, all prefixed `GUIDEBOT_`."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DIALOGS_DIR = Path(__file__).resolve().parent.parent / "dialogs"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GUIDEBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite:///guidebot.db"
    dialogs_dir: Path = DEFAULT_DIALOGS_DIR
    timezone: str = "Europe/Oslo"
    locale: str = "nb"

    telegram_token: str = ""
    telegram_api_url: str = "https://api.telegram.org"
    webhook_url: str = ""
    webhook_secret: str = ""
    listen: str = "0.0.0.0:8443"
    bot_username: str = ""

    clinician_chat_id: int | None = None
    code_ttl_days: int = Field(default=30, ge=1)
    course_ttl_days: int = Field(default=365, ge=1)
    alert_resend_minutes: int = Field(default=15, ge=1)
    lockout_attempts: int = Field(default=5, ge=1)
    lockout_minutes: int = Field(default=60, ge=1)
    max_text_chars: int = Field(default=4000, ge=100)
    scheduler_interval_seconds: float = Field(default=5.0, gt=0)
    workers: int = Field(default=8, ge=1)
    # Messages a second in all. Telegram allows 30; the margin keeps network jitter from
    # bunching them into a 429. Raise it for a benchmark against a server of your own.
    send_rate: float = Field(default=29.0, gt=0)
    # When clinicians read alerts, in the course's time zone; the person is told when to expect an answer.
    service_hours: str = "Mon-Fri 08:00-15:30"

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in ("nb", "en"):
            raise ValueError("GUIDEBOT_LOCALE must be nb or en")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        ZoneInfo(value)
        return value

    @field_validator("clinician_chat_id", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("service_hours")
    @classmethod
    def _valid_service_hours(cls, value: str) -> str:
        from bot.engine.service_hours import parse

        parse(value)
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
