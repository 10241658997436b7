"""Admins change the course by editing dialog files, never Python."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.clock import FakeClock
from bot.config import DEFAULT_DIALOGS_DIR
from bot.dialogs.load import DialogsInvalid, load_dialogs
from tests.support.participant import Participant, answer_measure, do_intake, go_to_next_checkin
from tests.support.settings import make_settings
from tests.test_dialogs_check import edit


@pytest.fixture
def dialogs_dir(tmp_path: Path) -> Path:
    target = tmp_path / "dialogs"
    shutil.copytree(DEFAULT_DIALOGS_DIR, target)
    return target


@pytest.fixture
def admin_app(dialogs_dir: Path, sqlite_url: str, clock: FakeClock) -> Iterator[Callable[[], App]]:
    """Builds the app from the edited copy, after the test has edited it."""
    built: list[App] = []

    def build() -> App:
        built.append(build_app(make_settings(sqlite_url, dialogs_dir=dialogs_dir), clock, run_migrations=False))
        return built[-1]

    yield build
    for app in built:
        app.db.dispose()


def test_a_changed_question_is_asked_as_written(dialogs_dir: Path, admin_app: Callable[[], App]) -> None:
    edit(dialogs_dir / "locales/nb/texts.yaml", 'age: "Hvor gammel er du?"', 'age: "Hvilken aldersgruppe er du i?"')
    app = admin_app()
    user = Participant(app)
    user.start_with_new_code()
    user.press("Ja, vi fortsetter")
    assert user.last().text == "Hvilken aldersgruppe er du i?"


def test_an_added_step_and_a_new_order(dialogs_dir: Path, admin_app: Callable[[], App]) -> None:
    flow = dialogs_dir / "flows/intake.yaml"
    edit(
        flow,
        "  selfhelp:\n    say: intake.selfhelp\n",
        "  work:\n    ask: intake.work\n    store: work_situation\n  selfhelp:\n    say: intake.selfhelp\n",
    )
    texts = {
        "nb": "Er du i jobb eller studier nå?",
        "nn": "Er du i arbeid eller studerer du no?",
        "en": "Are you working or studying now?",
    }
    for folder in (dialogs_dir / "locales").iterdir():
        text = texts.get(folder.name, f"Jobb? ({folder.name})")
        edit(folder / "texts.yaml", "intake:\n", f'intake:\n  work: "{text}"\n')
    # Reorder: ask about impact before age, by moving the block.
    text = flow.read_text(encoding="utf-8")
    age_block = text[text.index("  age:\n") : text.index("  impact:\n")]
    impact_block = text[text.index("  impact:\n") : text.index("  work:\n")]
    flow.write_text(text.replace(age_block + impact_block, impact_block + age_block), encoding="utf-8")
    edit(flow, "next: age}", "next: impact}")
    app = admin_app()
    user = Participant(app)
    user.start_with_new_code()
    user.press("Ja, vi fortsetter")
    assert user.course().step == "impact"
    user.press("En del")
    user.press("30–49")
    assert user.last().text == "Er du i jobb eller studier nå?"
    user.send("Jobber deltid")
    assert user.answers()["work_situation"] == "Jobber deltid"


def test_a_week_without_phq9_still_asks_item_nine(
    dialogs_dir: Path, admin_app: Callable[[], App], clock: FakeClock
) -> None:
    edit(
        dialogs_dir / "schedule.yaml",
        "{week: 2, flow: checkin, instruments: [phq2, gad2]",
        "{week: 2, flow: checkin, instruments: [gad7]",
    )
    app = admin_app()
    user = Participant(app)
    user.start_with_new_code()
    do_intake(user, "nb", [0] * 9, [1] * 7)
    go_to_next_checkin(app, clock, user)
    answer_measure(user, [1] * 7)
    assert "skade deg selv" in user.last().text and "(9/9)" not in user.last().text
    user.press_index(2)
    scores = user.scores()
    assert scores[("gad7", 2)] == 7 and scores[("phq9", 2)] is None
    assert [a.signal for a in user.alerts()] == ["risk_answer"]


def test_a_new_program_needs_only_a_file(dialogs_dir: Path, admin_app: Callable[[], App]) -> None:
    """A file for its parts, and beside the other programs' texts a file per language."""
    for folder in [dialogs_dir / "programs", *(dialogs_dir / "locales").glob("*/programs")]:
        source = (folder / "stress.yaml").read_text(encoding="utf-8")
        (folder / "grief.yaml").write_text(
            source.replace("stress", "grief").replace("Mestring av grief", "Sorg og savn"), encoding="utf-8"
        )
    app = admin_app()
    user = Participant(app)
    user.start_with_new_code("grief", "K-7000")
    assert "Sorg og savn" in user.inbox[0].text


def test_a_branch_step_routes_by_condition(dialogs_dir: Path, admin_app: Callable[[], App]) -> None:
    flow = dialogs_dir / "flows/intake.yaml"
    edit(
        flow,
        "  selfhelp:\n",
        "  route:\n    branch:\n      - {when: \"answers.impact == 'much'\", next: program}\n  selfhelp:\n",
    )
    app = admin_app()
    user = Participant(app)
    user.start_with_new_code()
    user.press("Ja, vi fortsetter")
    user.press("30–49")
    user.press("Mye")
    assert not any("Veiledet selvhjelp betyr" in t for t in user.texts())
    assert any("Programmet har 6 deler" in t for t in user.texts())


def test_a_broken_branch_condition_is_refused(dialogs_dir: Path) -> None:
    edit(
        dialogs_dir / "flows/intake.yaml",
        "  selfhelp:\n",
        '  route:\n    branch:\n      - {when: "answers.impact ==", next: program}\n  selfhelp:\n',
    )
    with pytest.raises(DialogsInvalid) as caught:
        load_dialogs(dialogs_dir)
    assert "step 'route': condition fails" in str(caught.value)
