"""A bad setting is one line naming it, never a traceback, whichever command is run.

The check is made in one place (`bot.cli.Guarded`, the group every command runs under), so
a command added later is covered too: `test_every_command_is_listed_here` fails until it is
added to COMMANDS.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.main import get_command

from bot.cli import OFFLINE
from bot.cli import app as cli
from tests.support.cli import guidebot, use_database

# Every command, with the arguments it needs to get as far as the settings.
COMMANDS: list[tuple[str, ...]] = [
    ("run",),
    ("chat",),
    ("chat", "--clock"),
    ("cases",),
    ("report",),
    ("codes", "new", "--program", "demo"),
    ("db", "migrate"),
    ("db", "backup", "{tmp}/copy.db"),
    ("db", "restore", "{tmp}/a-backup.db"),
    ("db", "retention"),
    ("audit", "export"),
    ("audit", "views", "K-1001"),
    ("privacy", "inventory"),
    ("clinicians", "list"),
    ("clinicians", "add", "--telegram-id", "5", "--name", "Kari"),
    ("clinicians", "remove", "--telegram-id", "5"),
    ("escalation", "test", "hei"),
    ("dialogs", "check"),
    ("dialogs", "graph"),
]

BAD_SETTINGS = [
    ("GUIDEBOT_DATABASE_URL", "nonsense", "not a database URL"),
    ("GUIDEBOT_DATABASE_URL", "sqlite:////no/such/dir/x.db", "the folder for the SQLite file does not exist"),
    ("GUIDEBOT_DATABASE_URL", "postgresql+psycopg://u:secret@127.0.0.1:1/db", "cannot open the database"),
    ("GUIDEBOT_TIMEZONE", "Mars/Base", "unknown time zone 'Mars/Base'"),
    ("GUIDEBOT_DIALOGS_DIR", "/no/such/dialogs", "no such directory"),
]

# Commands that never open the database, and commands that never read the dialog files:
# a bad setting they do not use does not stop them.
NEEDS_NO_DIALOGS = {"db", "audit", "privacy"}


def _needs(command: tuple[str, ...], name: str) -> bool:
    if name == "GUIDEBOT_DATABASE_URL":
        return command[0] not in OFFLINE
    if name == "GUIDEBOT_DIALOGS_DIR":
        return command[0] not in NEEDS_NO_DIALOGS
    return True


@pytest.fixture
def tmp(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    use_database(monkeypatch, tmp_path, sqlite_url)
    (tmp_path / "a-backup.db").write_bytes(b"not really a backup")
    return tmp_path


@pytest.mark.parametrize(("name", "value", "expected"), BAD_SETTINGS, ids=[f"{n}={v}" for n, v, _ in BAD_SETTINGS])
@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_a_bad_setting_is_one_line_naming_it_for_every_command(
    tmp: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str, command: tuple[str, ...]
) -> None:
    if not _needs(command, name):
        pytest.skip(f"'{' '.join(command)}' does not use {name}")
    monkeypatch.setenv(name, value)
    result = guidebot(*(word.format(tmp=tmp) for word in command), stdin="")
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert name in lines[0] and expected in lines[0], lines[0]
    assert "Traceback" not in result.output and "secret" not in result.output
    assert not (tmp / "copy.db").exists()


def test_help_still_works_with_a_bad_setting(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUIDEBOT_DATABASE_URL", "nonsense")
    result = guidebot("cases", "--help")
    assert result.exit_code == 0 and "List every course" in result.output


def test_a_good_setting_is_not_refused(tmp: Path) -> None:
    assert guidebot("db", "migrate").exit_code == 0
    assert guidebot("cases").output.strip() == "No courses yet."


def test_every_command_is_listed_here() -> None:
    group = get_command(cli)

    def paths(command: object, prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
        subcommands = getattr(command, "commands", None)
        if not subcommands:
            return [prefix]
        return [path for name, sub in subcommands.items() for path in paths(sub, (*prefix, name))]

    listed = {tuple(word for word in c if not word.startswith("-") and "{" not in word)[:2] for c in COMMANDS}
    missing = [path for path in paths(group, ()) if path[:2] not in listed]
    assert missing == []
