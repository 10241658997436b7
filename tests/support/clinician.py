"""A clinician who talks to the engine directly, in a private chat or the team chat."""

from __future__ import annotations

import dataclasses
import re

from sqlmodel import col, select

from bot.app import App
from bot.engine.events import Event
from bot.storage.db import transaction
from bot.storage.models import AuditEntry, Clinician
from bot.storage.outbox import take_unsent
from tests.support.participant import Participant, Sent

CODE = re.compile(r"\b[2-9A-HJKMNP-Z]{3}-[2-9A-HJKMNP-Z]{3}-[2-9A-HJKMNP-Z]{3}\b")


def add_clinician(app: App, telegram_id: int, name: str, *, admin: bool = False) -> int:
    with transaction(app.db) as session:
        clinician = Clinician(telegram_id=telegram_id, name=name, is_admin=admin, created_at=app.engine.clock.now())
        session.add(clinician)
        session.flush()
        assert clinician.id is not None
        return clinician.id


class Colleague:
    """Sends commands and presses buttons as one Telegram user; reads their private chat."""

    def __init__(
        self, app: App, telegram_id: int, name: str = "Kari", *, admin: bool = False, register: bool = True
    ) -> None:
        self.app = app
        self.telegram_id = telegram_id
        self.name = name
        self.inbox: list[Sent] = []
        self.callbacks: list[str] = []
        if register:
            add_clinician(app, telegram_id, name, admin=admin)

    @property
    def team_chat(self) -> int:
        chat = self.app.settings.clinician_chat_id
        assert chat is not None
        return chat

    # -- acting ----------------------------------------------------------------

    def send(self, text: str) -> list[Sent]:
        self.app.handle(Event.message(self.telegram_id, text, language="nb"))
        return self.receive()

    def send_in_team(self, text: str) -> list[Sent]:
        event = Event.message(self.team_chat, text, from_id=self.telegram_id)
        self.app.handle(dataclasses.replace(event, is_group=True))
        return self.receive()

    def press_data(self, data: str, *, chat_id: int | None = None, message_id: int = 1) -> list[Sent]:
        chat = self.telegram_id if chat_id is None else chat_id
        event = Event.button(chat, data, from_id=self.telegram_id, callback_id="cb", message_id=message_id)
        self.app.handle(dataclasses.replace(event, is_group=chat != self.telegram_id))
        return self.receive()

    def press(self, label: str, message: Sent | None = None) -> list[Sent]:
        source = message or next(m for m in reversed(self.inbox) if m.buttons)
        matches = [b for b in source.buttons if b["text"] == label]
        assert matches, f"no button {label!r} in {source.labels()}"
        return self.press_data(matches[0]["data"], chat_id=source.chat_id)

    def new_code(self, program: str = "depression", label: str = "K-1001") -> str:
        reply = self.send(f"/newcode {program} {label}")
        found = CODE.search(reply[-1].text)
        assert found, reply
        return found.group(0)

    def enrol(self, chat_id: int, label: str, *, program: str = "depression", language: str = "nb") -> Participant:
        """A user who starts a course with a code this clinician made."""
        user = Participant(self.app, chat_id, language)
        user.send(f"/start {self.new_code(program, label)}")
        return user

    # -- reading ---------------------------------------------------------------

    def receive(self) -> list[Sent]:
        """New messages to this clinician's private chat; callback answers go to `callbacks`."""
        with transaction(self.app.db) as session:
            for row in take_unsent(session, [self.telegram_id, self.team_chat], kinds=["callback"]):
                self.callbacks.append(str(row.payload.get("text", "")))
            new = [Sent(r) for r in take_unsent(session, [self.telegram_id]) if r.kind in ("text", "photo", "document")]
        self.inbox.extend(new)
        return new

    def text(self) -> str:
        """Everything received so far, as one text."""
        return "\n".join(m.text for m in self.inbox)


def audit_actions(app: App) -> list[AuditEntry]:
    with transaction(app.db) as session:
        return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all())
