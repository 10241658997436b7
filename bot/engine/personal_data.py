"""What a user may see of their own data, and how they erase it.

`/mydata` exports every course the chat has had. `/delete` erases everything that
is the person's: every course of the chat with its answers, scores, plan and safety
plan, the access codes, every outbox row to the chat or about its courses (sent or
not: exports, texts that quote them, the clinicians' case views), and the alerts.

Two things stay. An anonymous `data_deleted` audit line. And an alert no clinician
has acknowledged yet: it stays, with the words that raised it, so that a call for
help is never lost; acknowledging it erases it and every message about it
(`finish_erasure`). After the commit, SQLite's write-ahead log is emptied, so no
old copy of a page stays in the files (docs/privacy.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, delete, select, update

from bot.dialogs.context import store_keys
from bot.dialogs.evidence import render_all
from bot.engine import policy
from bot.engine.codes import audit
from bot.engine.turn import Turn
from bot.storage.db import scrub_after_commit
from bot.storage.models import (
    AccessCode,
    Alert,
    Answer,
    AuditEntry,
    Clinician,
    Course,
    InboxItem,
    Message,
    OutboxItem,
    Score,
)

COURSE_FIELDS = (
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
# Quoted text shorter than this is not looked for in clinicians' messages ("ja", "3").
MIN_QUOTE = 8


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


# -- what is the person's ------------------------------------------------------------


def chat_courses(session: Session, course: Course) -> list[Course]:
    """Every course the chat has had, oldest first (just `course` for one with no chat)."""
    if course.chat_id is None:
        return [course]
    query = select(Course).where(Course.chat_id == course.chat_id).order_by(col(Course.id))
    return list(session.exec(query).all())


def _chat_alerts(session: Session, course_ids: Sequence[int], chat_id: int | None) -> list[Alert]:
    """The alerts of the courses, and those the chat raised before a code was redeemed."""
    mine: ColumnElement[bool] = col(Alert.course_id).in_(course_ids)
    if chat_id is not None:
        mine = or_(mine, (col(Alert.course_id).is_(None)) & (col(Alert.chat_id) == chat_id))
    return list(session.exec(select(Alert).where(mine, col(Alert.erased_at).is_(None)).order_by(col(Alert.id))).all())


def open_alerts(turn: Turn) -> list[Alert]:
    """The chat's alerts no clinician has acknowledged yet: /delete leaves them until someone has."""
    course = turn.course
    if course is None or course.id is None:
        return []
    ids = [c.id for c in chat_courses(turn.session, course) if c.id is not None]
    return [a for a in _chat_alerts(turn.session, ids, course.chat_id) if a.acknowledged_at is None]


# -- /mydata ----------------------------------------------------------------------------


def _alert_data(turn: Turn, alert: Alert) -> dict[str, Any]:
    return {
        "signal": alert.signal,
        "level": alert.level,
        "week": alert.week,
        "at": _iso(alert.created_at),
        "acknowledged_at": _iso(alert.acknowledged_at),
        "evidence": render_all(turn.renderer, turn.locale, alert.evidence),
        "messages": [
            {"text": m.get("text"), "at": m.get("at"), "edited": bool(m.get("edited"))} for m in alert.messages
        ],
    }


def _course_data(turn: Turn, course: Course) -> dict[str, Any]:
    session = turn.session
    answers = session.exec(select(Answer).where(Answer.course_id == course.id).order_by(col(Answer.id))).all()
    scores = session.exec(select(Score).where(Score.course_id == course.id).order_by(col(Score.week))).all()
    alerts = session.exec(select(Alert).where(Alert.course_id == course.id).order_by(col(Alert.id))).all()
    messages = session.exec(select(Message).where(Message.course_id == course.id).order_by(col(Message.id))).all()
    return {
        "course": {name: _iso(getattr(course, name)) for name in COURSE_FIELDS},
        "answers": [
            {"week": a.week, "flow": a.flow, "key": a.key, "value": a.value, "at": _iso(a.created_at)} for a in answers
        ],
        "scores": [
            {"week": s.week, "instrument": s.instrument, "total": s.total, "items": s.items, "at": _iso(s.created_at)}
            for s in scores
        ],
        "alerts": [_alert_data(turn, a) for a in alerts],
        "messages": [{"direction": m.direction, "text": m.text, "at": _iso(m.created_at)} for m in messages],
    }


