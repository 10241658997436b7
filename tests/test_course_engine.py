"""A whole six-week course through the engine, with an injected clock."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.app import App
from bot.clock import FakeClock
from tests.support import course_script as script
from tests.support.participant import Participant, do_checkin, do_intake, go_to_next_checkin


@pytest.mark.parametrize("locale", ["nb", "en"])
def test_whole_course_in_six_weeks(any_db_app: App, clock: FakeClock, locale: str) -> None:
    app = any_db_app
    user = Participant(app, language=locale)
    first = user.start_with_new_code("depression", "K-2001")
    assert first, "the code opens the intake"
    assert user.course().locale == locale

    do_intake(user, locale, phq=[2, 2, 2, 1, 1, 2, 1, 1, 0], gad=[2, 1, 2, 1, 1, 1, 1])
    contract = next(m.text for m in user.inbox if m.labels() == [script.INTAKE_AGREE[locale]])
    assert (" torsdag kl. 18.30" if locale == "nb" else " Thursday at 18:30") in contract
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
    user.play(script.closing([1, 0, 0, 0, 1, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0]))
    chart = [m for m in user.inbox if m.kind == "photo"]
    assert chart and chart[-1].image and chart[-1].image.startswith(b"\x89PNG")

    course = user.course()
    assert course.state == "completed" and course.finished_at is not None
    # Nothing more of the course is due; only the first booster, a month on (schedule.yaml: booster_days).
    assert (course.due_kind, course.due_at) == ("booster", course.finished_at + timedelta(days=30))
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
