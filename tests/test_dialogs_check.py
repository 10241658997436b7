"""`guidebot dialogs check`: the shipped files pass; broken copies are refused with file and line."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.config import DEFAULT_DIALOGS_DIR
from bot.dialogs.load import DialogsInvalid, load_dialogs
from bot.dialogs.store import DialogStore

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


def test_shipped_dialogs_pass() -> None:
    result = runner.invoke(cli, ["dialogs", "check", str(DEFAULT_DIALOGS_DIR)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: 7 flows, 6 programs, 4 instruments")  # PHQ-2 and GAD-2 added


def _dangling(root: Path) -> tuple[str, str]:
    edit(root / "flows/checkin.yaml", "    next: goals\n  continuity:", "    next: gaols\n  continuity:")
    return "flows/checkin.yaml", "next 'gaols' does not exist"


def _unreachable(root: Path) -> tuple[str, str]:
    edit(
        root / "flows/intake.yaml",
        "  consent_declined:\n    say: intake.consent_declined\n    next: consent\n",
        "  consent_declined:\n    say: intake.consent_declined\n    next: consent\n"
        "  orphan:\n    say: intake.about\n    next: consent\n",
    )
    return "flows/intake.yaml", "step 'orphan' cannot be reached"


def _template_syntax(root: Path) -> tuple[str, str]:
    edit(
        root / "locales/nb/texts.yaml",
        'reask_number: "Svar gjerne med et tall fra {{ min }}',
        'reask_number: "Svar gjerne med et tall fra {{ min }',
    )
    return "locales/nb/texts.yaml", "text 'common.reask_number': template error"


def _missing_in_en(root: Path) -> tuple[str, str]:
    edit(root / "locales/en/texts.yaml", '  useful: "What was most useful?"\n', "")
    return "locales/en/texts.yaml", "text 'checkin.useful' has no 'en' version"


def _unknown_instrument(root: Path) -> tuple[str, str]:
    edit(root / "flows/closing.yaml", "    measure: scheduled", "    measure: [phq9, phq10]")
    return "flows/closing.yaml", "unknown instrument 'phq10'"


def _unknown_template_value(root: Path) -> tuple[str, str]:
    edit(
        root / "locales/en/texts.yaml",
        '  hard: "What was hard, or what got in the way?"',
        '  hard: "What was hard, {{ answers.no_such_answer.upper() }}?"',
    )
    return "locales/en/texts.yaml", "text 'checkin.hard': cannot render with sample data"


def _loop_without_exit(root: Path) -> tuple[str, str]:
    edit(
        root / "flows/dropout.yaml",
        "  no_thanks:\n    say: dropout.no_thanks\n",
        "  no_thanks:\n    say: dropout.no_thanks\n    next: offer\n",
    )
    edit(
        root / "flows/dropout.yaml",
        "      - {value: yes, text: dropout.offer_yes, next: finished_program}",
        "      - {value: yes, text: dropout.offer_yes, next: no_thanks}",
    )
    return "flows/dropout.yaml", "dead end"


@pytest.mark.parametrize(
    "breakage",
    [
        _dangling,
        _unreachable,
        _template_syntax,
        _missing_in_en,
        _unknown_instrument,
        _unknown_template_value,
        _loop_without_exit,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_broken_copies_are_refused_naming_file_and_line(
    dialogs_copy: Path, breakage: Callable[[Path], tuple[str, str]]
) -> None:
    file, problem = breakage(dialogs_copy)
    result = runner.invoke(cli, ["dialogs", "check", str(dialogs_copy)])
    assert result.exit_code != 0
    matching = [line for line in result.output.splitlines() if problem in line]
    assert matching, result.output
    found = re.match(r"(?P<file>\S+):(?P<line>\d+): ", matching[0])
    assert found and found["file"].endswith(file) and int(found["line"]) > 0, matching[0]


def test_problem_lines_point_at_the_broken_step(dialogs_copy: Path) -> None:
    _dangling(dialogs_copy)
    with pytest.raises(DialogsInvalid) as caught:
        load_dialogs(dialogs_copy)
    problem = caught.value.problems[0]
    assert problem.line == line_of(dialogs_copy / "flows/checkin.yaml", "  feedback:") + 1


def test_yaml_syntax_error_names_the_line(dialogs_copy: Path) -> None:
    edit(dialogs_copy / "schedule.yaml", "reminder_hours: [24, 72]", "reminder_hours: [24, 72")
    result = runner.invoke(cli, ["dialogs", "check", str(dialogs_copy)])
    assert result.exit_code != 0
    assert re.search(r"schedule\.yaml:\d+: YAML syntax", result.output), result.output


def test_a_broken_reload_keeps_the_old_dialogs(dialogs_copy: Path) -> None:
    store = DialogStore(dialogs_copy)
    before = store.current
    _template_syntax(dialogs_copy)
    problem = store.reload()
    assert problem is not None and store.current is before
    edit(dialogs_copy / "locales/nb/texts.yaml", "{{ min }", "{{ min }}")
    edit(dialogs_copy / "locales/nb/texts.yaml", 'ask_code: "Hei!', 'ask_code: "Hallo!')
    assert store.reload() is None
    assert store.current.dialogs.texts["nb"]["start.ask_code"].startswith("Hallo!")


def test_graph_prints_mermaid_for_life_cycle_and_flows() -> None:
    result = runner.invoke(cli, ["dialogs", "graph"])
    assert result.exit_code == 0
    assert "stateDiagram-v2" in result.output
    assert "flowchart TD" in result.output
    assert "checkin_did_homework -->|no| checkin_continuity" in result.output


def test_learned_examples_that_are_missing_or_broken_are_refused_with_file_and_line(tmp_path: Path) -> None:
    root = tmp_path / "dialogs"
    shutil.copytree(DEFAULT_DIALOGS_DIR, root)
    (root / "examples" / "benign_broken.yaml").write_text('- {text: "ok"}\n- {category: low_mood}\n', encoding="utf-8")
    escalation = root / "escalation.yaml"
    escalation.write_text(
        escalation.read_text(encoding="utf-8").replace(
            "risk: [examples/risk_*.yaml]", "risk: [examples/nothing_*.yaml]"
        ),
        encoding="utf-8",
    )
    with pytest.raises(DialogsInvalid) as caught:
        load_dialogs(root)
    text = str(caught.value)
    assert "no example file matches 'examples/nothing_*.yaml'" in text
    assert "benign_broken.yaml:2: each example needs a 'text'" in text
