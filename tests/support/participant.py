"""A user who talks to the engine directly, and reads what it queues for them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from bot.app import App
from bot.clock import FakeClock
from bot.engine.codes import issue_code
from bot.engine.events import Event
from bot.scheduler import due_events
from bot.storage.db import transaction
from bot.storage.models import Alert, Answer, Course, OutboxItem, Score
from bot.storage.outbox import take_unsent
from tests.support import course_script as script


class Sent:
    def __init__(self, row: OutboxItem) -> None:
        self.kind = row.kind
        self.chat_id = row.chat_id
        self.text: str = str(row.payload.get("text") or row.payload.get("caption") or "")
        self.buttons: list[dict[str, str]] = [b for line in row.payload.get("buttons", []) for b in line]
        self.image = row.image
        self.payload = row.payload

    def labels(self) -> list[str]:
        return [b["text"] for b in self.buttons]

    def __repr__(self) -> str:
        return f"Sent({self.kind}, {self.text[:60]!r}, {self.labels()})"


class Participant:
    def __init__(self, app: App, chat_id: int = 1001, language: str | None = "nb") -> None:
        self.app = app
        self.chat_id = chat_id
        self.language = language
        self.inbox: list[Sent] = []

    # -- acting ----------------------------------------------------------------

    def send(self, text: str) -> list[Sent]:
        self.app.handle(Event.message(self.chat_id, text, language=self.language))
        return self.receive()

    def press(self, label: str) -> list[Sent]:
        message = self.last_with_buttons()
        matches = [b for b in message.buttons if b["text"] == label]
        assert matches, f"no button {label!r} in {message.labels()}"
        self.app.handle(
            Event.button(self.chat_id, matches[0]["data"], callback_id="cb", message_id=1, language=self.language)
        )
        return self.receive()

    def press_index(self, index: int) -> list[Sent]:
        message = self.last_with_buttons()
        self.app.handle(
            Event.button(
                self.chat_id, message.buttons[index]["data"], callback_id="cb", message_id=1, language=self.language
            )
        )
        return self.receive()

    def press_data(self, data: str) -> list[Sent]:
        self.app.handle(Event.button(self.chat_id, data, callback_id="cb", message_id=1, language=self.language))
        return self.receive()

    def play(self, steps: Iterable[script.Step]) -> None:
        """Do what the course script says, step by step."""
        for step in steps:
            if isinstance(step, script.Press):
                self.press(step.label)
            elif isinstance(step, script.Choose):
                self.press_index(step.index)
            elif isinstance(step, script.Type):
                self.send(step.text)
            else:
                answer_measure(self, step.values)

    def start_with_new_code(self, program: str = "depression", label: str = "K-1001") -> list[Sent]:
        with transaction(self.app.db) as session:
            issued = issue_code(session, self.app.engine.clock.now(), program=program, label=label, ttl_days=30)
        return self.send(f"/start {issued.code}")

    # -- reading ---------------------------------------------------------------

    def receive(self) -> list[Sent]:
        """Everything queued for this chat since the last call, marked delivered."""
        with transaction(self.app.db) as session:
            new = [Sent(r) for r in take_unsent(session, [self.chat_id]) if r.kind in ("text", "photo", "document")]
        self.inbox.extend(new)
        return new

    def last(self) -> Sent:
        return self.inbox[-1]

    def last_with_buttons(self) -> Sent:
        return next(m for m in reversed(self.inbox) if m.buttons)

    def texts(self) -> list[str]:
        return [m.text for m in self.inbox]

    # -- stored facts ----------------------------------------------------------

    def course(self) -> Course:
        with transaction(self.app.db) as session:
            course = session.exec(
                select(Course).where(Course.chat_id == self.chat_id).order_by(col(Course.id).desc())
            ).first()
            assert course is not None
            return course

    def answers(self) -> dict[str, Any]:
        course = self.course()
        with transaction(self.app.db) as session:
            rows = session.exec(select(Answer).where(Answer.course_id == course.id).order_by(col(Answer.id))).all()
            return {r.key: r.value for r in rows}

    def answer_rows(self) -> list[Answer]:
        course = self.course()
        with transaction(self.app.db) as session:
            return list(
                session.exec(select(Answer).where(Answer.course_id == course.id).order_by(col(Answer.id))).all()
            )

    def scores(self) -> dict[tuple[str, int], int | None]:
        course = self.course()
        with transaction(self.app.db) as session:
            rows = session.exec(select(Score).where(Score.course_id == course.id)).all()
            return {(r.instrument, r.week): r.total for r in rows}

    def alerts(self) -> list[Alert]:
        course = self.course()
        with transaction(self.app.db) as session:
            return list(session.exec(select(Alert).where(Alert.course_id == course.id).order_by(col(Alert.id))).all())


# -- the course script, played against the engine -------------------------------


def answer_measure(user: Participant, values: Sequence[int]) -> None:
    """Press each value; after a risk answer on item 9 the questionnaire pauses, so press "continue now"."""
    for value in values:
        replies = user.press_index(value)
        if replies and any(b["data"] == "r:c" for b in replies[-1].buttons):
            user.press_data("r:c")


def do_intake(
    user: Participant,
    locale: str = "nb",
    phq: Sequence[int] = script.BASELINE_PHQ,
    gad: Sequence[int] = script.BASELINE_GAD,
) -> None:
    user.play(script.intake(locale, phq, gad))


def do_checkin(user: Participant, phq: Sequence[int], gad: Sequence[int], *, did_homework: bool = True) -> None:
    user.play(script.checkin(phq, gad, did_homework=did_homework))


def go_to_next_checkin(app: App, clock: FakeClock, user: Participant) -> None:
    """Move the clock to the next check-in and let the scheduler open it."""
    course = user.course()
    assert course.due_kind == "checkin" and course.due_at is not None
    clock.set(course.due_at + timedelta(seconds=1))
    due = describe_due(app)
    assert run_due_timers(app) == 1, f"one scheduler round ran {len(due)} events, not only the check-in: {due}"
    user.receive()


def describe_due(app: App) -> list[str]:
    """What a scheduler round would run now, one line each, so an unexpected count explains itself."""
    config = app.engine.config
    digest = (config.tz, config.digest_time) if config.digest_time else None
    lines: list[str] = []
    with transaction(app.db) as session:
        now = app.engine.clock.now()
        for event in due_events(session, now, course_ttl_days=config.course_ttl_days, digest=digest):
            if event.alert_id is not None:
                alert = session.get(Alert, event.alert_id)
                assert alert is not None
                lines.append(
                    f"alert {alert.id} re-send: course {alert.course_id} week {alert.week} {alert.signal} "
                    f"({alert.level}) evidence {alert.evidence} next_resend_at {alert.next_resend_at}"
                )
            elif event.course_id is not None:
                course = session.get(Course, event.course_id)
                assert course is not None
                lines.append(
                    f"{event.kind} {event.data or ''} course {course.id} {course.label}: state {course.state} "
                    f"week {course.week} due {course.due_kind} at {course.due_at}"
                )
            else:
                lines.append(f"{event.kind} {event.data}")
    return lines


def run_due_timers(app: App) -> int:
    """One scheduler round, as the bot runs it: every due course and alert; returns how many were due."""
    return app.run_due()


def team_messages(app: App, chat_id: int) -> list[Sent]:
    with transaction(app.db) as session:
        rows = session.exec(select(OutboxItem).where(OutboxItem.chat_id == chat_id).order_by(col(OutboxItem.id))).all()
        return [Sent(r) for r in rows]
