"""/assign LABEL NAME: move a case to another clinician (NAME as registered by /invite)."""

from __future__ import annotations

from bot.clinicians.access import clinicians_named, may_assign
from bot.clinicians.care import find_case
from bot.clinicians.desk import Desk


def assign_case(desk: Desk, args: str) -> None:
    words = args.split(maxsplit=1)
    if len(words) < 2:
        desk.reply("owners.assign_usage")
        return
    course = find_case(desk, words[0], "assign")
    if course is None:
        return
    if not may_assign(desk.clinician, course, desk.covering()):
        desk.audit("case_assign_refused", course.label)
        desk.reply("owners.not_yours", label=course.label)
        return
    found = clinicians_named(desk.session, words[1])
    if not found:
        desk.reply("owners.assign_unknown", name=words[1].strip())
        return
    if len(found) > 1:
        desk.reply("owners.assign_ambiguous", name=words[1].strip())
        return
    owner = found[0]
    was = course.clinician_id
    course.clinician_id = owner.id
    desk.session.add(course)
    desk.audit("case_assigned", course.label, from_clinician=was, to_clinician=owner.id)
    desk.reply("owners.assigned", label=course.label, name=owner.name)
    if owner.id != desk.clinician.id:
        desk.send(
            desk.text("owners.assigned_to_you", label=course.label, by=desk.clinician.name), chat_id=owner.telegram_id
        )
