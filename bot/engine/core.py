"""The channel-free engine: an event and a clock in, stored changes and outbox rows out.

`Engine.handle` builds the turn and routes the event: a timer to the weekly rhythm,
the alerts or the expiry; a blocked chat to the alerts; a clinician's event to the
clinician desk; and a participant's text, button or command to the module that
handles it. Each of those calls down, never back up.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.config import Settings
from bot.dialogs import contract, evidence
from bot.dialogs.store import DialogStore
from bot.engine import asking, commands, digest, messages, personal_data, policy, rhythm, weekly
from bot.engine.actions import request_contact
from bot.engine.alerts import raise_signal, resend_due
from bot.engine.codes import audit, looks_like_code
from bot.engine.crisis_pause import clear_pause, offer_continue
from bot.engine.events import EXPIRY, Event
from bot.engine.reading import read_text
from bot.engine.redeem import redeem
from bot.engine.team_chat import on_unreachable
from bot.engine.turn import Turn
from bot.storage.models import Course
from state_machines.course import FINAL


class ClinicianHandler(Protocol):
    def __call__(self, turn: Turn) -> bool: ...


# Built once: every turn runs it, and building and compiling it each time cost as much as
# running it (docs/performance.md, "The engine's turn"). By the index on chat_id.
_COURSE_FOR_CHAT = (
    select(Course)
    .where(Course.chat_id == bindparam("chat_id"))
    .order_by(col(Course.id).desc())
    .limit(1)
    .with_for_update()
)


def course_for_chat(session: Session, chat_id: int) -> Course | None:
    """The chat's newest course, locked for the rest of the turn."""
    return session.exec(_COURSE_FOR_CHAT, params={"chat_id": chat_id}).first()


class Engine:
    """Handles one event inside the caller's transaction."""

    def __init__(
        self, dialogs: DialogStore, clock: Clock, config: Settings, clinician_handler: ClinicianHandler | None = None
    ) -> None:
        self.dialogs = dialogs
        self.clock = clock
        self.config = config
        self.clinician_handler = clinician_handler

    def handle(self, session: Session, event: Event) -> Turn:
        loaded = self.dialogs.current
        turn = Turn(session, event, self.clock.now(), loaded.dialogs, loaded.renderer, self.config)
        if event.kind == "timer":
            _timer(turn)
            return turn
        if event.kind == "blocked":
            _blocked(turn)
            return turn
        if not event.is_group:
            turn.course = course_for_chat(session, event.chat_id)
        if self.clinician_handler is not None and self.clinician_handler(turn):
            return turn
        if event.is_group:
            turn.say("common.groups")
            return turn
        if turn.course is not None:
            turn.course.last_activity_at = turn.now
            turn.course.unreachable = False  # they wrote, so they no longer block the bot
        _dispatch(turn)
        return turn


# -- from the scheduler and the sender -------------------------------------------


def _timer(turn: Turn) -> None:
    event = turn.event
    if event.alert_id is not None:
        resend_due(turn, event.alert_id)
    elif event.data == EXPIRY:
        weekly.expire(turn)
    elif event.data == digest.DIGEST:
        digest.send_digests(turn)
    else:
        weekly.on_due(turn)


def _blocked(turn: Turn) -> None:
    """Telegram said the user blocked the bot: stop sending, tell the clinicians."""
    if turn.event.chat_id == turn.config.clinician_chat_id:
        on_unreachable(turn)  # the team chat refuses the bot: the admins take the alerts
        return
    course = course_for_chat(turn.session, turn.event.chat_id)
    if course is None or course.unreachable:
        return
    turn.course = course
    course.unreachable = True
    audit(turn.session, turn.now, "engine", "user_unreachable", course.label)
    raise_signal(turn, contract.UNREACHABLE, evidence.blocked())


# -- from a participant ----------------------------------------------------------


def _dispatch(turn: Turn) -> None:
    event = turn.event
    if event.kind in ("unsupported", "unreadable", "edited"):
        _not_an_answer(turn)
    elif event.kind == "command":
        if event.args:
            read_text(turn, event.args)  # "/checkin <text>": the text is read too
        _command(turn)
    elif event.kind == "button":
        _button(turn)
    else:
        _text(turn)


