"""`guidebot clinicians add | list | remove`, as an admin sets up the team."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.app import build_app
from tests.support.cli import guidebot, use_database
from tests.support.clinician import Colleague, audit_actions
from tests.support.settings import make_settings


@pytest.fixture(autouse=True)
def _database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_url: str) -> None:
    use_database(monkeypatch, tmp_path, sqlite_url)


def _listed() -> list[dict[str, object]]:
    result = guidebot("clinicians", "list", "--json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def test_add_list_and_remove(sqlite_url: str) -> None:
    assert guidebot("clinicians", "list").stdout.startswith("No clinicians yet.")
    added = guidebot("clinicians", "add", "--telegram-id", "900", "--name", "Liv  Leder", "--admin")
    assert added.exit_code == 0 and added.stdout.strip() == "Added admin Liv Leder (Telegram id 900)."
    assert guidebot("clinicians", "add", "--telegram-id", "501", "--name", "Kari").exit_code == 0
    assert _listed() == [
        {"telegram_id": 900, "name": "Liv Leder", "admin": True, "active": True},
        {"telegram_id": 501, "name": "Kari", "admin": False, "active": True},
    ]
    table = guidebot("clinicians", "list").stdout
    assert "900             admin      active   Liv Leder" in table

    removed = guidebot("clinicians", "remove", "--telegram-id", "501")
    assert removed.exit_code == 0 and removed.stdout.strip() == "Removed Kari (Telegram id 501)."
    assert _listed()[1]["active"] is False
    again = guidebot("clinicians", "add", "--telegram-id", "501", "--name", "Kari N.")
    assert again.exit_code == 0
    assert _listed()[1] == {"telegram_id": 501, "name": "Kari N.", "admin": False, "active": True}

    application = build_app(make_settings(sqlite_url), run_migrations=False)
    try:
        actions = [(a.actor, a.action) for a in audit_actions(application)]
        assert actions == [
            ("cli", "clinician_added"),
            ("cli", "clinician_added"),
            ("cli", "clinician_removed"),
            ("cli", "clinician_added"),
        ]
        assert "Kari" not in str([a.detail for a in audit_actions(application)])
    finally:
        application.db.dispose()


def test_a_clinician_added_on_the_command_line_can_use_the_bot(sqlite_url: str) -> None:
    guidebot("clinicians", "add", "--telegram-id", "501", "--name", "Kari")
    application = build_app(make_settings(sqlite_url), run_migrations=False)
    try:
        kari = Colleague(application, 501, register=False)
        assert kari.send("/cases")[-1].text.startswith("Du har ingen åpne saker")
        guidebot("clinicians", "remove", "--telegram-id", "501")
        assert kari.send("/cases")[-1].text.startswith("Beklager, det er ikke tilgjengelig")
    finally:
        application.db.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["add", "--telegram-id", "-100123", "--name", "Team"],
            "guidebot: --telegram-id must be a positive number (a Telegram user id, not a group id)",
        ),
        (["add", "--telegram-id", "501", "--name", "  "], "guidebot: --name must be 1 to 60 characters"),
        (["remove", "--telegram-id", "12345"], "guidebot: Telegram user 12345 is not an active clinician"),
    ],
)
def test_bad_input_is_one_clear_line(args: list[str], message: str) -> None:
    result = guidebot("clinicians", *args)
    assert result.exit_code == 1
    assert result.output.strip() == message


def test_adding_someone_twice_is_refused() -> None:
    guidebot("clinicians", "add", "--telegram-id", "501", "--name", "Kari")
    result = guidebot("clinicians", "add", "--telegram-id", "501", "--name", "Kari")
    assert result.exit_code == 1
    assert result.output.strip() == "guidebot: Telegram user 501 is already a clinician (Kari)"


def test_a_telegram_id_that_is_not_a_number_is_a_usage_error() -> None:
    result = guidebot("clinicians", "add", "--telegram-id", "kari", "--name", "Kari")
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "Invalid value for '--telegram-id'" in result.output
