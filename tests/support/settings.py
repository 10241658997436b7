"""Settings for tests: made-up chat ids, the shipped dialogs, Oslo time."""

from __future__ import annotations

from bot.config import DEFAULT_DIALOGS_DIR, Settings


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "dialogs_dir": DEFAULT_DIALOGS_DIR,
        "timezone": "Europe/Oslo",
        "locale": "nb",
        "clinician_chat_id": -1001,
        "bot_username": "guidebot_test_bot",
        # The daily digest is off unless a test turns it on (tests/test_messages.py).
        "digest_time": "",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]
