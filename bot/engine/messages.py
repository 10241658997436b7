"""Messages between a clinician and a participant, and the clinicians' feedback queue.

A clinician's message (/msg, or the dashboard's form) is stored, sent to the person
through the outbox marked as from "your clinician" (never the clinician's name), with a
button to answer. The button opens a one-message reply step: the next text the person
writes goes to the clinician who wrote (or the case's clinician, or every clinician when
neither is known), labelled with the case label. That text is read for risk first like
every text (`core._text` calls `reading.read_text` before anything else), and it does
not move the check-in: a pending question is asked again after it.

A finished check-in puts the case in the feedback queue (`Course.feedback_due_at`); a
message to the person, or /seen, takes it out again. Audit lines never hold the text.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.engine.codes import audit
from bot.engine.cover import stand_in
from bot.engine.turn import Turn
from bot.storage.models import Clinician, Course, Message

# Button data: "m:r:<message id>" opens the reply step, "m:x" cancels it.
PREFIX = "m"
REPLYING = "reply_to"  # in Course.scratch while the reply step is open: the message answered
TO_PARTICIPANT = "to_participant"
FROM_PARTICIPANT = "from_participant"


def can_receive(course: Course) -> bool:
    """Whether the person can get a message: a chat, and a course not erased or closed for good."""
    return course.chat_id is not None and course.state != "closed" and course.anonymised_at is None


def send_to_participant(turn: Turn, course: Course, clinician: Clinician, text: str) -> Message:
    """Store the clinician's message and send it to the person, in their language, with a reply button."""
    assert course.id is not None
    message = Message(
        course_id=course.id, direction=TO_PARTICIPANT, text=text, created_at=turn.now, clinician_id=clinician.id
    )
    turn.session.add(message)
    turn.session.flush()
    was = turn.course
    turn.course = course
    turn.forget_facts()
    try:
        button = [[{"text": turn.text("messages.reply_button"), "data": f"{PREFIX}:r:{message.id}"}]]
        turn.send(turn.text("messages.from_clinician", text=text), buttons=button)
    finally:
        turn.course = was
        turn.forget_facts()
    course.feedback_due_at = None
    audit(turn.session, turn.now, f"clinician:{clinician.id}", "message_sent", course.label, message_id=message.id)
    return message


def on_button(turn: Turn, rest: str) -> bool:
    """The person's "Answer your clinician" (r:<id>) or "Cancel" (x) button; True when the
    caller should ask a pending question again (the reply step was cancelled)."""
    course = turn.course
    assert course is not None
    kind, _, ident = rest.partition(":")
    if kind == "x" and course.scratch.get(REPLYING) is not None:
        turn.ack_button(chosen=turn.text("messages.reply_cancel"))
        turn.set_scratch(REPLYING, None)
        turn.say("messages.reply_cancelled")
        return True
    message = turn.session.get(Message, int(ident)) if kind == "r" and ident.isdigit() else None
    if message is None or message.course_id != course.id or not can_receive(course):
        turn.stale_button()
        return False
    turn.ack_button(notice="")  # the button stays usable: the person may answer again later
    turn.set_scratch(REPLYING, message.id)
    cancel = [[{"text": turn.text("messages.reply_cancel"), "data": f"{PREFIX}:x"}]]
    turn.say("messages.reply_prompt", buttons=cancel)
    return False


def awaiting_reply(turn: Turn) -> bool:
    return turn.course is not None and turn.course.scratch.get(REPLYING) is not None


def take_reply(turn: Turn, text: str) -> None:
    """The reply step's text: stored, sent to the clinician, audited without the text."""
    course = turn.course
    assert course is not None and course.id is not None
    answered = turn.session.get(Message, int(course.scratch[REPLYING]))
    turn.set_scratch(REPLYING, None)
    writer = answered.clinician_id if answered is not None and answered.course_id == course.id else None
    turn.session.add(
        Message(course_id=course.id, direction=FROM_PARTICIPANT, text=text, created_at=turn.now, clinician_id=writer)
    )
    chats = reply_recipients(turn, course, writer)
    values = {"label": course.label, "text": text}
    shown = turn.renderer.render(turn.config.locale, "messages.reply_to_clinician", values)
    for chat in chats:
        turn.out.text(chat, shown, course_id=course.id)
    audit(turn.session, turn.now, "user", "message_received", course.label, recipients=len(chats))


def reply_recipients(turn: Turn, course: Course, writer: int | None) -> list[int]:
    """The clinician who wrote, else the case's clinician (either's cover while away), else every active clinician."""
    session = turn.session
    for clinician_id in (writer, course.clinician_id):
        if clinician_id is None:
            continue
        clinician = session.get(Clinician, clinician_id)
        if clinician is not None and clinician.active:
            return [stand_in(session, clinician, turn.now).telegram_id]  # or who covers while they are away
    everyone = session.exec(select(Clinician.telegram_id).where(col(Clinician.active).is_(True))).all()
    return list(dict.fromkeys(everyone))


def thread(turn: Turn, course: Course, tz: ZoneInfo, *, last: int = 20) -> list[dict[str, Any]]:
    """The newest `last` messages of the case, oldest first, as the case views show them."""
    query = select(Message).where(Message.course_id == course.id).order_by(col(Message.id).desc()).limit(last)
    rows = reversed(turn.session.exec(query).all())
    return [
        {
            "from_participant": m.direction == FROM_PARTICIPANT,
            "at": m.created_at.astimezone(tz).strftime("%d.%m.%Y %H.%M"),
            "text": m.text,
        }
        for m in rows
    ]
