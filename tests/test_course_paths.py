"""The paths a course can take besides the straight one."""

from __future__ import annotations

from datetime import timedelta

from bot.app import App, build_app
from bot.clock import FakeClock
from bot.config import Settings
from bot.engine.events import Event
from tests.support.participant import (
    Participant,
    answer_measure,
    do_checkin,
    do_intake,
    go_to_next_checkin,
    run_due_timers,
)

PHQ = [1, 1, 1, 1, 1, 1, 1, 1, 0]
GAD = [1, 1, 1, 1, 1, 1, 1]


def enrolled(app: App, chat_id: int = 1001, locale: str = "nb") -> Participant:
    user = Participant(app, chat_id=chat_id, language=locale)
    user.start_with_new_code("depression", f"K-{chat_id}")
    do_intake(user, locale, PHQ, GAD)
    return user


def test_skipped_homework_keeps_continuity(app: App, clock: FakeClock) -> None:
    user = enrolled(app)
    go_to_next_checkin(app, clock, user)
    answer_measure(user, PHQ)
    answer_measure(user, GAD)
    user.press("Nei, ikke denne gangen")
    assert "helt i orden" in user.texts()[-2]
    assert "Også små ting teller" in user.last().text
    user.send("Jeg leste litt i del 1")
    user.send("Mye på jobb")
    assert "mindre mål" in user.texts()[-2]
    user.press("Ja, ring meg gjerne")
    assert "én liten ting" in user.last().text
    user.send("Lese del 2 på søndag")
    answers = user.answers()
    assert answers["homework_done"] == "no"
    assert answers["homework_managed"] == "Jeg leste litt i del 1"
    assert answers["wants_call"] == "yes"
    assert answers["week_goals"] == "Lese del 2 på søndag"
    assert user.course().state == "active" and user.course().week == 3
    assert [a.signal for a in user.alerts()] == ["asks_for_person"]
    assert not any("skuff" in t.lower() or "burde" in t.lower() for t in user.texts())


def test_reminders_then_dropout_after_two_missed_weeks(app: App, clock: FakeClock) -> None:
    user = enrolled(app)
    go_to_next_checkin(app, clock, user)
    opened = clock.now()
    clock.set(opened + timedelta(hours=24, seconds=1))
    run_due_timers(app)
    assert "påminnelse" in user.receive()[0].text
    clock.set(opened + timedelta(hours=72, seconds=1))
    run_due_timers(app)
    assert "fortsatt åpen" in user.receive()[0].text
    clock.set(opened + timedelta(days=7, seconds=1))
    run_due_timers(app)
    restarted = user.receive()
    assert "ble ikke noe av" in restarted[0].text
    assert user.course().state == "checkin" and user.course().missed_weeks == 1
    clock.set(opened + timedelta(days=14, seconds=2))
    while run_due_timers(app):
        pass
    user.receive()
    course = user.course()
    assert course.state == "dropout_eval" and course.missed_weeks == 2
    assert [a.signal for a in user.alerts()] == ["missed_checkin", "disengagement"]
    user.press("Ja, det går fint")
    user.press("Nesten ingenting")
    answer_measure(user, PHQ)  # the full forms at dropout
    answer_measure(user, GAD)
    user.press("Jeg hadde ikke tid")
    user.press("Omtrent som før")
    user.send("Travelt")
    user.send("Kortere økter")
    assert user.course().state == "dropped_out"
    answers = user.answers()
    assert answers["dropout_reason"] == "time" and answers["dropout_would_help"] == "Kortere økter"
    user.send("/resume")
    assert user.course().state == "active"


def test_pause_stops_the_schedule_and_resume_picks_up(app: App, clock: FakeClock) -> None:
    user = enrolled(app)
    due = user.course().due_at
    assert due is not None
    user.send("/pause")
    assert user.course().state == "paused"
    clock.set(due + timedelta(days=10))
    assert run_due_timers(app) == 0
    assert user.receive() == []
    user.send("Hei")
    assert "pause" in user.last().text
    user.send("/resume")
    course = user.course()
    assert course.state == "active" and course.due_at is not None and course.due_at > clock.now()
    go_to_next_checkin(app, clock, user)
    assert user.course().state == "checkin"


def test_pause_mid_checkin_resumes_at_the_same_question(app: App, clock: FakeClock) -> None:
    user = enrolled(app)
    go_to_next_checkin(app, clock, user)
    answer_measure(user, PHQ[:4])
    question = user.last().text
    user.send("/pause")
    user.send("/resume")
    assert user.last().text == question
    assert user.course().state == "checkin"


