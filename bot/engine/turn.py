"""One event's handling as data: the event, the course, the dialogs in use, and the outbox.

A turn holds no engine. The modules that handle an event read it and write to its
outbox; what they cannot decide themselves they return to their caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.config import Settings
from bot.dialogs.context import CourseFacts, Lazy, build_context
from bot.dialogs.model import DialogSet, Flow, Step
from bot.dialogs.render import Renderer
from bot.engine.dates import next_checkin_text
from bot.engine.events import Event
from bot.engine.facts import load_facts
from bot.engine.outgoing import Buttons, Outbox
from bot.engine.service_hours import service_view
from bot.storage.models import Answer, Course


@dataclass
class Turn:
    session: Session
    event: Event
    now: datetime
    dialogs: DialogSet
    renderer: Renderer
    config: Settings
    course: Course | None = None
    out: Outbox = field(init=False)
    told_crisis: bool = False
    held: list[str] | None = None  # opening texts waiting to go out with the first question
    _facts: CourseFacts | None = None

    def __post_init__(self) -> None:
        self.out = Outbox(self.session, self.now)

    @property
    def locale(self) -> str:
        if self.course is not None:
            return self.course.locale
        return self.dialogs.locale_for(self.event.language, self.config.locale)

    @property
    def chat_id(self) -> int:
        if self.course is not None and self.course.chat_id is not None:
            return self.course.chat_id
        return self.event.chat_id

    # -- facts and rendering -------------------------------------------------

    def facts(self) -> CourseFacts:
        assert self.course is not None
        if self._facts is None:
            next_checkin = next_checkin_text(self.renderer, self.locale, self.course)
            self._facts = load_facts(self.session, self.course, next_checkin)
            if self._facts.checkin_time is not None:  # as the locale writes a time: "19.30"
                self._facts.checkin_time = self.renderer.clock(self.locale, self._facts.checkin_time)
        return self._facts

    def forget_facts(self) -> None:
        self._facts = None

    def context(self, **extra: Any) -> dict[str, Any]:
        extra.setdefault("service", Lazy(self._service))  # service.open_now, service.next_open
        if self.course is None:
            return {"locale": self.locale, **extra}
        return build_context(self.dialogs, self.facts(), self.locale, **extra)

    def _service(self) -> dict[str, Any]:
        zone = ZoneInfo(self.course.timezone) if self.course is not None else self.config.tz
        return service_view(self.renderer, self.locale, self.config.service_hours, self.now.astimezone(zone))

    def text(self, key: str, **extra: Any) -> str:
        return self.renderer.render(self.locale, key, self.context(**extra))

    def say(self, key: str, *, buttons: Buttons | None = None, **extra: Any) -> None:
        self.send(self.text(key, **extra), buttons=buttons)

    def send(self, text: str, *, buttons: Buttons | None = None) -> None:
        course_id = self.course.id if self.course is not None else None
        self.out.text(self.chat_id, text, buttons=buttons, course_id=course_id)

    # -- the button that was pressed -----------------------------------------

    def ack_button(self, *, notice: str = "", chosen: str | None = None) -> None:
        """Answer the pressed button (with a short `notice`) and take the buttons off its message,
        leaving `chosen` in their place."""
        event = self.event
        if event.callback_id:
            self.out.answer_callback(event.chat_id, event.callback_id, notice)
        if event.message_id is not None:
            self.out.clear_buttons(event.chat_id, event.message_id, chosen)

    def stale_button(self) -> None:
        """A button from an older question, or pressed twice: say so, and change nothing."""
        event = self.event
        if event.callback_id:
            self.out.answer_callback(event.chat_id, event.callback_id, self.text("common.stale_button"))
        else:
            self.say("common.stale_button")

    # -- course state --------------------------------------------------------

    def flow(self) -> Flow | None:
        if self.course is None or self.course.flow is None:
            return None
        return self.dialogs.flows.get(self.course.flow)

    def step(self) -> Step | None:
        flow = self.flow()
        if flow is None or self.course is None or self.course.step is None:
            return None
        return flow.steps.get(self.course.step)

    def set_scratch(self, key: str, value: Any) -> None:
        assert self.course is not None
        scratch = dict(self.course.scratch)
        if value is None:
            scratch.pop(key, None)
        else:
            scratch[key] = value
        self.course.scratch = scratch

    def store(self, key: str, value: Any) -> None:
        assert self.course is not None and self.course.id is not None
        self.session.add(
            Answer(
                course_id=self.course.id,
                week=self.course.week,
                flow=self.course.flow or "",
                key=key,
                value=value,
                created_at=self.now,
            )
        )
        self.forget_facts()
