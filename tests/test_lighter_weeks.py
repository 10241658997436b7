"""Issue 9, check-in content: the lighter weeks, continuity that keeps the part, /plan after the
course, feedback that quotes the person, and links to the program's modules. The engine directly,
with an injected clock; the shipped schedule as shipped (`lighter_dialogs`) where the weeks matter.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.clinicians.facts import instrument_order
from bot.clinicians.report import outcome_rows
from bot.clock import FakeClock
from bot.config import DEFAULT_DIALOGS_DIR, Settings
from bot.dialogs.context import outcome
from bot.dialogs.store import DialogStore
from bot.storage.db import transaction
from tests.support import course_script as script
from tests.support.evidence import shown_evidence
from tests.support.participant import (
    Participant,
    Sent,
    answer_measure,
    do_intake,
    go_to_next_checkin,
    run_due_timers,
)
from tests.support.settings import make_settings

PHQ = (1, 1, 1, 1, 1, 1, 1, 1, 0)
GAD = (1, 1, 1, 1, 1, 1, 1)
SHORT = (2, 1, 1, 1, 0)  # PHQ-2, GAD-2, then PHQ-9 item 9
OPTIONS_NB = {"Ikke i det hele tatt", "Noen dager", "Mer enn halvparten av dagene", "Nesten hver dag"}
DOCS = Path(__file__).resolve().parent.parent / "docs" / "dialogs.md"


@pytest.fixture
def light_app(settings: Settings, clock: FakeClock, lighter_dialogs: DialogStore) -> Iterator[App]:
    """The app with the shipped schedule: full forms in weeks 1, 3 and 6, the lighter weeks between."""
    application = build_app(settings, clock, run_migrations=False, dialogs=lighter_dialogs)
    yield application
    application.db.dispose()


def enrolled(app: App, chat_id: int = 1001) -> Participant:
    user = Participant(app, chat_id=chat_id)
    user.start_with_new_code("depression", f"K-{chat_id}")
    do_intake(user, "nb", PHQ, GAD)
    return user


def is_measure_question(message: Sent) -> bool:
    return set(message.labels()) == OPTIONS_NB


def measure_taps(user: Participant, values: tuple[int, ...]) -> tuple[int, list[str]]:
    """Answer the questionnaire tap by tap, as long as a symptom question is asked; the taps and
    the questions' first lines."""
    taps, heads = 0, []
    for value in values:
        question = user.last_with_buttons()
        if not is_measure_question(question):
            break
        head = re.search(r"(PHQ-\d|GAD-\d) \(\d+/\d+\)", question.text)
        heads.append(head.group(0) if head else "item 9")
        answer_measure(user, [value])
        taps += 1
    return taps, heads


def homework(user: Participant, useful: str = "Dagboken") -> None:
    user.play(
        [
            script.Choose(0),
            script.Type("Del 1 og 2"),
            script.Choose(1),
            script.Type("Ja"),
            script.Type(useful),
            script.Type("Å finne tid"),
            script.Type("Passer bra"),
            script.Type(script.WEEK_GOALS),
        ]
    )


def test_a_lighter_week_asks_five_taps_and_a_full_week_sixteen(light_app: App, clock: FakeClock) -> None:
    user = enrolled(light_app)
    go_to_next_checkin(light_app, clock, user)
    taps, heads = measure_taps(user, (*SHORT, 0, 0, 0))
    assert taps == 5
    assert [h.split(" (")[0] for h in heads[:4]] == ["PHQ-2", "PHQ-2", "GAD-2", "GAD-2"]
    result = next(t for t in reversed(user.texts()) if t.startswith("Takk."))
    # PHQ-2 and GAD-2 are shown as such, with their own cut-off; never as PHQ-9 or GAD-7 totals.
    assert "PHQ-2: 3 (av 6, på eller over grensen på 3)" in result
    assert "GAD-2: 2 (av 6, under grensen på 3)" in result
    assert "PHQ-9" not in result and "GAD-7" not in result
    scores = user.scores()
    assert scores[("phq2", 2)] == 3 and scores[("gad2", 2)] == 2
    assert scores[("phq9", 2)] is None  # item 9 alone is no PHQ-9 total
    assert ("gad7", 2) not in scores
    homework(user)
    go_to_next_checkin(light_app, clock, user)
    full, _heads = measure_taps(user, (*PHQ, *GAD))
    assert full == 16  # week 3: the full forms, as every week before
    assert user.scores()[("phq9", 3)] == 8
    # docs/dialogs.md gives these counts: the taps per check-in before and after.
    table = DOCS.read_text(encoding="utf-8")
    assert f"| before: the full forms every week | {full} |" in table
    assert f"| a lighter week: PHQ-2, GAD-2 and item 9 | {taps} |" in table


