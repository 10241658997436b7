"""What goes into the engine: one event, from any channel or the scheduler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# "unsupported": content the bot cannot use (photo, sticker ...), with its caption as `text`;
# "unreadable": a voice message, video note or audio the bot cannot listen to (caption as `text`);
# "edited": an edited message, with its new text (or caption) as `text`.
# The `data` of timer events other than a course's own due time.
ALERT_TIMER = "alert:"
EXPIRY = "expire"

EventKind = Literal["text", "button", "command", "timer", "unsupported", "unreadable", "edited", "blocked"]


@dataclass(frozen=True)
class Event:
    kind: EventKind
    chat_id: int = 0
    from_id: int = 0
    text: str = ""
    command: str = ""
    args: str = ""
    data: str = ""
    callback_id: str | None = None
    message_id: int | None = None
    language: str | None = None
    course_id: int | None = None
    is_group: bool = False

    @classmethod
    def message(cls, chat_id: int, text: str, *, from_id: int | None = None, language: str | None = None) -> Event:
        """A typed message; a leading '/word' makes it a command."""
        sender = chat_id if from_id is None else from_id
        stripped = text.strip()
        if stripped.startswith("/") and len(stripped) > 1:
            head, _, rest = stripped[1:].partition(" ")
            name = head.split("@", 1)[0].lower()
            return cls("command", chat_id, sender, text=text, command=name, args=rest.strip(), language=language)
        return cls("text", chat_id, sender, text=text, language=language)

    @classmethod
    def button(
        cls,
        chat_id: int,
        data: str,
        *,
        from_id: int | None = None,
        callback_id: str | None = None,
        message_id: int | None = None,
        language: str | None = None,
    ) -> Event:
        sender = chat_id if from_id is None else from_id
        return cls(
            "button", chat_id, sender, data=data, callback_id=callback_id, message_id=message_id, language=language
        )

    @classmethod
    def timer(cls, course_id: int) -> Event:
        """The course's next thing (`Course.due_kind`) is due."""
        return cls("timer", course_id=course_id)

    @classmethod
    def alert_timer(cls, alert_id: int) -> Event:
        """An alert is due to be released or re-sent."""
        return cls("timer", data=f"{ALERT_TIMER}{alert_id}")

    @classmethod
    def expiry(cls, course_id: int) -> Event:
        """The course has been idle for longer than GUIDEBOT_COURSE_TTL_DAYS."""
        return cls("timer", data=EXPIRY, course_id=course_id)

    @property
    def alert_id(self) -> int | None:
        """The alert of an alert timer."""
        if self.kind != "timer" or not self.data.startswith(ALERT_TIMER):
            return None
        return int(self.data.removeprefix(ALERT_TIMER))
