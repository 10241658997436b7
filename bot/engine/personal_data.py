"""What a user may see of their own data, and how they erase it."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import col, delete, select, update

from bot.engine import policy
from bot.engine.codes import audit
from bot.engine.turn import Turn
from bot.storage.models import AccessCode, Alert, Answer, AuditEntry, InboxItem, OutboxItem, Score


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def export_data(turn: Turn) -> dict[str, Any]:
    course = turn.course
    assert course is not None and course.id is not None
    session = turn.session
    answers = session.exec(select(Answer).where(Answer.course_id == course.id).order_by(col(Answer.id))).all()
    scores = session.exec(select(Score).where(Score.course_id == course.id).order_by(col(Score.week))).all()
    alerts = session.exec(select(Alert).where(Alert.course_id == course.id)).all()
    fields = (
        "label",
        "program",
        "locale",
        "timezone",
        "state",
        "week",
        "checkin_weekday",
        "checkin_time",
        "started_at",
        "last_activity_at",
        "last_checkin_at",
        "finished_at",
        "due_at",
    )
    return {
        "course": {name: _iso(getattr(course, name)) for name in fields},
        "answers": [
            {"week": a.week, "flow": a.flow, "key": a.key, "value": a.value, "at": _iso(a.created_at)} for a in answers
        ],
        "scores": [
            {"week": s.week, "instrument": s.instrument, "total": s.total, "items": s.items, "at": _iso(s.created_at)}
            for s in scores
        ],
        "alerts": [
            {
                "signal": a.signal,
                "level": a.level,
                "week": a.week,
                "at": _iso(a.created_at),
                "acknowledged_at": _iso(a.acknowledged_at),
            }
            for a in alerts
        ],
    }


def export(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    data = json.dumps(export_data(turn), ensure_ascii=False, indent=2).encode()
    turn.out.document(
        turn.chat_id, data, f"guidebot-{course.label}.json", turn.text("mydata.caption"), course_id=course.id
    )
    audit(turn.session, turn.now, "user", "data_exported", course.label)


def ask_delete(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    course.ask_seq += 1
    seq = course.ask_seq
    buttons = [
        [
            {"text": turn.text("delete.yes"), "data": f"d:y:{seq}"},
            {"text": turn.text("delete.no"), "data": f"d:n:{seq}"},
        ]
    ]
    text = turn.text("delete.confirm")
    if open_alerts(turn):
        text = f"{text}\n\n{turn.text('chain.delete_alert_stays')}"
    turn.send(text, buttons=buttons)


def open_alerts(turn: Turn) -> list[Alert]:
    """The course's alerts no clinician has acknowledged yet: /delete leaves them until someone has."""
    course = turn.course
    if course is None or course.id is None:
        return []
    query = select(Alert).where(Alert.course_id == course.id, col(Alert.acknowledged_at).is_(None))
    return list(turn.session.exec(query).all())


def on_delete_button(turn: Turn, rest: str) -> None:
    course = turn.course
    assert course is not None
    choice, _, seq = rest.partition(":")
    if seq != str(course.ask_seq):
        turn.stale_button()
        return
    turn.ack_button()
    if choice == "y":
        keeps_alert = bool(open_alerts(turn))
        erase(turn)
        turn.course = None
        text = turn.text("delete.done")
        if keeps_alert:
            text = f"{text}\n\n{turn.text('chain.delete_alert_stays')}"
        turn.send(text)
    else:
        course.ask_seq += 1
        turn.say("delete.cancelled")
        policy.reask(turn)


def erase(turn: Turn) -> None:
    """Remove everything about the course; keep one audit line with no label."""
    course = turn.course
    assert course is not None and course.id is not None
    session = turn.session
    course_id, label, chat_id = course.id, course.label, course.chat_id
    session.exec(delete(Answer).where(col(Answer.course_id) == course_id))
    session.exec(delete(Score).where(col(Score.course_id) == course_id))
    # An alert no clinician has seen stays, under the case label, until someone acknowledges it.
    session.exec(
        update(Alert)
        .where(col(Alert.course_id) == course_id, col(Alert.acknowledged_at).is_(None))
        .values(course_id=None, chat_id=None)
    )
    session.exec(delete(Alert).where(col(Alert.course_id) == course_id))
    session.exec(delete(OutboxItem).where(col(OutboxItem.course_id) == course_id, col(OutboxItem.sent_at).is_(None)))
    session.exec(update(OutboxItem).where(col(OutboxItem.course_id) == course_id).values(course_id=None))
    if chat_id is not None:
        session.exec(update(InboxItem).where(col(InboxItem.chat_id) == chat_id).values(payload={}))
    session.exec(update(AuditEntry).where(col(AuditEntry.subject) == label).values(subject=None))
    session.exec(delete(AccessCode).where(col(AccessCode.label) == label))
    session.delete(course)
    session.flush()
    audit(session, turn.now, "user", "data_deleted", None)