def export_data(turn: Turn) -> dict[str, Any]:
    """The current course at the top, the chat's earlier courses (oldest first) beneath it."""
    course = turn.course
    assert course is not None and course.id is not None
    session = turn.session
    earlier = [c for c in chat_courses(session, course) if c.id != course.id]
    before_code: list[Alert] = []
    if course.chat_id is not None:
        query = select(Alert).where(col(Alert.course_id).is_(None), Alert.chat_id == course.chat_id)
        before_code = list(session.exec(query.order_by(col(Alert.id))).all())
    return {
        **_course_data(turn, course),
        "earlier_courses": [_course_data(turn, c) for c in earlier],
        "alerts_before_a_code": [_alert_data(turn, a) for a in before_code],
    }


def export(turn: Turn) -> None:
    course = turn.course
    assert course is not None
    data = json.dumps(export_data(turn), ensure_ascii=False, indent=2).encode()
    turn.out.document(
        turn.chat_id, data, f"guidebot-{course.label}.json", turn.text("mydata.caption"), course_id=course.id
    )
    audit(turn.session, turn.now, "user", "data_exported", course.label)


# -- /delete ----------------------------------------------------------------------------


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


def on_delete_button(turn: Turn, rest: str) -> None:
    course = turn.course
    assert course is not None
    choice, _, seq = rest.partition(":")
    if seq != str(course.ask_seq):
        turn.stale_button()
        return
    turn.ack_button()
    if choice == "y":
        text = turn.text("delete.done")  # in the course's language, while there is one
        if open_alerts(turn):
            text = f"{text}\n\n{turn.text('chain.delete_alert_stays')}"
        erase(turn)
        turn.course = None
        turn.send(text)
    else:
        course.ask_seq += 1
        turn.say("delete.cancelled")
        policy.reask(turn)


def erase(turn: Turn) -> None:
    """Erase every course of the chat and all about it; keep one audit line with no label."""
    course = turn.course
    assert course is not None and course.id is not None
    session, now, chat_id = turn.session, turn.now, course.chat_id
    courses = chat_courses(session, course)
    ids = [c.id for c in courses if c.id is not None]
    labels = [c.label for c in courses]
    alerts = _chat_alerts(session, ids, chat_id)
    kept = [a for a in alerts if a.acknowledged_at is None]
    gone = [a for a in alerts if a.acknowledged_at is not None]
    quotes = _answer_texts(session, ids, store_keys(turn.dialogs)) | _alert_texts(alerts) | _message_texts(session, ids)
    since = min([c.started_at for c in courses] + [a.created_at for a in alerts])

    _erase_outbox(session, chat_id, ids, [a.id for a in gone if a.id is not None], kept)
    _erase_quotes(session, turn.config.clinician_chat_id, quotes, since, labels=labels)
    session.exec(delete(Answer).where(col(Answer.course_id).in_(ids)))
    session.exec(delete(Score).where(col(Score.course_id).in_(ids)))
    session.exec(delete(Message).where(col(Message.course_id).in_(ids)))
    for alert in kept:  # it stays, under the case label, until someone acknowledges it
        alert.course_id = None
        alert.chat_id = None
        alert.erased_at = now
    for alert in gone:
        session.delete(alert)
    if chat_id is not None:  # a processed update keeps only its id; one still pending is yet to be read
        processed = (col(InboxItem.chat_id) == chat_id) & col(InboxItem.processed_at).is_not(None)
        session.exec(update(InboxItem).where(processed).values(payload={}))
    session.exec(update(AuditEntry).where(col(AuditEntry.subject).in_(labels)).values(subject=None))
    session.exec(delete(AccessCode).where(col(AccessCode.label).in_(labels)))
    session.flush()
    for each in courses:
        session.delete(each)
    session.flush()
    audit(session, now, "user", "data_deleted", None, courses=len(courses), alerts_kept=len(kept))
    scrub_after_commit(session)


