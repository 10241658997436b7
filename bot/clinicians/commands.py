"""Clinician commands in Telegram. Anyone else gets 'not available'.

The engine offers every event here first. A clinician's command, an alert or
close button, or a message in a group is handled here; everything else goes on
to the engine. The refusal is the same whatever the arguments, so it tells
nobody whether a case label exists.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.clinicians import alerts, care, cover, messages
from bot.clinicians.assign import assign_case
from bot.clinicians.cases import show_alert_case, show_case, show_cases
from bot.clinicians.desk import Desk, active_clinician
from bot.clinicians.invites import PREFIX, invite_command, redeem_invite
from bot.clinicians.newcode import new_code
from bot.clinicians.views import views_command
from bot.dashboard.command import dashboard_command
from bot.engine.codes import audit, looks_like_code
from bot.engine.events import Event
from bot.engine.reading import read_text
from bot.engine.turn import Turn
from bot.storage.models import Course

Command = Callable[[Desk, str], None]


def _case(desk: Desk, args: str) -> None:
    course = care.find_case(desk, args, "case")
    if course is not None:
        show_case(desk, course)


COMMANDS: dict[str, Command] = {
    "newcode": new_code,
    "assign": assign_case,
    "cases": show_cases,
    "case": _case,
    "alerts": lambda desk, _args: alerts.list_alerts(desk),
    "ack": alerts.ack_command,
    "pause": care.pause_case,
    "resume": care.resume_case,
    "checkin": care.checkin_case,
    "close": care.close_case,
    "invite": invite_command,
    "dashboard": dashboard_command,
    "msg": messages.msg_command,
    "seen": messages.seen_command,
    "away": cover.away_command,
    "back": cover.back_command,
    "views": views_command,
}
# Users have these too, without arguments; with a label they are a clinician's.
SHARED_WITH_USERS = ("pause", "resume", "checkin")
# What works in the clinicians' team chat; the rest only in a private chat.
TEAM_COMMANDS = ("alerts", "ack")
BUTTON_PREFIXES = ("a:", "c:", "q:")


def is_clinician_command(command: str, args: str) -> bool:
    return command in COMMANDS and (command not in SHARED_WITH_USERS or bool(args.strip()))


def clinician_turn(turn: Turn) -> bool:
    """Handle the turn if it is a clinician's; False lets the engine go on with it."""
    event = turn.event
    if turn.course is not None and not _may_be_for_clinicians(event):
        return False
    clinician = active_clinician(turn.session, event.from_id)
    if event.kind == "button" and event.data.startswith(BUTTON_PREFIXES):
        if clinician is None:
            _refuse(turn, event.data.split(":", 1)[0])
        else:
            _button(Desk(turn, clinician))
        return True
    if event.is_group:
        if clinician is None:
            return False
        _group(Desk(turn, clinician))
        return True
    if event.kind == "command" and event.command == "start" and event.args.startswith(PREFIX):
        redeem_invite(turn, event.args.removeprefix(PREFIX).strip())
        return True
    if event.kind == "command" and is_clinician_command(event.command, event.args):
        if clinician is None:
            _refuse(turn, event.command)
        else:
            COMMANDS[event.command](Desk(turn, clinician), event.args)
        return True
    return clinician is not None and _clinician_default(Desk(turn, clinician))


def _clinician_default(desk: Desk) -> bool:
    """A clinician with no course of their own gets their help, not the user's intake."""
    event = desk.turn.event
    if desk.turn.course is not None:
        return False
    if event.kind == "command" and event.command == "start" and event.args:
        return False
    if event.kind == "text" and looks_like_code(event.text):
        return False
    if event.kind not in ("command", "text"):
        return False
    desk.reply("clinician.help")
    return True


def _group(desk: Desk) -> None:
    """In a group, only the team chat's alert commands; chatter is left alone."""
    event = desk.turn.event
    if event.kind != "command" or not (event.command in COMMANDS or event.command == "help"):
        return
    if event.command in TEAM_COMMANDS and event.chat_id == desk.turn.config.clinician_chat_id:
        COMMANDS[event.command](desk, event.args)
    else:
        desk.reply("clinician.private_only")


def _button(desk: Desk) -> None:
    event = desk.turn.event
    parts = event.data.split(":")
    notice = desk.text("common.stale_button")
    if len(parts) == 3 and parts[:2] == ["a", "ack"] and parts[2].isdigit():
        notice = alerts.ack_button(desk, int(parts[2]))
    elif len(parts) == 3 and parts[:2] == ["a", "case"] and parts[2].isdigit():
        if show_alert_case(desk, int(parts[2]), chat_id=event.from_id):
            notice = desk.text("clinician.case.sent_privately") if event.is_group else ""
    elif len(parts) == 3 and parts[:2] == ["q", "seen"] and parts[2].isdigit():
        notice = messages.seen_button(desk, int(parts[2]))
    elif len(parts) == 4 and parts[:2] == ["c", "close"] and parts[2].isdigit() and parts[3] in care.NEXT_STEPS:
        course = desk.session.get(Course, int(parts[2]), with_for_update=True)
        if course is not None:
            care.close_with(desk, course, parts[3])
            notice = ""
            if event.message_id is not None:
                desk.turn.out.clear_buttons(
                    event.chat_id, event.message_id, desk.text(f"clinician.next_step.{parts[3]}")
                )
    if event.callback_id:
        desk.turn.out.answer_callback(event.chat_id, event.callback_id, notice)


def _may_be_for_clinicians(event: Event) -> bool:
    """Whether an event from someone on a course could still be a clinician's."""
    if event.is_group:
        return True
    if event.kind == "button":
        return event.data.startswith(BUTTON_PREFIXES)
    if event.kind != "command":
        return False
    return is_clinician_command(event.command, event.args) or (
        event.command == "start" and event.args.startswith(PREFIX)
    )


def _refuse(turn: Turn, what: str) -> None:
    """The same 'not available' for every refused command or button, whatever its arguments.

    What a person wrote after the command ("/checkin jeg vil dø") is still read for risk first.
    """
    audit(turn.session, turn.now, "anonymous", "clinician_command_refused", None, command=what)
    event = turn.event
    if event.kind == "button" and event.callback_id:
        turn.out.answer_callback(event.chat_id, event.callback_id, turn.text("clinician.not_available"))
        return
    if event.kind == "command" and event.args:
        read_text(turn, event.args)
    if not turn.told_crisis:  # after the crisis text, "not available" would jar
        turn.say("clinician.not_available")
