"""The `guidebot` command as an admin and a newcomer use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, create_engine, select
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.engine.codes import ALPHABET, normalize
from bot.storage.models import AccessCode, Clinician

GUIDEBOT = str(Path(sys.executable).parent / "guidebot")
runner = CliRunner()


@pytest.fixture
def env(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    values = {"GUIDEBOT_DATABASE_URL": sqlite_url, "GUIDEBOT_BOT_USERNAME": "guidebot_test_bot"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("GUIDEBOT_TELEGRAM_TOKEN", raising=False)
    return values


def test_codes_new_json_gives_a_readable_single_use_code(env: dict[str, str]) -> None:
    result = runner.invoke(cli, ["codes", "new", "--program", "sleep", "--label", "K-0042", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["label"] == "K-0042" and data["program"] == "sleep"
    raw = normalize(data["code"])
    assert len(raw) == 9 and set(raw) <= set(ALPHABET)
    assert not set(raw) & set("0O1IL")
    assert data["link"] == f"https://t.me/guidebot_test_bot?start={raw}"
    again = runner.invoke(cli, ["codes", "new", "--program", "sleep", "--label", "K-0042"])
    assert again.exit_code == 1 and "already in use" in again.output


def test_codes_new_refuses_an_unknown_program(env: dict[str, str]) -> None:
    result = runner.invoke(cli, ["codes", "new", "--program", "astrology", "--label", "K-1"])
    assert result.exit_code == 1
    assert "unknown program 'astrology'" in result.output and "depression" in result.output


def test_cases_json_lists_every_course(env: dict[str, str]) -> None:
    code = json.loads(runner.invoke(cli, ["codes", "new", "--program", "demo", "--json"]).output)["code"]
    chat = subprocess.run(
        [GUIDEBOT, "chat", "--code", code],
        input="1\n3\n2\n" + "1\n" * 16,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        check=False,
    )
    assert chat.returncode == 0, chat.stderr
    result = runner.invoke(cli, ["cases", "--json", "--include-demo"])
    assert result.exit_code == 0, result.output
    [case] = json.loads(result.output)
    assert set(case) >= {"label", "program", "state", "week", "next_checkin", "phq9", "gad7"}
    assert case["program"] == "demo" and case["state"] == "intake" and case["phq9"] == 0 and case["gad7"] == 0


def test_chat_without_a_code_starts_a_demo_course(env: dict[str, str]) -> None:
    chat = subprocess.run(
        [GUIDEBOT, "chat"],
        input="1\n",
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        check=False,
    )
    assert chat.returncode == 0, chat.stderr
    assert "Demo code for the demo program" in chat.stdout
    assert "Kom i gang: mestring i hverdagen" in chat.stdout
    assert "[1] Ja, vi fortsetter" in chat.stdout
    assert "Hvor gammel er du?" in chat.stdout


def test_run_without_a_token_says_so_and_opens_the_terminal_chat(env: dict[str, str]) -> None:
    run = subprocess.run(
        [GUIDEBOT, "run"], input="", capture_output=True, text=True, timeout=60, env={**os.environ, **env}, check=False
    )
    assert run.returncode == 0, run.stderr
    first = run.stdout.splitlines()[0]
    assert "GUIDEBOT_TELEGRAM_TOKEN" in first
    assert "Velkommen!" in run.stdout
    assert "alembic" not in run.stdout + run.stderr


def test_a_bad_setting_is_one_clear_line(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUIDEBOT_LOCALE", "de")
    result = runner.invoke(cli, ["cases"])
    assert result.exit_code == 1
    assert result.output.strip().startswith("guidebot: bad setting: GUIDEBOT_LOCALE")
    assert "Traceback" not in result.output


def test_broken_dialogs_are_refused_at_start_up(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "dialogs"
    broken.mkdir()
    (broken / "schedule.yaml").write_text("weeks: [\n", encoding="utf-8")
    monkeypatch.setenv("GUIDEBOT_DIALOGS_DIR", str(broken))
    result = runner.invoke(cli, ["report"])
    assert result.exit_code == 1
    assert "the dialog files have problems" in result.output and "schedule.yaml:" in result.output


def test_run_refuses_an_unknown_role(env: dict[str, str]) -> None:
    result = runner.invoke(cli, ["run", "--role", "both"])
    assert result.exit_code == 1
    assert "--role must be one of all, receive, send" in result.output


def test_codes_new_with_an_owner_makes_the_course_theirs(env: dict[str, str], sqlite_url: str) -> None:
    assert runner.invoke(cli, ["clinicians", "add", "--telegram-id", "501", "--name", "Kari"]).exit_code == 0
    result = runner.invoke(cli, ["codes", "new", "--program", "sleep", "--label", "K-0043", "--owner", "501"])
    assert result.exit_code == 0, result.output
    engine = create_engine(sqlite_url)
    with Session(engine) as session:
        code = session.exec(select(AccessCode).where(AccessCode.label == "K-0043")).one()
        owner = session.get(Clinician, code.clinician_id)
        assert owner is not None and owner.telegram_id == 501
    engine.dispose()
    unknown = runner.invoke(cli, ["codes", "new", "--program", "sleep", "--label", "K-0044", "--owner", "777"])
    assert unknown.exit_code == 1 and "no active clinician has the Telegram id 777" in unknown.output
