"""`guidebot chat` as an admin's preview: a clock to move, one-line errors, the demo kept apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.channels.console import parse_wait
from tests.support.cli import guidebot, use_database

INTAKE = ["1", "3", "2", *["1"] * 16, "Sove bedre", "1", "1", "1"]


@pytest.fixture
def db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    use_database(monkeypatch, tmp_path, sqlite_url)
    return sqlite_url


def test_wait_spans_are_read_and_nonsense_is_not() -> None:
    assert parse_wait("/wait 3d") is not None and parse_wait("/wait 3d").days == 3  # type: ignore[union-attr]
    assert parse_wait("/wait 2h") is not None and parse_wait("/wait 2h").seconds == 7200  # type: ignore[union-attr]
    assert parse_wait("/wait 30m") is not None and parse_wait("/wait 30m").seconds == 1800  # type: ignore[union-attr]
    assert parse_wait("/wait soon") is None and parse_wait("/wait 3 weeks") is None


def test_a_scripted_session_reaches_a_dropout_with_wait(db: str) -> None:
    script = [*INTAKE, "/wait 3d", "/wait 7d", "/wait 7d", "/wait 7d"]
    result = guidebot("chat", "--clock", stdin="\n".join(script) + "\n")
    assert result.exit_code == 0, result.output
    assert "the clock is now" in result.output
    assert "En vennlig påminnelse" in result.output  # a reminder fired on the way
    [case] = json.loads(guidebot("cases", "--json", "--include-demo").output)
    assert case["state"] in ("dropped_out", "dropout_eval")


def test_without_clock_wait_is_just_text(db: str) -> None:
    result = guidebot("chat", stdin="\n".join([*INTAKE, "/wait 7d"]) + "\n")
    assert result.exit_code == 0, result.output
    assert "the clock is now" not in result.output
    [case] = json.loads(guidebot("cases", "--json", "--include-demo").output)
    assert case["state"] not in ("dropped_out", "dropout_eval")


def test_demo_courses_stay_out_of_cases_and_report_unless_asked(db: str) -> None:
    assert guidebot("chat", stdin="\n".join(INTAKE) + "\n").exit_code == 0
    assert json.loads(guidebot("cases", "--json").output) == []
    assert "No courses yet." in guidebot("cases").output
    [case] = json.loads(guidebot("cases", "--json", "--include-demo").output)
    assert case["program"] == "demo"
    without = json.loads(guidebot("report", "--json").output)
    assert [row["program"] for row in without if row["program"] == "demo"] == []
    with_demo = json.loads(guidebot("report", "--json", "--include-demo").output)
    assert any(row["program"] == "demo" for row in with_demo)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("GUIDEBOT_DATABASE_URL", "nonsense", "GUIDEBOT_DATABASE_URL=nonsense: not a database URL"),
        ("GUIDEBOT_DATABASE_URL", "sqlite:////no/such/dir/x.db", "the folder for the SQLite file does not exist"),
        ("GUIDEBOT_DATABASE_URL", "postgresql+psycopg://u:secret@127.0.0.1:1/db", "cannot open the database"),
        ("GUIDEBOT_TIMEZONE", "Mars/Base", "GUIDEBOT_TIMEZONE: Value error, unknown time zone 'Mars/Base'"),
        ("GUIDEBOT_DIALOGS_DIR", "/no/such/dialogs", "GUIDEBOT_DIALOGS_DIR: no such directory"),
    ],
)
@pytest.mark.parametrize("command", [("cases",), ("db", "migrate"), ("report",)])
def test_a_bad_setting_is_one_line_naming_it(
    db: str, monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str, command: tuple[str, ...]
) -> None:
    monkeypatch.setenv(name, value)
    result = guidebot(*command)
    if command == ("db", "migrate") and name == "GUIDEBOT_DIALOGS_DIR":
        assert result.exit_code == 0, result.output  # migrating needs no dialog files
        return
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and name in lines[0], result.output
    assert "Traceback" not in result.output and "secret" not in result.output


def test_code_is_refused_in_one_line_while_another_course_runs(db: str) -> None:
    first = json.loads(guidebot("codes", "new", "--program", "demo", "--json").output)["code"]
    assert guidebot("chat", "--code", first, stdin="1\n").exit_code == 0
    second = json.loads(guidebot("codes", "new", "--program", "sleep", "--label", "K-2", "--json").output)["code"]
    refused = guidebot("chat", "--code", second, stdin="1\n")
    assert refused.exit_code == 1
    assert "still running in the terminal chat, so --code was not used" in refused.output
    [case] = json.loads(guidebot("cases", "--json", "--include-demo").output)
    assert case["program"] == "demo"  # the second code was not spent


def test_help_and_chat_say_which_sqlite_file_is_used(db: str, tmp_path: Path) -> None:
    helped = guidebot("--help")
    assert "the file guidebot.db in the folder guidebot is run from" in " ".join(helped.output.split())
    chat = guidebot("chat", stdin="")
    assert chat.output.splitlines()[0] == f"Database: the SQLite file {(tmp_path / 'guidebot.db').resolve()}"
