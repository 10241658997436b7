"""The terminal chat: the same engine and database, with numbered buttons.

As in Telegram, buttons belong to their message, and a question's buttons are taken away
once it is answered: the console prints "✓ <the answer>" under it, and its numbers stop
meaning anything. Only the buttons printed since the last line typed (or /wait) can be
picked by number, numbered on from each other when several messages come at once (a
reminder's "not this week" and the question it repeats).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select

from bot.app import App
from bot.clinicians.case_list import DEMO_PROGRAM
from bot.clock import FakeClock
from bot.engine.codes import issue_code
from bot.engine.events import Event
from bot.storage.db import transaction
from bot.storage.models import Course, OutboxItem
from bot.storage.outbox import take_unsent
from state_machines.course import RUNNING

CONSOLE_CHAT_ID = -1

Print = Callable[[str], None]

# A course in one of these states holds the terminal chat; `--code` is refused while one does.
LIVE = (*RUNNING, "paused")
WAIT = re.compile(r"^/wait\s+(\d{1,4})\s*([dhm])$", re.IGNORECASE)
UNITS = {"d": "days", "h": "hours", "m": "minutes"}
# The clock moves in steps no longer than this, with a scheduler round after each, so what
# falls due during a long wait fires in order (a reminder before the missed week after it).
WAIT_STEP = timedelta(minutes=30)
MAX_WAIT = timedelta(days=400)


def parse_wait(line: str) -> timedelta | None:
    """`/wait 3d`, `/wait 2h` or `/wait 30m` as a time span; None when the line is not one."""
    found = WAIT.match(line.strip())
    if found is None:
        return None
    return timedelta(**{UNITS[found.group(2).lower()]: int(found.group(1))})


class ConsoleChat:
    def __init__(
        self, app: App, write: Print = print, chat_id: int = CONSOLE_CHAT_ID, clock: FakeClock | None = None
    ) -> None:
        self.app = app
        self.write = write
        self.chat_id = chat_id
        self.clock = clock  # set (`guidebot chat --clock`): `/wait 3d` moves time and runs what falls due
        self.buttons: list[dict[str, str]] = []  # the live buttons, numbered from 1, newest messages only
        self._button_message: list[int] = []  # the message each live button belongs to
        self._pressed: dict[int, str] = {}  # message -> the label of the button picked there

    def make_demo_code(self) -> str:
        with transaction(self.app.db) as session:
            issued = issue_code(
                session,
                self.app.engine.clock.now(),
                program=DEMO_PROGRAM,
                label=None,
                ttl_days=self.app.settings.code_ttl_days,
                actor="console",
            )
        return issued.code

    def running_course(self) -> str | None:
        """The label of a course not yet closed in this chat, if any (a new code would clash with it)."""
        with transaction(self.app.db) as session:
            course = session.exec(
                select(Course).where(Course.chat_id == self.chat_id, col(Course.state).in_(LIVE))
            ).first()
            return None if course is None else course.label

    def send(self, line: str) -> None:
        """Handle one typed line: a button number or label, a command, or text.

        A number is a position, as in Telegram: 1 is the first button (on a symptom
        scale "Not at all", score 0), never the option's stored value.
        """
        if self.clock is not None and line.strip().casefold().startswith("/wait"):
            self.wait(line)
            return
        event = self._event_for(line)
        self.app.handle(event)
        self.app.run_due()  # due check-ins, reminders, alert re-sends and expiry, as in the Telegram process
        self._clear_buttons()  # numbers mean the newest buttons only; otherwise the engine reads them as typed
        self.flush()
        self._pressed.clear()

    def wait(self, line: str) -> None:
        """Move the clock by the span typed, running the scheduler as time passes."""
        assert self.clock is not None
        span = parse_wait(line)
        if span is None or span > MAX_WAIT:
            self.write("(/wait takes a span such as /wait 3d, /wait 2h or /wait 30m, up to 400 days)")
            return
        end = self.clock.now() + span
        self._clear_buttons()  # what was on screen before the wait is past; a typed number goes to the engine
        while self.clock.now() < end:
            self.clock.set(min(end, self.clock.now() + WAIT_STEP))
            self.app.run_due()
            self.flush()
        local = self.clock.now().astimezone(self.app.settings.tz)
        self.write(f"(the clock is now {local:%Y-%m-%d %H:%M})")

    def _clear_buttons(self) -> None:
        self.buttons = []
        self._button_message = []

    def _event_for(self, line: str) -> Event:
        language = self.app.settings.locale
        typed = line.strip()
        picked: int | None = None
        if typed.isdecimal() and len(typed) <= 3 and 1 <= int(typed) <= len(self.buttons):
            picked = int(typed) - 1
        else:
            for index, button in enumerate(self.buttons):
                if button["text"].casefold() == typed.casefold():
                    picked = index
                    break
        if picked is None:
            return Event.message(self.chat_id, line, language=language)
        button, message_id = self.buttons[picked], self._button_message[picked]
        self._pressed[message_id] = button["text"]
        return Event.button(self.chat_id, button["data"], message_id=message_id, language=language)

    def flush(self) -> None:
        """Print what the engine has queued for this chat, in order."""
        with transaction(self.app.db) as session:
            for row in take_unsent(session, [self.chat_id]):
                self._show(row)

    def _show(self, row: OutboxItem) -> None:
        payload = row.payload
        if row.kind == "text":
            self.write("")
            self.write(str(payload["text"]))
            buttons = [b for line in payload.get("buttons", []) for b in line]
            if buttons:
                assert row.id is not None
                row.message_id = row.id  # as Telegram's message id: the engine takes these buttons away by it
                for button in buttons:
                    self.buttons.append(button)
                    self._button_message.append(row.id)
                    self.write(f"  [{len(self.buttons)}] {button['text']}")
        elif row.kind == "clear_buttons":
            message_id = int(payload["message_id"])
            chosen = payload.get("chosen") or self._pressed.pop(message_id, None)
            if chosen:
                self.write(f"  ✓ {chosen}")
        elif row.kind in ("photo", "document") and row.image is not None:
            name = payload.get("filename") or f"guidebot-chart-{row.id}.png"
            path = Path.cwd() / str(name)
            path.write_bytes(row.image)
            self.write("")
            self.write(f"{payload.get('caption', '')} [{path}]")
        elif row.kind == "callback" and payload.get("text"):
            self.write(f"({payload['text']})")