def test_item_9_in_a_lighter_week_raises_the_alert_as_before(light_app: App, clock: FakeClock) -> None:
    user = enrolled(light_app)
    go_to_next_checkin(light_app, clock, user)
    measure_taps(user, (0, 0, 0, 0, 1))
    assert [a.signal for a in user.alerts()] == ["risk_answer"]
    assert "PHQ-9 item 9 = 1" in shown_evidence(light_app, user.alerts()[0])[0]


def test_the_report_and_charts_use_the_full_forms_only(light_app: App, clock: FakeClock) -> None:
    dialogs = light_app.dialogs.current.dialogs
    assert "phq2" not in instrument_order(dialogs) and "gad2" not in instrument_order(dialogs)
    scores = {"phq9": {1: 12, 3: 8}, "gad7": {1: 9, 3: 6}, "phq2": {2: 4, 4: 1}, "gad2": {2: 3, 4: 0}}
    result = outcome(dialogs, scores)
    assert set(result["before"]) == {"phq9", "gad7"}
    user = enrolled(light_app)
    go_to_next_checkin(light_app, clock, user)
    measure_taps(user, SHORT)
    homework(user)
    with transaction(light_app.db) as session:
        rows = outcome_rows(session, dialogs)
    # Week 1 and a lighter week 2 are one full measurement, not two.
    assert rows[-1]["finished_treatment"] == 0


def test_continuity_keeps_the_part_and_plan_shows_it(app: App, clock: FakeClock) -> None:
    user = enrolled(app)
    user.send("/plan")
    plan = user.last().text
    assert "(uke 1 av 6)" in plan and "(uke 2 av 6)" not in plan  # right after the intake
    assert "Nå jobber du med del 1, «Å forstå depresjon» og del 2" in plan
    go_to_next_checkin(app, clock, user)
    user.play([script.Measure(PHQ), script.Measure(GAD), script.Choose(2)])  # "no, not this time"
    user.play([script.Type("Jeg leste litt"), script.Type("Mye på jobb"), script.Choose(1), script.Type("Lese litt")])
    stay = next(t for t in reversed(user.texts()) if t.startswith("Vi blir på"))
    assert "del 1, «Å forstå depresjon» og del 2" in stay and "Neste del er" not in stay
    assert user.course().week == 3 and user.course().scratch["part_lag"] == 1
    user.send("/plan")
    assert "Nå jobber du med del 1, «Å forstå depresjon» og del 2" in user.last().text
    go_to_next_checkin(app, clock, user)
    user.play([script.Measure(PHQ), script.Measure(GAD)])
    assert "del 1, «Å forstå depresjon» og del 2" in user.last().text  # the same parts are reviewed
    homework(user)
    assert any(t.startswith("Neste del er del 3") for t in user.texts()[-3:])


def test_after_the_course_plan_says_it_is_done_and_what_is_left(app: App, clock: FakeClock) -> None:
    """One continuity week: the course still ends in week 6, with part 6 left at one's own pace."""
    user = enrolled(app)
    go_to_next_checkin(app, clock, user)
    user.play(script.checkin(PHQ, GAD, did_homework=False))
    for _week in (3, 4, 5):
        go_to_next_checkin(app, clock, user)
        user.play(script.checkin(PHQ, GAD))
    go_to_next_checkin(app, clock, user)
    user.play(script.closing(PHQ, GAD))
    assert user.course().state == "completed"
    status = next(t for t in user.texts() if t.startswith("Her er en oppsummering"))
    said = int(re.search(r"vært med på (\d+) samtaler", status).group(1))  # type: ignore[union-attr]
    assert any("Disse delene kan du gjøre i ditt eget tempo: del 6" in t for t in user.texts())
    user.send("/plan")
    plan = user.last().text
    assert "Samtale: hver" not in plan and "Planen din denne uken" not in plan and "Neste samtale" not in plan
    assert "(fullført)" in plan and "uke 6 av 6" not in plan
    assert f"Samtaler i kurset: {said}." in plan and said == 5
    assert "Disse delene kan du gjøre i ditt eget tempo: del 6, «Veien videre»" in plan


