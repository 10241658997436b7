"""Settings from the environment and `.env`, all prefixed `GUIDEBOT_`."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.engine.service_hours import parse


def parse_clock(value: str) -> tuple[int, int]:
    """ "08.00" or "08:00" as (hour, minute)."""
    hour, sep, minute = value.strip().replace(":", ".").partition(".")
    if not (sep and hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise ValueError(f"not a time of day (HH.MM): {value!r}")
    return int(hour), int(minute)


def parse_listen(listen: str) -> tuple[str, int]:
    """`host:port` (`[::1]:9100` for IPv6); an empty host means every interface."""
    host, colon, port = listen.rpartition(":")
    if not colon or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"expected host:port such as 127.0.0.1:9100, not '{listen}'")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 (as GUIDEBOT_LISTEN: all interfaces when no host)


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
    # When each clinician gets the daily digest (feedback due, open alerts, missed check-ins),
    # in the service time zone: "08.00" or "08:00"; empty turns the digest off.
    digest_time: str = "08.00"
    # The clinicians' web dashboard (docs/clinicians.md): served on host:port when set, linked as the public URL.
    dashboard_listen: str = ""
    dashboard_url: str = ""

    # Operations (docs/operations.md): health and metrics, logs, retention, the pepper.
    metrics_listen: str = ""  # host:port for /healthz, /readyz and /metrics; empty: not served
    log_format: str = "text"
    outbox_retention_days: int = Field(default=30, ge=1)
    retention_days: int = Field(default=365, ge=1)  # after a course is closed
    secret_key: str = ""

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str, info: ValidationInfo) -> str:
        """A locale is a folder `<dialogs_dir>/locales/<code>/` (without any, the dialog check says so)."""
        folder = Path(info.data.get("dialogs_dir", DEFAULT_DIALOGS_DIR)) / "locales"
        if not folder.is_dir():
            return value
        known = sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name[0] not in "._")
        if value not in known:
            raise ValueError(f"GUIDEBOT_LOCALE must be one of the locale folders in {folder}: {', '.join(known)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}' (use a name such as Europe/Oslo)") from None
        return value

    @field_validator("clinician_chat_id", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("service_hours")
    @classmethod
    def _valid_service_hours(cls, value: str) -> str:
        parse(value)
        return value

    @field_validator("digest_time")
    @classmethod
    def _valid_digest_time(cls, value: str) -> str:
        if value.strip():
            parse_clock(value)
        return value.strip()

    @field_validator("dashboard_listen")
    @classmethod
    def _dashboard_host_and_port(cls, value: str) -> str:
        _host, colon, port = value.rpartition(":")
        if value and (not colon or not port.isdigit() or int(port) > 65535):
            raise ValueError("GUIDEBOT_DASHBOARD_LISTEN must be host:port, for example 127.0.0.1:8080")
        return value

    @field_validator("dashboard_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("GUIDEBOT_DASHBOARD_URL must start with https:// (or http:// on a closed network)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _dashboard_has_url(self) -> Settings:
        if self.dashboard_listen and not self.dashboard_url:
            raise ValueError("GUIDEBOT_DASHBOARD_LISTEN needs GUIDEBOT_DASHBOARD_URL, the address clinicians open")
        return self

    @field_validator("log_format")
    @classmethod
    def _known_log_format(cls, value: str) -> str:
        if value not in ("text", "json"):
            raise ValueError("GUIDEBOT_LOG_FORMAT must be text or json")
        return value

    @field_validator("metrics_listen")
    @classmethod
    def _metrics_host_and_port(cls, value: str) -> str:
        if value:
            parse_listen(value)
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
