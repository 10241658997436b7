"""The channel-free engine: an event and a clock in, stored changes and outbox rows out."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.config import Settings
from bot.dialogs.model import Instrument
from bot.dialogs.store import DialogStore
from bot.engine import asking, flows, lifecycle
from bot.engine.alerts import raise_signal
from bot.engine.codes import audit, chat_key, failed_attempts, find_redeemable, looks_like_code
from bot.engine.events import Event
from bot.engine.signals import scan
from bot.engine.turn import Turn
from bot.storage.models import CodeAttempt, Course
from state_machines.course import FINAL

log = logging.getLogger(__name__)

ChartMaker = Callable[[Turn], bytes | None]


class ClinicianHandler(Protocol):
    def __call__(self, turn: Turn) -> bool: ...


class Engine:
    """Handles one event inside the caller's transaction."""

    def __init__(
        self,
        dialogs: DialogStore,
        clock: Clock,
        config: Settings,
        chart_maker: ChartMaker | None = None,
        clinician_handler: ClinicianHandler | None = None,
    ) -> None:
        self.dialogs = dialogs
        self.clock = clock
        self.config = config
        self.chart_maker = chart_maker
        self.clinician_handler = clinician_handler

    # -- entry point -----------------------------------------------------------

    def handle(self, session: Session, event: Event) -> Turn:
        loaded = self.dialogs.current
        turn = Turn(self, session, event, self.clock.now(), loaded.dialogs, loaded.renderer)
        if event.kind == "timer":
            lifecycle.on_timer(turn)
            return turn
        if event.kind == "blocked":
            lifecycle.on_blocked(turn)
            return turn
        if not event.is_group:
            turn.course = self.course_for_chat(session, event.chat_id)
        if self.clinician_handler is not None and self.clinician_handler(turn):
            return turn
        if event.is_group:
            turn.say("common.groups")
            return turn
        if turn.course is not None:
            turn.course.last_activity_at = turn.now
            turn.course.unreachable = False  # they wrote, so they no longer block the bot
        self._dispatch(turn)
        return turn

    def course_for_chat(self, session: Session, chat_id: int) -> Course | None:
        query = select(Course).where(Course.chat_id == chat_id).order_by(col(Course.id).desc())
        return session.exec(query.with_for_update()).first()

    def _dispatch(self, turn: Turn) -> None:
        event = turn.event
        if event.kind in ("unsupported", "unreadable", "edited"):
            self._not_an_answer(turn)
        elif event.kind == "command":
            if event.args:
                self.scan_text(turn, event.args)  # "/checkin <text>": the text is read too
            self._command(turn)
        elif event.kind == "button":
            self._button(turn)
        else:
            self._text(turn)

    def _not_an_answer(self, turn: Turn) -> None:
        """A photo, file, voice message or edit: its caption or new text is read, but never taken as an answer."""
        event = turn.event
        if event.kind == "unreadable":
            turn.say("reading.unreadable")  # it cannot listen; always with the crisis lines
        action = self.scan_text(turn, event.text) if event.text else "none"
        if asking.pauses(turn, action):  # the crisis message or a direct question: no course question now
            if turn.told_crisis:
                asking.offer_continue(turn)
        elif event.kind == "edited":
            turn.say("common.edited")
        else:
            if event.kind == "unsupported":
                turn.say("common.unsupported")
            flows.reask(turn)

    # -- typed text ----------------------------------------------------------

    def clean_text(self, turn: Turn, text: str) -> str:
        """Store-safe text: normalized, no control characters, within the limit."""
        cleaned = unicodedata.normalize("NFC", text)
        cleaned = "".join(ch for ch in cleaned if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs"))
        limit = self.config.max_text_chars
        if len(cleaned) > limit:
            turn.say("common.too_long", limit=limit)
            cleaned = cleaned[:limit]
        return cleaned.strip()

    def scan_text(self, turn: Turn, text: str) -> str:
        """Read a text for escalation signals and act on them; returns the action taken."""
        result = scan(turn.dialogs.escalation, text)
        for hit in result.hits:
            raise_signal(turn, hit.signal, f"«{hit.evidence}»", message=text)
        if any(hit.signal == "asks_for_person" for hit in result.hits):
            turn.say("safety.contact_requested")
        if result.action == "ask":
            asking.ask(turn, result.asked, text)  # unclear: ask the person directly, the alert held meanwhile
        return result.action

    def _text(self, turn: Turn) -> None:
        text = turn.event.text
        action = self.scan_text(turn, text)
        course = turn.course
        if action == "none" and asking.typed_answer(turn, text):
            return
        if asking.pauses(turn, action):
            asking.pause(turn, text)  # no next question after the crisis message or a direct question
        elif course is None:
            self._redeem(turn, text)
        elif turn.step() is not None:
            asking.clear_pause(turn)
            flows.answer(turn, text=text)
        elif course.state in FINAL and looks_like_code(text):
            self._redeem(turn, text)
        else:
            lifecycle.idle_reply(turn)

    # -- buttons -------------------------------------------------------------

    def _button(self, turn: Turn) -> None:
        event = turn.event
        kind, _, rest = event.data.partition(":")
        course = turn.course
        if kind == "l":
            self._set_language(turn, rest)
        elif kind == "s" and course is not None:
            seq_text, _, index_text = rest.partition(":")
            if seq_text != str(course.ask_seq) or not index_text.isdigit() or turn.step() is None:
                self._stale(turn)
                return
            self._ack_button(turn)
            flows.answer(turn, button=int(index_text))
        elif kind == "d" and course is not None:
            from bot.engine import personal_data

            personal_data.on_delete_button(turn, rest)
        elif kind == "r":
            if not asking.on_button(turn, rest):  # the direct question, or the pause after the crisis message
                self._stale(turn)
        else:
            self._stale(turn)

    def _ack_button(self, turn: Turn, notice: str = "") -> None:
        event = turn.event
        if event.callback_id:
            turn.out.answer_callback(event.chat_id, event.callback_id, notice)
        if event.message_id is not None:
            turn.out.clear_buttons(event.chat_id, event.message_id)

    def _stale(self, turn: Turn) -> None:
        event = turn.event
        if event.callback_id:
            turn.out.answer_callback(event.chat_id, event.callback_id, turn.text("common.stale_button"))
        else:
            turn.say("common.stale_button")

    # -- commands ------------------------------------------------------------

    def _command(self, turn: Turn) -> None:
        name = turn.event.command
        course = turn.course
        if name == "start":
            self._start(turn)
        elif name == "help":
            turn.say("common.help")
        elif name == "language":
            self._language_prompt(turn)
        elif name == "contact":
            lifecycle.request_contact(turn)  # with or without a course: a person asking is always heard
        elif course is None:
            turn.say("start.ask_code")
        elif name in lifecycle.COMMANDS:
            lifecycle.COMMANDS[name](turn)
        else:
            turn.say("common.help")

    def _start(self, turn: Turn) -> None:
        code = turn.event.args
        course = turn.course
        if course is not None and course.state not in FINAL:
            if code:
                turn.say("start.already_started")
            flows.reask(turn) if turn.step() else lifecycle.idle_reply(turn)
            return
        if code:
            self._redeem(turn, code)
        else:
            turn.say("start.ask_code")

    def _language_prompt(self, turn: Turn) -> None:
        buttons = [[{"text": locale.name, "data": f"l:{code}"}] for code, locale in turn.dialogs.locales.items()]
        turn.say("common.language_prompt", buttons=buttons)

    def _set_language(self, turn: Turn, locale: str) -> None:
        if locale not in turn.dialogs.locales or turn.course is None:
            self._stale(turn)
            return
        self._ack_button(turn)
        turn.course.locale = locale
        turn.forget_facts()
        turn.say("common.language_set")
        flows.reask(turn)

    # -- access codes --------------------------------------------------------

    def _redeem(self, turn: Turn, text: str) -> None:
        config = self.config
        chat_id = turn.event.chat_id
        since = turn.now - timedelta(minutes=config.lockout_minutes)
        if failed_attempts(turn.session, chat_id, since) >= config.lockout_attempts:
            turn.say("start.locked", minutes=config.lockout_minutes)
            return
        if not looks_like_code(text):
            turn.say("start.ask_code")
            return
        code = find_redeemable(turn.session, text, turn.now)
        if code is None:
            attempts = failed_attempts(turn.session, chat_id, since) + 1
            turn.session.add(CodeAttempt(chat_key=chat_key(chat_id), at=turn.now))
            if attempts >= config.lockout_attempts:
                audit(turn.session, turn.now, "engine", "code_lockout", None, chat=chat_key(chat_id))
                turn.say("start.locked", minutes=config.lockout_minutes)
            else:
                turn.say("start.bad_code")
            return
        if code.program not in turn.dialogs.programs:
            log.error("code for unknown program %s", code.program)
            turn.say("common.error")
            return
        code.redeemed_at = turn.now
        course = Course(
            label=code.label,
            program=code.program,
            chat_id=chat_id,
            clinician_id=code.clinician_id,
            locale=turn.dialogs.locale_for(turn.event.language, config.locale),
            timezone=config.timezone,
            state="intake",
            started_at=turn.now,
            last_activity_at=turn.now,
        )
        turn.session.add(course)
        turn.session.flush()
        turn.course = course
        audit(turn.session, turn.now, "user", "code_redeemed", code.label, program=code.program)
        flows.start_flow(turn, turn.dialogs.schedule.weeks[1].flow)

    # -- called from flows -----------------------------------------------------

    def act(self, turn: Turn, action: str) -> None:
        lifecycle.ACTIONS[action](turn)

    def check_scores(self, turn: Turn, instrument: Instrument, total: int) -> None:
        lifecycle.check_scores(turn, instrument, total)

    def next_checkin_text(self, turn: Turn) -> str | None:
        return lifecycle.next_checkin_text(turn)