def test_feedback_quotes_the_person_and_varies_by_week(app: App, clock: FakeClock) -> None:
    user = enrolled(app)
    go_to_next_checkin(app, clock, user)
    user.play([script.Measure(PHQ), script.Measure(GAD)])
    homework(user, "Dagboken om kvelden")
    week2 = next(t for t in reversed(user.texts()) if t.startswith("Takk for at du forteller"))
    assert "«Dagboken om kvelden»" in week2
    go_to_next_checkin(app, clock, user)
    user.play([script.Measure(PHQ), script.Measure(GAD)])
    long = "Å skrive ned tankene mine hver kveld, " * 12
    homework(user, long)
    week3 = next(t for t in reversed(user.texts()) if t.startswith("Takk for at du forteller"))
    quoted = re.search(r"«([^»]*)»", week3)
    assert quoted is not None and quoted.group(1).endswith("…") and len(quoted.group(1)) <= 90
    assert quoted.group(1)[:-1].strip() in long  # cut at a word, not in the middle of one
    first_line = [t.splitlines()[1].replace("«Dagboken om kvelden»", "«X»") for t in (week2, week3)]
    assert first_line[0] != first_line[1].replace(f"«{quoted.group(1)}»", "«X»")  # another wording


def test_a_part_can_link_to_its_module(settings: Settings, clock: FakeClock, tmp_path: Path) -> None:
    shipped = DialogStore(DEFAULT_DIALOGS_DIR).current.dialogs
    assert all(not part.link for part in shipped.programs["demo"].parts)  # the demo has none
    root = tmp_path / "dialogs"
    shutil.copytree(make_settings("sqlite://").dialogs_dir, root)
    program = root / "programs" / "depression.yaml"
    text = program.read_text(encoding="utf-8")
    text = text.replace(
        "homework: program.depression.part3.homework",
        "homework: program.depression.part3.homework\n"
        "    link: {nb: https://kurs.example.no/del-3, en: https://course.example.org/part-3}",
    )
    program.write_text(text, encoding="utf-8")
    dialogs = DialogStore(root)
    application = build_app(settings, clock, run_migrations=False, dialogs=dialogs)
    try:
        user = enrolled(application)
        user.send("/plan")
        assert "https://kurs.example.no/del-3" in user.last().text
        go_to_next_checkin(application, clock, user)
        user.play([script.Measure(PHQ), script.Measure(GAD)])
        homework(user)
        nxt = next(t for t in reversed(user.texts()) if t.startswith("Neste del er del 3"))
        assert "https://kurs.example.no/del-3" in nxt and "course.example.org" not in nxt
    finally:
        application.db.dispose()


def test_the_dropout_evaluation_asks_the_full_forms(light_app: App, clock: FakeClock) -> None:
    user = enrolled(light_app)
    go_to_next_checkin(light_app, clock, user)
    opened = clock.now()
    for days in (7, 14):
        clock.set(opened + timedelta(days=days, seconds=2))
        while run_due_timers(light_app):
            pass
    user.receive()
    assert user.course().state == "dropout_eval"
    user.press("Ja, det går fint")
    user.press("Nesten ingenting")
    taps, heads = measure_taps(user, (*PHQ, *GAD))
    assert taps == 16 and heads[0] == "PHQ-9 (1/9)" and heads[9] == "GAD-7 (1/7)"
    assert user.scores()[("phq9", 2)] == 8 and user.scores()[("gad7", 2)] == 7
    assert user.last_with_buttons().labels()[0] == "Jeg hadde ikke tid"


def test_nothing_asks_the_checkin_question_while_paused(app: App, clock: FakeClock) -> None:
    user = enrolled(app)
    clock.advance(days=4)  # past the schedule's first gap
    user.send("/checkin")
    answer_measure(user, PHQ[:2])
    user.send("/pause")
    before = len(user.inbox)
    for command in ("/safetyplan", "/checkin", "/start", "hei"):
        user.send(command)
    assert not any(is_measure_question(m) for m in user.inbox[before:]), user.texts()[before:]
    assert user.texts()[-1].startswith("Kurset ditt er satt på pause")
    replies = user.send("/resume")
    assert is_measure_question(replies[-1]) and "PHQ-9 (3/9)" in replies[-1].text
