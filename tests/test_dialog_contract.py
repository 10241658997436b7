"""The dialog contract: names the code reads from dialogs/ are checked, with file and line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.config import DEFAULT_DIALOGS_DIR
from bot.dialogs import contract
from bot.dialogs.load import load_dialogs
from bot.engine.actions import ACTIONS
from bot.engine.commands import COMMANDS

runner = CliRunner()


@pytest.fixture
def dialogs_copy(tmp_path: Path) -> Path:
    target = tmp_path / "dialogs"
    shutil.copytree(DEFAULT_DIALOGS_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def problems(root: Path, needle: str) -> list[tuple[str, int, str]]:
    """The check fails; the lines naming `needle`, as (file, line, text)."""
    result = runner.invoke(cli, ["dialogs", "check", str(root)])
    assert result.exit_code != 0, result.output
    found = []
    for line in result.output.splitlines():
        match = re.match(r"(?P<file>\S+):(?P<line>\d+): (?P<text>.*)", line)
        if match and needle in match["text"]:
            found.append((match["file"], int(match["line"]), match["text"]))
    assert found, result.output
    return found


def test_the_code_uses_the_contract_names() -> None:
    assert set(ACTIONS) == set(contract.ACTIONS)
    assert set(COMMANDS) <= set(contract.USER_COMMANDS)
    dialogs = load_dialogs(DEFAULT_DIALOGS_DIR)
    stored = {step.store for flow in dialogs.flows.values() for step in flow.steps.values()}
    assert set(contract.STORE_KEYS) <= stored
    assert dialogs.schedule.risk_item == contract.RISK_ITEM


def test_a_renamed_store_key_fails_with_file_line_and_the_expected_name(dialogs_copy: Path) -> None:
    intake = dialogs_copy / "flows/intake.yaml"
    edit(intake, "    store: checkin_day\n", "    store: checkin_weekday\n")
    [(file, line, text)] = problems(dialogs_copy, "'checkin_day'")
    assert file.endswith("flows/intake.yaml")
    assert line == line_of(intake, "  checkin_day:") + 1  # the step that stored it
    assert "store: checkin_day" in text and "weekday" in text and "checkin_weekday" in text


def test_a_missing_store_key_fails_too(dialogs_copy: Path) -> None:
    checkin = dialogs_copy / "flows/checkin.yaml"
    edit(checkin, "    store: week_goals\n", "")
    [(file, line, _text)] = problems(dialogs_copy, "no step stores 'week_goals'")
    assert file.endswith("flows/checkin.yaml") and line > 0


def test_a_store_key_with_the_wrong_kind_of_value_fails(dialogs_copy: Path) -> None:
    intake = dialogs_copy / "flows/intake.yaml"
    edit(intake, "    input: time\n", "")  # the time asked as a plain choice
    found = problems(dialogs_copy, "store 'checkin_time'")  # the intake's step, and /schedule's use of it
    [(file, line, text)] = [p for p in found if p[0].endswith("flows/intake.yaml")]
    assert file.endswith("flows/intake.yaml") and line == line_of(intake, "  checkin_time:") + 1
    assert "must be a time" in text


def test_an_unknown_action_fails_with_file_line_and_the_known_names(dialogs_copy: Path) -> None:
    intake = dialogs_copy / "flows/intake.yaml"
    edit(intake, "    do: schedule_checkins\n", "    do: schedule_checkin\n")
    found = problems(dialogs_copy, "unknown action 'schedule_checkin'")
    [(file, line, text)] = found
    assert file.endswith("flows/intake.yaml") and line == line_of(intake, "  schedule:") + 1
    assert "schedule_checkins" in text
    # and the intake no longer schedules the check-ins at all
    [(file, _line, _text)] = problems(dialogs_copy, "never runs the action 'schedule_checkins'")
    assert file.endswith("flows/intake.yaml")


def test_a_missing_system_text_fails_with_file_line_and_the_expected_name(dialogs_copy: Path) -> None:
    for code in ("nb", "nn", "en"):
        texts = dialogs_copy / "locales" / code / "texts.yaml"
        lines = texts.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if not line.startswith("  language_set:")]
        assert len(kept) == len(lines) - 1
        texts.write_text("".join(kept), encoding="utf-8")
    found = problems(dialogs_copy, "text 'common.language_set'")
    assert {file.split("/locales/")[1] for file, _line, _text in found} == {
        "nb/texts.yaml",
        "nn/texts.yaml",
        "en/texts.yaml",
    }
    assert all(line > 0 and "bot/dialogs/system.py" in text for _file, line, text in found)
