"""A clinician's side of one turn: who is asking, and answers in the clinician's language.

Clinicians read texts in the service's language (settings.locale), and every
answer goes to the chat the clinician wrote from, never to a user's chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from bot.engine.codes import audit
from bot.engine.outgoing import Buttons
from bot.engine.turn import Turn
from bot.storage.models import Clinician, Course

# Telegram refuses messages over 4096 characters; stay well below.
MESSAGE_LIMIT = 3800


def active_clinician(session: Session, telegram_id: int) -> Clinician | None:
    query = select(Clinician).where(Clinician.telegram_id == telegram_id, col(Clinician.active).is_(True))
    return session.exec(query).first()


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters, cut at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for whole_line in text.split("\n"):
        line = whole_line
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        pieces.append(current)
    return pieces


@dataclass
class Desk:
    """The clinician who sent the turn's event, and how to answer them."""

    turn: Turn
    clinician: Clinician

    @property
    def locale(self) -> str:
        return self.turn.engine.config.locale

    @property
    def chat_id(self) -> int:
        return self.turn.event.chat_id

    @property
    def actor(self) -> str:
        return f"clinician:{self.clinician.id}"

    @property
    def session(self) -> Session:
        return self.turn.session

    @property
    def now(self) -> datetime:
        return self.turn.now

    def text(self, key: str, **values: Any) -> str:
        return self.turn.renderer.render(self.locale, key, values)

    def reply(self, key: str, *, buttons: Buttons | None = None, **values: Any) -> None:
        self.send(self.text(key, **values), buttons=buttons)

    def send(
        self, text: str, *, buttons: Buttons | None = None, chat_id: int | None = None, about: int | None = None
    ) -> None:
        """Send to the clinician (or `chat_id`), split to fit Telegram; buttons go on the last piece.

        `about` is the id of the course the text shows, so that /delete erases it with the course.
        """
        target = self.chat_id if chat_id is None else chat_id
        pieces = split_message(text)
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            self.turn.out.text(target, piece, buttons=buttons if last else None, course_id=about)

    def audit(self, action: str, subject: str | None = None, **detail: object) -> None:
        audit(self.session, self.now, self.actor, action, subject, **detail)

    def format_time(self, when: datetime | None) -> str | None:
        if when is None:
            return None
        return when.astimezone(self.turn.engine.config.tz).strftime("%Y-%m-%d %H:%M")

    def course(self, label: str) -> Course | None:
        """The course with this label (any letter case), locked for the rest of the turn."""
        wanted = label.strip()
        exact = self.session.exec(select(Course).where(Course.label == wanted).with_for_update()).first()
        if exact is not None:
            return exact
        query = select(Course).where(func.upper(Course.label) == wanted.upper()).with_for_update()
        return self.session.exec(query).first()