def _not_an_answer(turn: Turn) -> None:
    """A photo, file, voice message or edit: its caption or new text is read, but never taken as an answer."""
    event = turn.event
    if event.kind == "unreadable":
        turn.say("reading.unreadable")  # it cannot listen; always with the crisis lines
    action = read_text(turn, event.text) if event.text else "none"
    if asking.pauses(turn, action):  # the crisis message or a direct question: no course question now
        if turn.told_crisis:
            offer_continue(turn)
    elif event.kind == "edited":
        turn.say("common.edited")
    else:
        if event.kind == "unsupported":
            turn.say("common.unsupported")
        policy.reask(turn)


def _text(turn: Turn) -> None:
    text = turn.event.text
    action = read_text(turn, text)
    course = turn.course
    if messages.awaiting_reply(turn):
        _reply(turn, text, action)
        return
    if action == "none" and asking.typed_answer(turn, text):
        return
    if asking.pauses(turn, action):
        asking.pause(turn, text)  # no next question after the crisis message or a direct question
    elif course is None:
        redeem(turn, text)
    elif course.state == "paused":
        commands.hold_while_paused(turn)  # read for risk above; kept for no question until /resume
    elif turn.step() is not None:
        clear_pause(turn)
        policy.answer(turn, text=text)
    elif course.state in FINAL and looks_like_code(text):
        redeem(turn, text)
    else:
        commands.idle_reply(turn)


def _reply(turn: Turn, text: str, action: str) -> None:
    """The text after "Answer your clinician": it goes to the clinician and never moves the
    check-in; a pending question is asked again (unless the scan stopped the conversation)."""
    messages.take_reply(turn, text)
    if asking.pauses(turn, action):
        if turn.told_crisis:
            offer_continue(turn)
        return
    turn.say("messages.reply_sent")
    if turn.step() is not None:
        policy.reask(turn)


def _button(turn: Turn) -> None:
    event = turn.event
    kind, _, rest = event.data.partition(":")
    course = turn.course
    if kind == "l":
        commands.set_language(turn, rest)
    elif kind == "s" and course is not None:
        seq_text, _, index_text = rest.partition(":")
        if course.state == "paused":
            commands.hold_while_paused(turn)  # an old button while paused: it says how to go on
            return
        if seq_text != str(course.ask_seq) or not index_text.isdigit() or turn.step() is None:
            turn.stale_button()
            return
        turn.ack_button()
        if messages.awaiting_reply(turn):  # answering the check-in ends an unused reply step
            turn.set_scratch(messages.REPLYING, None)
        policy.answer(turn, button=int(index_text))
    elif kind == "w" and course is not None:
        rhythm.on_not_this_week(turn, rest)  # "not this week" in a reminder
    elif kind == messages.PREFIX and course is not None:
        if messages.on_button(turn, rest) and turn.step() is not None:
            policy.reask(turn)
    elif kind == "d" and course is not None:
        personal_data.on_delete_button(turn, rest)
    elif kind == "r":
        if not asking.on_button(turn, rest):  # the direct question, or the pause after the crisis message
            turn.stale_button()
    else:
        turn.stale_button()


def _command(turn: Turn) -> None:
    name = turn.event.command
    course = turn.course
    if name == "start":
        _start(turn)
    elif name == "help":
        turn.say("common.help")
    elif name == "language":
        commands.language_prompt(turn)
    elif name == "contact":
        request_contact(turn)  # with or without a course: a person asking is always heard
    elif course is None:
        turn.say("start.ask_code")
    elif name in commands.COMMANDS:
        commands.COMMANDS[name](turn)
    else:
        turn.say("common.help")


def _start(turn: Turn) -> None:
    code = turn.event.args
    course = turn.course
    if course is not None and course.state not in FINAL:
        if code:
            turn.say("start.already_started")
        if turn.step() and course.state != "paused":
            policy.reask(turn)
        else:
            commands.idle_reply(turn)
        return
    if code:
        redeem(turn, code)
    else:
        turn.say("start.ask_code")
