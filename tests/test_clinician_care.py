"""A clinician pauses, resumes, starts a check-in and closes a case by its label."""

from __future__ import annotations

from datetime import timedelta

from bot.app import App
from bot.clock import FakeClock
from bot.storage.db import transaction
from bot.storage.models import Course
from tests.support.clinician import Colleague, audit_actions
from tests.support.participant import Participant, do_intake, run_due_timers


def _active(app: App, kari: Colleague, chat_id: int = 1001, label: str = "K-1001", language: str = "nb") -> Participant:
    user = kari.enrol(chat_id, label, language=language)
    do_intake(user, language, [1, 1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1])
    user.receive()
    kari.receive()
    assert user.course().state == "active"
    return user


def test_pause_and_resume_by_label_tell_the_user_in_their_language(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = _active(app, kari, language="en")

    reply = kari.send("/pause K-1001")
    assert reply[-1].text.startswith("K-1001 er satt på pause. Brukeren har fått beskjed")
    assert user.course().state == "paused"
    assert [m.text for m in user.receive()] == [
        "Your course is paused. Nothing will be sent to you until you type /resume."
    ]
    assert "kan ikke settes på pause nå. Saken står som: På pause." in kari.send("/pause K-1001")[-1].text

    clock.advance(days=10)
    assert run_due_timers(app) == 0, "no check-in while paused"
    kari.send("/resume K-1001")
    assert user.course().state == "active"
    assert user.receive()[0].text.startswith("Welcome back")
    assert kari.inbox[-1].text.startswith("K-1001 er i gang igjen")
    assert "står ikke på pause nå" in kari.send("/resume K-1001")[-1].text

    actions = [(a.actor, a.action) for a in audit_actions(app) if a.action.startswith("case_")]
    assert actions == [("clinician:1", "case_paused"), ("clinician:1", "case_resumed")]


def test_checkin_by_label_starts_the_users_next_checkin_now(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    user = _active(app, kari)
    reply = kari.send("/checkin K-1001")
    assert reply[-1].text.startswith("Samtalen for uke 2 er startet for K-1001")
    course = user.course()
    assert course.state == "checkin" and course.week == 2
    first = user.receive()
    assert first[0].text.startswith("Hei! Nå er det tid for samtalen i uke 2")
    assert "\nPHQ-9 (1/9)\n" in first[-1].text  # one message: the intro and the first question (issue 11)
    assert "Jeg kan ikke starte en samtale for K-1001 akkurat nå" in kari.send("/checkin K-1001")[-1].text
    assert "Ukesamtale pågår" in kari.inbox[-1].text


def test_a_clinician_reaches_a_user_who_dropped_out(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = _active(app, kari)
    with transaction(app.db) as session:
        course = session.get(Course, user.course().id)
        assert course is not None
        course.state = "dropped_out"
    kari.send("/checkin K-1001")
    assert user.course().state == "checkin"


def test_close_records_the_next_step_of_stepped_care(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    user = _active(app, kari)
    ask = kari.send("/close K-1001")[-1]
    assert ask.text.startswith("Hva er neste steg for K-1001?")
    assert ask.labels() == [
        "Ingen videre oppfølging",
        "Kurs eller gruppe",
        "Samtalebehandling",
        "Henvist videre (loshjelp)",
    ]
    kari.press("Samtalebehandling", ask)
    assert kari.inbox[-1].text == "K-1001 er avsluttet. Neste steg: Samtalebehandling."
    course = user.course()
    assert (course.state, course.next_step_of_care, course.due_at) == ("closed", "therapy", None)
    assert user.receive()[-1].text.startswith("Veilederen din har avsluttet kurset")
    assert kari.send("/close K-1001")[-1].text == "K-1001 er allerede avsluttet. Neste steg: Samtalebehandling."
    closed = [a for a in audit_actions(app) if a.action == "case_closed"]
    assert [(a.subject, a.detail) for a in closed] == [("K-1001", {"next_step": "therapy", "from_state": "active"})]
    assert "K-1001" not in kari.send("/cases")[-1].text, "closed cases leave the caseload"
    assert user.send("hei")[-1].text.startswith("Veilederen din har avsluttet kurset")


def test_close_can_name_the_next_step_directly(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    user = _active(app, kari)
    kari.send("/close K-1001 referral")
    assert user.course().next_step_of_care == "referral"
    assert "Henvist videre" in kari.send("/case K-1001")[0].text


def test_a_finished_course_closes_without_a_goodbye_twice(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = _active(app, kari)
    with transaction(app.db) as session:
        course = session.get(Course, user.course().id)
        assert course is not None
        course.state = "completed"
    kari.send("/close K-1001 group")
    assert user.receive() == []
    assert user.course().state == "closed"


def test_care_commands_explain_their_use(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    assert kari.send("/close")[-1].text == "Skriv /close og merkelappen til saken, for eksempel /close K-1234."
    assert kari.send("/checkin K-404")[-1].text.startswith("Jeg finner ingen sak med merkelappen K-404")


def test_a_course_closes_a_year_after_the_last_activity(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = _active(app, kari)
    kari.send("/pause K-1001")
    last = user.course().last_activity_at
    clock.set(last + timedelta(days=364))
    run_due_timers(app)
    assert user.course().state == "paused"
    clock.set(last + timedelta(days=365, seconds=1))
    run_due_timers(app)
    course = user.course()
    assert course.state == "closed" and course.scratch["closed_from"] == "paused"
    expired = [a for a in audit_actions(app) if a.action == "course_expired"]
    assert [(a.actor, a.subject) for a in expired] == [("engine", "K-1001")]