def finish_erasure(session: Session, now: datetime, alert: Alert, team_chat: int | None) -> bool:
    """An alert kept after /delete has been acknowledged: erase it and every message about it.

    Returns False (and does nothing) for an alert whose person has not erased their data.
    """
    if alert.erased_at is None or alert.id is None:
        return False
    session.exec(delete(OutboxItem).where(col(OutboxItem.alert_id) == alert.id))
    _erase_quotes(session, team_chat, _alert_texts([alert]), alert.created_at)
    for line in session.exec(select(AuditEntry).where(AuditEntry.subject == alert.label)).all():
        if line.detail.get("alert_id") == alert.id:
            line.subject = None
    session.delete(alert)
    session.flush()
    audit(session, now, "engine", "alert_erased", None)
    scrub_after_commit(session)
    return True


# -- the pieces of an erasure -------------------------------------------------------------


def _erase_outbox(
    session: Session, chat_id: int | None, course_ids: list[int], gone: list[int], kept: list[Alert]
) -> None:
    """Rows to the chat or about its courses and erased alerts go, sent or not. A kept alert's
    copies still to be sent stay (they must reach a clinician); its sent copies lose their text."""
    kept_ids = [a.id for a in kept if a.id is not None]
    about: list[ColumnElement[bool]] = [col(OutboxItem.course_id).in_(course_ids), col(OutboxItem.alert_id).in_(gone)]
    if chat_id is not None:
        about.append(col(OutboxItem.chat_id) == chat_id)
    not_kept = or_(col(OutboxItem.alert_id).is_(None), col(OutboxItem.alert_id).not_in(kept_ids))
    session.exec(delete(OutboxItem).where(or_(*about), not_kept))
    if kept_ids:
        sent = select(OutboxItem).where(col(OutboxItem.alert_id).in_(kept_ids), col(OutboxItem.sent_at).is_not(None))
        for row in session.exec(sent).all():
            buttons = row.payload.get("buttons")  # the Acknowledge button is taken off later
            row.payload = {"buttons": buttons} if buttons else {}


def _erase_quotes(
    session: Session, team_chat: int | None, quotes: set[str], since: datetime, *, labels: Sequence[str] = ()
) -> None:
    """Delete messages to clinicians, since `since`, that carry no course or alert but quote the
    person (the view of an alert from a chat with no code) or name their case (the caseload)."""
    named = re.compile("|".join(rf"(?<![\w-]){re.escape(label)}(?![\w-])" for label in labels)) if labels else None
    if not quotes and named is None:
        return
    chats = set(session.exec(select(Clinician.telegram_id)).all())
    if team_chat is not None:
        chats.add(team_chat)
    query = select(OutboxItem).where(
        col(OutboxItem.chat_id).in_(chats),
        col(OutboxItem.course_id).is_(None),
        col(OutboxItem.alert_id).is_(None),
        col(OutboxItem.created_at) >= since,
    )
    for row in session.exec(query).all():
        shown = str(row.payload.get("text") or row.payload.get("caption") or "")
        if any(quote in shown for quote in quotes) or (named is not None and named.search(shown)):
            session.delete(row)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _answer_texts(session: Session, course_ids: list[int], inputs: dict[str, str]) -> set[str]:
    """What the person wrote in their own words (not the values of the buttons they pressed)."""
    rows = session.exec(select(Answer.key, Answer.value).where(col(Answer.course_id).in_(course_ids))).all()
    written = [value for key, value in rows if inputs.get(key) != "choice"]
    return {text.strip() for value in written for text in _strings(value) if len(text.strip()) >= MIN_QUOTE}


def _message_texts(session: Session, course_ids: list[int]) -> set[str]:
    rows = session.exec(select(Message.text).where(col(Message.course_id).in_(course_ids))).all()
    return {text for text in rows if text}


def _alert_texts(alerts: Iterable[Alert]) -> set[str]:
    texts = {str(m.get("text") or "").strip() for a in alerts for m in a.messages}
    return {text for text in texts if len(text) >= MIN_QUOTE}
