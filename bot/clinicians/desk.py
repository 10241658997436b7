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
from bot.engine.cover import covered_by
from bot.engine.dates import service_time
from bot.engine.outgoing import Buttons
from bot.engine.turn import Turn
from bot.storage.models import Clinician, Course


def active_clinician(session: Session, telegram_id: int) -> Clinician | None:
    query = select(Clinician).where(Clinician.telegram_id == telegram_id, col(Clinician.active).is_(True))
    return session.exec(query).first()


@dataclass
class Desk:
    """The clinician who sent the turn's event, and how to answer them."""

    turn: Turn
    clinician: Clinician

    @property
    def locale(self) -> str:
        return self.turn.config.locale

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
        """Send to the clinician (or `chat_id`); the channel splits a long text, buttons on the last piece.

        `about` is the id of the course the text shows, so that /delete erases it with the course.
        """
        self.turn.out.text(self.chat_id if chat_id is None else chat_id, text, buttons=buttons, course_id=about)

    def covering(self) -> frozenset[int]:
        """The ids of the colleagues this clinician covers for now (/away), whose cases they may open."""
        return covered_by(self.session, self.clinician, self.now)

    def audit(self, action: str, subject: str | None = None, **detail: object) -> None:
        audit(self.session, self.now, self.actor, action, subject, **detail)

    def format_time(self, when: datetime | None) -> str | None:
        return service_time(self.turn.config.tz, when)

    def course(self, label: str) -> Course | None:
        """The course with this label (any letter case), locked for the rest of the turn."""
        wanted = label.strip()
        exact = self.session.exec(select(Course).where(Course.label == wanted).with_for_update()).first()
        if exact is not None:
            return exact
        query = select(Course).where(func.upper(Course.label) == wanted.upper()).with_for_update()
        return self.session.exec(query).first()
