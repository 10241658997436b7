"""The real guidebot Telegram application against the fake Bot API server.

- `running_bot(...)`: FakeTelegram and `TelegramBot` in this event loop, with an
  injected clock, fast retry pauses and no sending limits unless asked for.
- `BotProcess`: `guidebot run` as a child process against the same fake server, for
  tests that kill it.
- `Chat`: a FakeUser that, after each action, waits until the bot has processed it
  and delivered every reply (no sleeping), and returns what arrived.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from bot.app import App, build_app
from bot.channels.telegram.backoff import Backoff
from bot.channels.telegram.pacing import SendLimits
from bot.channels.telegram.runtime import TelegramBot, Tuning
from bot.clock import FakeClock
from bot.dialogs.store import DialogStore
from bot.engine.codes import issue_code
from bot.storage.db import transaction
from bot.storage.models import Answer, Course, InboxItem, OutboxItem
from tests.fakes import FakeTelegram, FakeUser, SentMessage
from tests.support import course_script as script
from tests.support.clinician import CODE
from tests.support.settings import make_settings

ROOT = Path(__file__).resolve().parents[2]
SETTLE_TIMEOUT = 15.0

FAST = Tuning(
    limits=SendLimits(overall=None, per_chat=None),
    backoff=Backoff(first=0.02, cap=0.1),
    read_timeout=2.0,
    stop_grace=1.0,
    mark_every=0.0,
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def new_code(app: App, program: str = "depression", label: str | None = None) -> str:
    with transaction(app.db) as session:
        return issue_code(session, app.engine.clock.now(), program=program, label=label, ttl_days=30).code


# -- a user who waits for the whole answer ---------------------------------------


Settle = Callable[[int], Awaitable[None]]


class Chat:
    def __init__(self, server: FakeTelegram, user: FakeUser, settle: Settle) -> None:
        self.server = server
        self.user = user
        self.settle = settle

    async def _act(self, action: Awaitable[int]) -> list[SentMessage]:
        before = len(self.user.messages)
        await action
        await self.settle(int(self.server.updates[-1]["update_id"]))
        return self.user.messages[before:]

    async def send(self, text: str) -> list[SentMessage]:
        return await self._act(self.user.send(text))

    async def press(self, label: str) -> list[SentMessage]:
        return await self._act(self.user.press(self.question(), label))

    async def press_on(self, message: SentMessage, label: str) -> list[SentMessage]:
        """Press a button on an earlier message, not the newest question."""
        return await self._act(self.user.press(message, label))

    async def press_index(self, index: int) -> list[SentMessage]:
        question = self.question()
        return await self._act(self.user.press(question, question.buttons[index]))

    async def play(self, steps: Iterable[script.Step]) -> None:
        """Do what the course script says, step by step, each time waiting for the whole answer."""
        for step in steps:
            if isinstance(step, script.Press):
                await self.press(step.label)
            elif isinstance(step, script.Choose):
                await self.press_index(step.index)
            elif isinstance(step, script.Type):
                await self.send(step.text)
            else:
                await answer_measure(self, step.values)

    async def sticker(self) -> list[SentMessage]:
        return await self._act(self.user.send_sticker())

    def question(self) -> SentMessage:
        """The newest message that still has its buttons."""
        for message in reversed(self.user.messages):
            if message.buttons and not message.deleted:
                return message
        raise LookupError(f"no message with buttons; the bot sent {self.user.texts()[-3:]!r}")

    def texts(self) -> list[str]:
        return self.user.texts()


# -- the course script, played over Telegram ----------------------------------------


async def answer_measure(chat: Chat, values: Sequence[int]) -> None:
    """Press each value; after a risk answer on item 9 the questionnaire pauses, so press "continue now"."""
    for value in values:
        replies = await chat.press_index(value)
        paused = [b for m in replies for row in m.keyboard for b in row if b.get("callback_data") == "r:c"]
        if paused:
            await chat.press(paused[-1]["text"])


async def do_intake(
    chat: Chat, locale: str = "nb", phq: Sequence[int] = script.BASELINE_PHQ, gad: Sequence[int] = script.BASELINE_GAD
) -> None:
    await chat.play(script.intake(locale, phq, gad))


async def do_checkin(chat: Chat, phq: Sequence[int], gad: Sequence[int]) -> None:
    await chat.play(script.checkin(phq, gad))


async def do_closing(chat: Chat, phq: Sequence[int], gad: Sequence[int]) -> None:
    await chat.play(script.closing(phq, gad))


# -- reading the database --------------------------------------------------------


def course_of(app: App, chat_id: int) -> Course | None:
    with transaction(app.db) as session:
        return session.exec(select(Course).where(Course.chat_id == chat_id).order_by(col(Course.id).desc())).first()


def answers_of(app: App, chat_id: int) -> list[Answer]:
    course = course_of(app, chat_id)
    assert course is not None
    with transaction(app.db) as session:
        return list(session.exec(select(Answer).where(Answer.course_id == course.id).order_by(col(Answer.id))).all())


def outbox_rows(app: App, chat_id: int | None = None) -> list[OutboxItem]:
    with transaction(app.db) as session:
        query = select(OutboxItem).order_by(col(OutboxItem.id))
        if chat_id is not None:
            query = query.where(OutboxItem.chat_id == chat_id)
        return list(session.exec(query).all())


def inbox_rows(app: App) -> list[InboxItem]:
    with transaction(app.db) as session:
        return list(session.exec(select(InboxItem).order_by(col(InboxItem.id))).all())


# -- the bot in this event loop --------------------------------------------------


@dataclass
class Running:
    server: FakeTelegram
    app: App
    bot: TelegramBot
    clock: FakeClock
    chats: dict[int, Chat] = field(default_factory=dict)

    async def settle(self, update_id: int = 0) -> None:
        async with asyncio.timeout(SETTLE_TIMEOUT):
            await self.bot.settled(update_id)

    def chat(self, user_id: int, language_code: str = "nb") -> Chat:
        if user_id not in self.chats:
            self.chats[user_id] = Chat(self.server, self.server.user(user_id, language_code), self.settle)
        return self.chats[user_id]

    def code(self, program: str = "depression", label: str | None = None) -> str:
        return new_code(self.app, program, label)

    async def run_timers(self) -> int:
        count = await self.bot.timers.run_due()
        await self.settle()
        return count


def settings_for(server: FakeTelegram, database_url: str, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "telegram_token": server.token,
        "telegram_api_url": server.base_url.removesuffix("/bot"),
        "scheduler_interval_seconds": 3600.0,
    }
    values.update(overrides)
    settings = make_settings(database_url, **values)
    if settings.clinician_chat_id is not None and settings.clinician_chat_id < 0:
        server.group(settings.clinician_chat_id, "Veilederteamet")  # the bot checks it can post there at start
    return settings


@asynccontextmanager
async def running_bot(
    database_url: str,
    clock: FakeClock | None = None,
    *,
    tuning: Tuning = FAST,
    server: FakeTelegram | None = None,
    dialogs: DialogStore | None = None,
    **overrides: Any,
) -> AsyncIterator[Running]:
    """FakeTelegram (unless given) and the guidebot Telegram application, started and stopped.

    `dialogs`: a loaded dialog set to share (loading one takes a second or more).
    """
    async with _server(server) as fake:
        clock = clock or FakeClock()
        app = build_app(settings_for(fake, database_url, **overrides), clock, run_migrations=False, dialogs=dialogs)
        try:
            async with TelegramBot(app, tuning=tuning) as bot:
                yield Running(fake, app, bot, clock)
        finally:
            app.db.dispose()


@asynccontextmanager
async def _server(server: FakeTelegram | None) -> AsyncIterator[FakeTelegram]:
    if server is not None:
        yield server
        return
    async with FakeTelegram() as fake:
        yield fake


# -- `guidebot run` as a child process -------------------------------------------


class BotProcess:
    """`guidebot run` against the fake server; stderr is kept for the test to read.

    It runs in the SQLite file's directory, so a developer's `.env` is not read.
    """

    def __init__(self, server: FakeTelegram, database_url: str, **env: str) -> None:
        self.cwd = Path(database_url.removeprefix("sqlite:///")).parent if database_url.startswith("sqlite") else ROOT
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("GUIDEBOT_")},
            "GUIDEBOT_TELEGRAM_TOKEN": server.token,
            "GUIDEBOT_TELEGRAM_API_URL": server.base_url.removesuffix("/bot"),
            "GUIDEBOT_DATABASE_URL": database_url,
            "GUIDEBOT_CLINICIAN_CHAT_ID": "-1001",
            "GUIDEBOT_SCHEDULER_INTERVAL_SECONDS": "3600",
            **env,
        }
        team = self.env.get("GUIDEBOT_CLINICIAN_CHAT_ID", "")
        if team.startswith("-") and team[1:].isdigit():
            server.group(int(team), "Veilederteamet")  # the bot checks it can post there at start
        self.process: asyncio.subprocess.Process | None = None
        self.stderr = ""

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "guidebot"),
            "run",
            cwd=self.cwd,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )

    async def wait(self, timeout: float = SETTLE_TIMEOUT) -> int:
        assert self.process is not None
        async with asyncio.timeout(timeout):
            _, err = await self.process.communicate()
        self.stderr += err.decode()
        return int(self.process.returncode or 0)

    async def stop(self) -> int:
        """SIGTERM, as a service manager stops it."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.terminate()
        return await self.wait()

    async def kill(self) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.kill()
        return await self.wait()


async def enrol(tg: Running, user_id: int, label: str, language: str = "nb", *, clinician: int = 501) -> Chat:
    """A clinician makes a code with /newcode in their private chat; the user starts with it."""
    reply = await tg.chat(clinician).send(f"/newcode depression {label}")
    code = CODE.search(reply[-1].text or "")
    assert code is not None, reply
    user = tg.chat(user_id, language)
    await user.send(f"/start {code.group(0)}")
    return user
