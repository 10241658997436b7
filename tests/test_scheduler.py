"""One scheduler round finds what is due without writing, and every channel runs the same round."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlmodel import select

from bot.app import App
from bot.channels.console import ConsoleChat
from bot.clock import FakeClock
from bot.scheduler import due_events
from bot.storage.db import transaction
from bot.storage.models import Course
from tests.support.clinician import Colleague
from tests.support.participant import Participant, do_intake, team_messages

TEAM = -1001


def test_finding_due_work_writes_nothing(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3001, "K-3001")
    do_intake(user)
    user.send("jeg orker ikke å leve mer")  # an urgent alert, re-sent in 15 minutes
    clock.advance(days=400)  # the check-in, the alert and the expiry are all due
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(str(args[2]).lstrip().split()[0].upper())

    event.listen(app.db, "before_cursor_execute", seen)
    try:
        with transaction(app.db) as session:
            found = due_events(session, clock.now(), course_ttl_days=365)
            assert not session.new and not session.dirty and not session.deleted
    finally:
        event.remove(app.db, "before_cursor_execute", seen)
    assert set(statements) - {"BEGIN"} == {"SELECT"}  # BEGIN IMMEDIATE: how every SQLite transaction starts
    assert sorted(e.data.partition(":")[0] or "due" for e in found) == ["alert", "due", "expire"]


def test_the_terminal_chat_resends_alerts_and_closes_expired_courses(app: App, clock: FakeClock) -> None:
    idle = Participant(app, chat_id=4041)
    idle.start_with_new_code("depression", "K-4041")
    console = ConsoleChat(app, write=lambda _line: None, chat_id=4040)
    console.send(f"/start {console.make_demo_code()}")
    console.send("jeg orker ikke å leve mer")
    before = len(team_messages(app, TEAM))
    clock.advance(minutes=16)
    console.send("/help")  # any line lets the due work run, as the Telegram process does every few seconds
    resent = team_messages(app, TEAM)[before:]
    assert len(resent) == 1 and "ikke kvittert ennå (1)" in resent[0].text

    clock.advance(days=366)
    console.send("/help")
    with transaction(app.db) as session:
        course = session.exec(select(Course).where(Course.chat_id == idle.chat_id)).one()
        assert course.state == "closed" and course.scratch["closed_from"] == "intake"
