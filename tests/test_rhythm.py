"""The rhythm of a course, against the engine with an injected clock: the gate on /checkin,
/schedule, "not this week" in a reminder, and waking hours for reminders."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import App, build_app
from bot.clock import FakeClock
from bot.config import DEFAULT_DIALOGS_DIR, Settings
from bot.dialogs.store import DialogStore
from bot.engine.schedule import in_waking_hours
from tests.support import course_script as script
from tests.support.cli import guidebot, use_database
from tests.support.clinician import Colleague
from tests.support.participant import (
    Participant,
    answer_measure,
    do_checkin,
    do_intake,
    go_to_next_checkin,
    run_due_timers,
)
from tests.support.settings import full_forms_dialogs_dir

PHQ = [1, 1, 1, 1, 1, 1, 1, 1, 0]
GAD = [1, 1, 1, 1, 1, 1, 1]
OSLO = ZoneInfo("Europe/Oslo")


def enrolled(app: App, chat_id: int = 1001) -> Participant:
    user = Participant(app, chat_id=chat_id)
    user.start_with_new_code("depression", f"K-{chat_id}")
    do_intake(user, "nb", PHQ, GAD)  # the script chooses Thursday at 18:30
    return user


def local(when: datetime | None) -> datetime:
    assert when is not None
    return when.astimezone(OSLO)


# -- /checkin is gated ------------------------------------------------------------


def test_checkin_too_early_says_when_the_next_one_is_and_offers_plan(app: App, clock: FakeClock) -> None:
    user = enrolled(app)  # Monday 5 January, 10.00 in Oslo
    replies = user.send("/checkin")
    assert user.course().state == "active" and user.course().flow is None
    [reply] = replies
    assert "torsdag 8. januar kl. 18.30" in reply.text and "/plan" in reply.text
    assert "18:30" not in reply.text

    clock.advance(days=3)  # the first gap (first_checkin_min_days: 3) has passed
    user.send("/checkin")
    assert user.course().state == "checkin"
    do_checkin(user, PHQ, GAD)
    assert user.course().state == "active" and user.course().week == 3

    clock.advance(days=3, hours=23)  # min_days_between_checkins: 4
    reply = user.send("/checkin")[-1]
    assert user.course().state == "active" and "Neste samtale er torsdag 15. januar kl. 18.30" in reply.text
    clock.advance(hours=1)
    user.send("/checkin")
    assert user.course().state == "checkin" and user.course().week == 3


def test_a_clinician_can_still_open_a_check_in_early(app: App) -> None:
    """The gate is for the person's /checkin; the clinician's /checkin for a case opens it."""
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(1002, "K-1002")
    do_intake(user, "nb", PHQ, GAD)
    kari.send("/checkin K-1002")
    assert user.course().state == "checkin"


@pytest.fixture(scope="module")
def fast_dialogs(tmp_path_factory: pytest.TempPathFactory) -> DialogStore:
    """The shipped dialogs with the gaps set to 0, as an admin sets them for a fast demo."""
    root = tmp_path_factory.mktemp("fast") / "dialogs"
    shutil.copytree(DEFAULT_DIALOGS_DIR, root)
    schedule = root / "schedule.yaml"
    text = schedule.read_text()
    text = text.replace("min_days_between_checkins: 4", "min_days_between_checkins: 0")
    text = text.replace("first_checkin_min_days: 3", "first_checkin_min_days: 0")
    schedule.write_text(text)
    return DialogStore(root)


def test_gaps_set_to_0_let_checkin_open_at_once(
    settings: Settings, clock: FakeClock, fast_dialogs: DialogStore
) -> None:
    app = build_app(settings, clock, run_migrations=False, dialogs=fast_dialogs)
    try:
        user = enrolled(app)
        for week in (2, 3):
            user.send("/checkin")
            assert user.course().state == "checkin" and user.course().week == week
            do_checkin(user, PHQ, GAD)
    finally:
        app.db.dispose()


# -- /schedule --------------------------------------------------------------------


def test_schedule_moves_the_weekly_check_in_from_the_next_one_on(
    app: App, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = enrolled(app)
    replies = user.send("/schedule")
    assert replies[-1].labels()[0] == "mandag", "the intake's weekday buttons"
    user.press("tirsdag")
    replies = user.send("7.15")  # typed, as in the intake
    course = user.course()
    assert (course.checkin_weekday, course.checkin_time) == (1, "07:15")
    assert course.state == "active" and course.flow is None and course.due_kind == "checkin"
    assert local(course.due_at) == datetime(2026, 1, 13, 7, 15, tzinfo=OSLO), "tuesday, after the 3-day gap"
    assert "hver tirsdag kl. 07.15" in replies[-1].text and "tirsdag 13. januar" in replies[-1].text

    plan = user.send("/plan")[-1].text
    assert "Samtale: hver tirsdag" in plan and "13. januar" in plan

    use_database(monkeypatch, tmp_path, app.settings.database_url)
    result = guidebot("cases", "--json")
    assert result.exit_code == 0, result.output
    [row] = [r for r in json.loads(result.output) if r["label"] == "K-1001"]
    assert row["checkin_slot"] == {"weekday": 1, "time": "07:15"}
    assert row["next_checkin"] == "2026-01-13T06:15:00+00:00"


def test_schedule_mid_check_in_waits_until_the_conversation_is_done(app: App, clock: FakeClock) -> None:
    user = enrolled(app)
    clock.advance(days=3)
    user.send("/checkin")
    answer_measure(user, PHQ[:3])
    replies = user.send("/schedule")
    assert "/schedule" in replies[0].text and replies[-1].labels()[0] == "Ikke i det hele tatt"
    assert user.course().flow == "checkin"


# -- "not this week" -----------------------------------------------------------------


def _at_first_reminder(app: App, clock: FakeClock) -> tuple[Participant, datetime]:
    user = enrolled(app)
    course = user.course()
    assert course.due_at is not None
    opened = course.due_at
    clock.set(opened + timedelta(seconds=1))
    assert run_due_timers(app) == 1
    clock.set(opened + timedelta(hours=24, seconds=1))
    assert run_due_timers(app) == 1
    user.receive()
    return user, opened


def test_not_this_week_moves_the_check_in_two_days_once(app: App, clock: FakeClock) -> None:
    user, opened = _at_first_reminder(app, clock)
    reminder = next(m for m in reversed(user.inbox) if "Ikke denne uken – ta den om to dager" in m.labels())
    data = reminder.buttons[0]["data"]
    replies = user.press_data(data)
    course = user.course()
    assert course.state == "checkin" and course.due_kind == "reminder"
    assert course.due_at == opened + timedelta(days=2, seconds=1), "two days after it opened"
    assert "lørdag 10. januar kl. 18.30" in replies[-1].text

    again = user.press_data(data)
    assert "kan ikke flyttes igjen" in again[-1].text
    assert user.course().due_at == opened + timedelta(days=2, seconds=1), "a second press moves nothing"

    clock.set(opened + timedelta(days=2, seconds=1))
    assert run_due_timers(app) == 1
    replies = user.receive()
    assert replies and replies[-1].labels()[0] == "Ikke i det hele tatt", "the check-in again, two days on"
    assert all("Ikke denne uken – ta den om to dager" not in m.labels() for m in replies), "once a week"


def test_a_not_this_week_button_from_an_earlier_week_is_stale(app: App, clock: FakeClock) -> None:
    user, _ = _at_first_reminder(app, clock)
    replies = user.press_data("w:1")
    assert "kan ikke flyttes igjen" in replies[-1].text
    assert user.course().due_kind == "reminder" and user.course().scratch.get("moved_week") is None


# -- waking hours --------------------------------------------------------------------


def test_reminders_wait_for_waking_hours_but_the_check_in_opens_at_the_chosen_time(app: App, clock: FakeClock) -> None:
    user = enrolled(app)
    user.send("/schedule")
    user.press("torsdag")
    user.send("22.30")
    opened = user.course().due_at
    assert opened is not None and local(opened).time().isoformat() == "22:30:00"

    clock.set(opened + timedelta(seconds=1))
    assert run_due_timers(app) == 1
    assert user.course().state == "checkin", "the check-in opens at the person's own time"

    clock.set(opened + timedelta(hours=24, seconds=1))
    run_due_timers(app)
    user.receive()
    course = user.course()
    assert course.reminders_sent == 0, "no reminder at 22.30"
    assert local(course.due_at) == datetime(2026, 1, 10, 8, 0, tzinfo=OSLO), "held to 08.00 the next morning"

    assert course.due_at is not None
    clock.set(course.due_at + timedelta(seconds=1))
    assert run_due_timers(app) == 1
    assert user.course().reminders_sent == 1
    assert any("påminnelse" in m.text for m in user.receive())


def test_waking_hours_over_midnight() -> None:
    night_worker = ("22:00", "14:00")
    at = datetime(2026, 1, 5, 23, 30, tzinfo=OSLO)
    assert in_waking_hours(at, OSLO, night_worker) == at
    afternoon = datetime(2026, 1, 5, 15, 0, tzinfo=OSLO)
    assert in_waking_hours(afternoon, OSLO, night_worker) == datetime(2026, 1, 5, 22, 0, tzinfo=OSLO).astimezone(UTC)
    early = datetime(2026, 1, 5, 6, 0, tzinfo=OSLO)
    assert in_waking_hours(early, OSLO, ("08:00", "21:00")) == datetime(2026, 1, 5, 8, 0, tzinfo=OSLO).astimezone(UTC)


# -- boosters ---------------------------------------------------------------------------


def _completed(app: App, clock: FakeClock) -> Participant:
    user = enrolled(app)
    for _ in range(4):
        go_to_next_checkin(app, clock, user)
        do_checkin(user, PHQ, GAD)
    go_to_next_checkin(app, clock, user)
    user.play(script.closing(PHQ, GAD))
    assert user.course().state == "completed"
    return user


def test_boosters_come_one_and_three_months_after_the_closing(app: App, clock: FakeClock) -> None:
    user = _completed(app, clock)
    course = user.course()
    assert course.finished_at is not None and course.due_kind == "booster"
    assert course.due_at == course.finished_at + timedelta(days=30)
    finished = course.finished_at

    clock.set(finished + timedelta(days=30, seconds=1))
    assert run_due_timers(app) == 1
    replies = user.receive()
    assert "Hei igjen!" in replies[0].text
    assert "PHQ-2" in replies[-1].text and replies[-1].labels()[0] == "Ikke i det hele tatt"  # the short form
    assert user.course().due_at == finished + timedelta(days=91), "the next booster is due already"

    taps = 0
    while user.course().scratch.get("measure") is not None:
        answer_measure(user, [1 if taps < 4 else 0])
        taps += 1
    assert taps == 5, "PHQ-2, GAD-2 and the risk item"
    assert any("/safetyplan" in m.text for m in user.inbox[-3:]), "a look at the safety plan"
    assert user.last().labels() == ["Ja, gjerne", "Nei takk"]
    user.press("Ja, gjerne")
    assert [a.signal for a in user.alerts()][-1] == "asks_for_person", "the clinicians are told"
    assert "Takk for at du tok deg tid" in user.last().text
    course = user.course()
    assert course.state == "completed" and course.flow is None and course.week == 7

    scores = user.scores()
    assert scores.get(("phq9", 7)) is None and scores.get(("gad7", 7)) is None, "no full totals from a booster"
    assert ("phq2", 7) in scores and ("gad2", 7) in scores, "the short forms, scored as themselves"
    assert scores[("phq9", 6)] is not None, "the closing's scores are untouched"

    clock.set(finished + timedelta(days=91, seconds=1))
    run_due_timers(app)  # the booster, and the clinicians' alert re-sent (not yet acknowledged)
    assert user.course().week == 8 and user.course().due_at is None, "two boosters, then no more"


def test_boosters_off_with_an_empty_list(settings: Settings, clock: FakeClock, tmp_path: Path) -> None:
    root = tmp_path / "dialogs"
    shutil.copytree(full_forms_dialogs_dir(), root)  # the course script answers the full forms
    schedule = root / "schedule.yaml"
    schedule.write_text(schedule.read_text().replace("booster_days: [30, 91]", "booster_days: 0"))
    app = build_app(settings, clock, run_migrations=False, dialogs=DialogStore(root))
    try:
        user = _completed(app, clock)
        assert user.course().due_at is None and user.course().due_kind is None
    finally:
        app.db.dispose()


def test_no_booster_into_a_new_course_of_the_same_chat(app: App, clock: FakeClock) -> None:
    user = _completed(app, clock)
    finished = user.course().finished_at
    assert finished is not None
    first_id = user.course().id
    user.start_with_new_code("sleep", "K-2002")
    assert user.course().id != first_id and user.course().state == "intake"
    clock.set(finished + timedelta(days=30, seconds=1))
    run_due_timers(app)
    assert not any("Hei igjen!" in m.text for m in user.receive()), "the new course speaks, not the old one"