def test_restart_mid_checkin_resumes_at_the_same_step(settings: Settings, clock: FakeClock) -> None:
    first = build_app(settings, clock, run_migrations=False)
    user = enrolled(first)
    go_to_next_checkin(first, clock, user)
    answer_measure(user, PHQ)
    answer_measure(user, GAD)
    user.press("Ja")
    user.send("Del 1")
    step_before = user.course().step
    first.db.dispose()

    second = build_app(settings, clock, run_migrations=False)
    again = Participant(second, chat_id=user.chat_id)
    assert again.course().step == step_before == "times"
    again.press_data(f"s:{again.course().ask_seq}:1")
    assert again.answers()["homework_times"] == "2"
    assert again.course().step == "relevant"
    second.db.dispose()


def test_free_text_where_a_choice_is_expected_is_asked_again(app: App) -> None:
    user = Participant(app)
    user.start_with_new_code()
    replies = user.send("kanskje?")
    assert "Trykk på en av knappene" in replies[0].text
    assert "1. Ja, vi fortsetter" in replies[0].text
    assert replies[-1].labels() == ["Ja, vi fortsetter", "Nei, ikke nå"]
    assert user.course().step == "consent"
    user.send("1")
    assert user.course().step == "age"
    user.send("30–49")
    assert user.course().step == "impact"


def test_measure_answers_by_number_or_label(app: App) -> None:
    user = Participant(app)
    user.start_with_new_code()
    for label in ("Ja, vi fortsetter", "30–49", "En del"):
        user.press(label)
    user.send("1")  # a typed number is the option's position: 1 is "Ikke i det hele tatt" (0)
    user.send("Noen dager")
    user.send("7")
    assert "Trykk på en av knappene" in user.texts()[-2]
    course = user.course()
    assert course.scratch["measure"]["values"]["phq9"] == {"interest": 0, "mood": 1}


def test_time_is_understood_in_common_forms(app: App) -> None:
    user = enrolled(app)
    assert user.course().checkin_time == "18:30"


def test_wrong_code_gets_a_kind_reply_and_no_course(app: App) -> None:
    user = Participant(app)
    replies = user.send("/start ABC-DEF-GHJ")
    assert "fant ikke" in replies[0].text
    user.send("/plan")
    assert "tilgangskoden" in user.last().text


def test_stickers_edits_and_odd_input_never_break_the_course(app: App) -> None:
    user = Participant(app)
    user.start_with_new_code()
    app.handle(Event("unsupported", user.chat_id, user.chat_id, language="nb"))
    replies = user.receive()
    assert "bare lese tekst" in replies[0].text and replies[-1].labels()
    app.handle(Event("edited", user.chat_id, user.chat_id, language="nb"))
    assert "endret" in user.receive()[0].text
    user.send("\u202e\u0000🙂 ̶ z̷a̸l̵g̷o̶")
    user.send("x" * 10_000)
    assert user.course().step == "consent"


def test_language_switch_changes_every_following_text(app: App) -> None:
    user = Participant(app)
    user.start_with_new_code()
    user.send("/language")
    user.press("English")
    assert user.course().locale == "en"
    assert user.last().labels() == ["Yes, let's go on", "No, not now"]


def test_a_stale_button_changes_nothing(app: App) -> None:
    user = Participant(app)
    user.start_with_new_code()
    stale = user.last_with_buttons().buttons[0]["data"]
    user.press("Ja, vi fortsetter")
    step = user.course().step
    user.press_data(stale)
    assert user.course().step == step
    assert user.answers() == {"consent": "yes"}


def test_plan_shows_goals_schedule_and_progress(app: App, clock: FakeClock) -> None:
    user = enrolled(app)
    go_to_next_checkin(app, clock, user)
    do_checkin(user, PHQ, GAD)
    user.send("/plan")
    text = user.last().text
    assert "Sove bedre" in text and "torsdag" in text and "Tirsdag kveld: del 3" in text
    assert "Samtaler så langt: 1" in text


def test_checkin_command_starts_the_week_early(app: App, clock: FakeClock) -> None:
    user = enrolled(app)
    clock.advance(days=3)  # past the first gap (schedule.yaml), before the chosen Thursday 18.30
    due = user.course().due_at
    assert due is not None and due > clock.now()
    user.send("/checkin")
    assert user.course().state == "checkin"
    assert "uke 2" in user.texts()[-1]  # one message: the intro with the first question (issue 11)


def test_risk_words_instead_of_an_answer_get_care_not_a_correction(app: App, clock: FakeClock) -> None:
    user = enrolled(app)
    clock.advance(days=3)  # past the first gap (schedule.yaml: first_checkin_min_days)
    user.send("/checkin")
    replies = user.send("jeg orker ikke å leve mer")
    assert "113" in replies[0].text and "116 123" in replies[0].text
    assert not any("fikk jeg ikke helt med meg" in m.text for m in replies)
    assert replies[-1].labels() == ["Fortsett nå", "Senere"]  # a pause after the crisis message
    assert user.press("Fortsett nå")[-1].labels()[0] == "Ikke i det hele tatt"
    assert [a.signal for a in user.alerts()] == ["risk_words"]
