"""A whole six-week course through the engine, with an injected clock."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.app import App
from bot.clock import FakeClock
from tests.support.participant import Participant, run_due_timers

INTAKE_AGREE = {"nb": "Jeg er med på det", "en": "I agree"}
INTAKE_ANSWERS = {"nb": ("Ja, vi fortsetter", "30–49", "En del"), "en": ("Yes, let's go on", "30–49", "Quite a bit")}


def answer_measure(user: Participant, values: list[int]) -> None:
    """Press each value; after a risk answer on item 9 the questionnaire pauses, so press "continue now"."""
    for value in values:
        replies = user.press_index(value)
        if replies and any(b["data"] == "r:c" for b in replies[-1].buttons):
            user.press_data("r:c")


def do_intake(user: Participant, locale: str, phq: list[int], gad: list[int]) -> None:
    consent, age, impact = INTAKE_ANSWERS[locale]
    user.press(consent)
    user.press(age)
    user.press(impact)
    answer_measure(user, phq)
    answer_measure(user, gad)
    user.send("Sove bedre og komme meg ut hver dag" if locale == "nb" else "Sleep better and get out every day")
    user.press_index(3)  # Thursday
    user.send("18:30")
    user.press_index(0)  # agree


def do_checkin(user: Participant, phq: list[int], gad: list[int], *, did_homework: bool = True) -> None:
    answer_measure(user, phq)
    answer_measure(user, gad)
    if did_homework:
        user.press_index(0)
        user.send("Del 1 og 2, aktivitetsdagbok")
        user.press_index(1)  # twice
        user.send("Ja, kjente meg igjen")
        user.send("Dagboken")
        user.send("Å finne tid")
        user.send("Passer bra med jobben")
    else:
        user.press_index(2)
        user.send("Jeg leste litt")
        user.send("Mye på jobb")
        user.press_index(1)  # no call
    user.send("Tirsdag kveld: del 3")


def go_to_next_checkin(app: App, clock: FakeClock, user: Participant) -> None:
    course = user.course()
    assert course.due_kind == "checkin" and course.due_at is not None
    clock.set(course.due_at + timedelta(seconds=1))
    assert run_due_timers(app) == 1
    user.receive()


@pytest.mark.parametrize("locale", ["nb", "en"])
def test_whole_course_in_six_weeks(any_db_app: App, clock: FakeClock, locale: str) -> None:
    app = any_db_app
    user = Participant(app, language=locale)
    first = user.start_with_new_code("depression", "K-2001")
    assert first, "the code opens the intake"
    assert user.course().locale == locale

    do_intake(user, locale, phq=[2, 2, 2, 1, 1, 2, 1, 1, 0], gad=[2, 1, 2, 1, 1, 1, 1])
    contract = next(m.text for m in user.inbox if m.labels() == [INTAKE_AGREE[locale]])
    assert (" torsdag kl. 18:30" if locale == "nb" else " Thursday at 18:30") in contract
    course = user.course()
    assert course.state == "active" and course.week == 2
    assert course.checkin_weekday == 3 and course.checkin_time == "18:30"
    assert user.scores()[("phq9", 1)] == 12 and user.scores()[("gad7", 1)] == 9

    weekly = [
        ([2, 2, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1]),
        ([1, 1, 1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 0, 0, 1]),
        ([1, 1, 1, 0, 1, 0, 1, 0, 0], [1, 1, 0, 1, 0, 0, 1]),
        ([1, 1, 0, 0, 1, 0, 0, 0, 0], [1, 0, 0, 1, 0, 0, 0]),
    ]
    for week, (phq, gad) in enumerate(weekly, start=2):
        go_to_next_checkin(app, clock, user)
        assert user.course().state == "checkin" and user.course().week == week
        do_checkin(user, phq, gad)
        assert user.course().state == "active" and user.course().week == week + 1

    go_to_next_checkin(app, clock, user)
    assert user.course().state == "closing"
    answer_measure(user, [1, 0, 0, 0, 1, 0, 0, 0, 0])
    answer_measure(user, [1, 0, 0, 0, 0, 0, 0])
    user.press_index(0)  # did part 6
    chart = [m for m in user.inbox if m.kind == "photo"]
    assert chart and chart[-1].image and chart[-1].image.startswith(b"\x89PNG")
    user.send("Å legge merke til tankene")
    user.send("Aktivitetsplan")
    user.send("Trekker meg unna, sover dårlig")
    user.send("Ringe søsteren min og bruke dagboken")
    user.send("Søsteren min")  # safety plan step 4, still empty
    user.send("Barna mine")  # step 7
    user.press_index(0)  # finished all
    user.press_index(0)  # better
    user.send("Øvelsene hjalp")
    user.press_index(0)  # eval homework 5
    user.press_index(1)  # eval follow-up 4
    user.send("Fint opplegg")

    course = user.course()
    assert course.state == "completed" and course.finished_at is not None and course.due_at is None
    scores = user.scores()
    assert scores[("phq9", 6)] == 2 and scores[("gad7", 6)] == 1
    assert [scores[("phq9", w)] for w in range(1, 7)] == [12, 10, 7, 5, 3, 2]
    answers = user.answers()
    assert answers["warning_signs"] == "Trekker meg unna, sover dårlig"
    assert answers["worse_plan"] == "Ringe søsteren min og bruke dagboken"
    assert answers["homework_times"] == "2" and answers["week_goals"] == "Tirsdag kveld: del 3"
    assert answers["eval_homework"] == "5" and answers["eval_followup"] == "4"
    assert answers["better_worse"] == "better" and answers["finished_program"] == "all"
    comparison = next(m.text for m in user.inbox if "12 → 2" in m.text)
    assert comparison
    user.send("/safetyplan")
    assert "Trekker meg unna" in user.texts()[-2]  # the plan, then the offer to change it
    for text in user.texts():
        assert "None" not in text, text
        assert not re.search(r"[a-zæøå)][.!?][A-ZÆØÅ]", text), text
