"""/msg LABEL TEXT and /seen LABEL: writing to a participant, and clearing the feedback queue.

The message goes to the person through the outbox as from "your clinician"; the
clinician's name is never added (they may sign it themselves). Either command takes the
case out of the feedback queue.
"""

from __future__ import annotations

from bot.clinicians import care
from bot.clinicians.desk import Desk
from bot.engine.messages import can_receive, send_to_participant
from bot.storage.models import Course

SEEN_BUTTON = "q:seen:"


def msg_command(desk: Desk, args: str) -> None:
    course = care.find_case(desk, args, "msg")
    if course is None:
        return
    parts = args.strip().split(maxsplit=1)
    text = parts[1].strip() if len(parts) > 1 else ""
    if not text:
        desk.reply("messages.msg_usage")
        return
    write(desk, course, text)


def write(desk: Desk, course: Course, text: str) -> bool:
    """Send `text` to the person on `course`; False (and the clinician told why) if they cannot get it."""
    if not can_receive(course):
        desk.reply("messages.cannot_send", label=course.label)
        return False
    send_to_participant(desk.turn, course, desk.clinician, text)
    desk.reply("messages.sent", label=course.label, unreachable=course.unreachable)
    return True


def seen_command(desk: Desk, args: str) -> None:
    course = care.find_case(desk, args, "seen")
    if course is not None:
        desk.reply(mark_seen(desk, course), label=course.label)


def mark_seen(desk: Desk, course: Course) -> str:
    """Take the case out of the feedback queue; the key of the text that says so."""
    if course.feedback_due_at is None:
        return "messages.seen_nothing_due"
    course.feedback_due_at = None
    desk.audit("feedback_seen", course.label)
    return "messages.seen_done"


def seen_button(desk: Desk, course_id: int) -> str:
    """The digest's "Seen, no message needed" button; the short notice for the button."""
    course = desk.session.get(Course, course_id, with_for_update=True)
    if course is None:
        return desk.text("common.stale_button")
    return desk.text(mark_seen(desk, course), label=course.label)
