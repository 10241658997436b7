"""Running `guidebot` in-process against a test database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app as cli


def use_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> None:
    """Point the command at `database_url`, away from any .env in the working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GUIDEBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("GUIDEBOT_BOT_USERNAME", "guidebot_test_bot")
    monkeypatch.delenv("GUIDEBOT_TELEGRAM_TOKEN", raising=False)


def guidebot(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin)
