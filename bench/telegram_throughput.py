"""Throughput and latency of the full bot against a bare python-telegram-bot echo bot.

Both run as their own process against the same fake Bot API server (tests/fakes),
which runs here together with the simulated users:

- full bot: inbox -> engine -> outbox on SQLite; USERS users, each in the middle of
  a check-in, all answer a question at once, wait for the next one, and answer
  again, for ROUNDS rounds;
- echo bot: the same users each send a text and wait for the echo, ROUNDS times.

Two ways of answering a check-in are measured:

- `--answer button` (default): a PHQ-9 item by button. The bot makes three Bot API
  calls for it (answer the button, take its keyboard away, ask the next item), where
  the echo bot makes one.
- `--answer text`: a homework-review question by text, one reply each, like for like
  with the echo bot (rounds: "relevant", "useful", "hard"; at most 3).

`--split` runs the full bot as two processes on one database, one taking updates in
and running the engine, one delivering the outbox, so that it uses both cores.

Usage: .venv/bin/python -m bench.telegram_throughput [--users 200] [--rounds 5] [--repeat 3] [--answer text]
       [--split]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from bot.app import App, build_app
from bot.channels.telegram.database import Database
from bot.clock import FakeClock
from bot.config import DEFAULT_DIALOGS_DIR, Settings
from bot.dialogs.store import DialogStore
from bot.engine.codes import issue_code
from bot.engine.events import Event
from bot.storage.db import migrate
from bot.storage.models import Answer, Course, OutboxItem, Score
from tests.fakes import FakeTelegram, SentMessage

ROOT = Path(__file__).resolve().parents[1]
FIRST_USER = 500_000


class BenchServer(FakeTelegram):
    """The fake Bot API server, telling the benchmark about each message as it is recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.on_message: Callable[[SentMessage], None] = lambda _message: None

    def _record_message(
        self, chat: Any, method: str, params: Any, content: Any, text: str | None, file: Any = None
    ) -> dict[str, Any]:
        raw = super()._record_message(chat, method, params, content, text, file)
        self.on_message(chat.messages[-1])
        return raw


# -- setting up users in the middle of a check-in ----------------------------------


class EngineUser:
    """Drives the engine directly (no Telegram) to get a user to their first check-in."""

    def __init__(self, app: App, db: Database, chat_id: int) -> None:
        self.app, self.db, self.chat_id = app, db, chat_id

    def _handle(self, event: Event) -> None:
        self.db.run_now(lambda session: self.app.engine.handle(session, event))

    def send(self, text: str) -> None:
        self._handle(Event.message(self.chat_id, text, language="nb"))

    def press(self, index: int) -> None:
        question = self.db.run_now(
            lambda session: session.exec(
                select(OutboxItem)
                .where(OutboxItem.chat_id == self.chat_id)
                .order_by(col(OutboxItem.id).desc())
                .limit(1)
            ).first()
        )
        assert question is not None and question.payload.get("buttons"), question
        data = question.payload["buttons"][index][0]["data"]
        self._handle(Event.button(self.chat_id, data, callback_id="setup", message_id=1, language="nb"))

    def to_text_question(self) -> None:
        """From the first check-in item on to the first of three free-text questions in a row."""
        for _ in range(16):  # PHQ-9 and GAD-7
            self.press(1)
        self.press(0)  # homework done
        self.send("Del 1 og 2, og dagboken")
        self.press(1)  # twice

    def to_checkin(self) -> None:
        code = self.db.run_now(
            lambda session: (
                issue_code(session, self.app.engine.clock.now(), program="depression", label=None, ttl_days=30).code
            )
        )
        self.send(f"/start {code}")
        for index in (0, 3, 1, *[0] * 16):  # consent, age 30-49, impact "some", PHQ-9 and GAD-7
            self.press(index)
        self.send("Sove bedre og komme meg ut hver dag")
        self.press(3)  # Thursday
        self.send("18:30")
        self.press(0)  # the agreement
        clock = self.app.engine.clock
        assert isinstance(clock, FakeClock)
        clock.advance(days=self.app.dialogs.current.dialogs.schedule.first_checkin_min_days)  # past the gap
        self.send("/checkin")


def prepare_database(url: str, users: int, first: int = FIRST_USER, answer: str = "button") -> None:
    """USERS courses, each waiting for the answer to the first check-in question; that
    question is the only message not yet delivered, so the bot sends it when it starts.

    One user goes through the intake for real; the others are copies of that course
    (with their own labels and chats), which is the same to the engine and much faster.
    """
    migrate(url)
    # The intake happens a little more than the schedule's gap ago, so /checkin opens now.
    gap = DialogStore(DEFAULT_DIALOGS_DIR).current.dialogs.schedule.first_checkin_min_days
    app = build_app(
        Settings(_env_file=None, database_url=url, clinician_chat_id=-1001),  # type: ignore[call-arg]
        FakeClock(datetime.now(UTC) - timedelta(days=gap, minutes=5)),
        run_migrations=False,
    )
    db = Database(app.db, 1)
    template_user = EngineUser(app, db, first)
    template_user.to_checkin()
    if answer == "text":
        template_user.to_text_question()

    def copy_course(session: Any) -> None:
        now = app.engine.clock.now()
        session.execute(update(OutboxItem).values(sent_at=now))
        template = session.exec(select(Course).where(Course.chat_id == first)).one()
        answers = session.exec(select(Answer).where(Answer.course_id == template.id)).all()
        scores = session.exec(select(Score).where(Score.course_id == template.id)).all()
        question = session.exec(
            select(OutboxItem).where(OutboxItem.chat_id == first).order_by(col(OutboxItem.id).desc()).limit(1)
        ).one()
        question.sent_at = None
        for n in range(1, users):
            course = Course(
                **template.model_dump(exclude={"id", "label", "chat_id"}),
                label=f"{template.label}-{n}",
                chat_id=first + n,
            )
            session.add(course)
            session.flush()
            for answer in answers:
                session.add(Answer(**answer.model_dump(exclude={"id", "course_id"}), course_id=course.id))
            for score in scores:
                session.add(Score(**score.model_dump(exclude={"id", "course_id"}), course_id=course.id))
            session.add(
                OutboxItem(
                    **question.model_dump(exclude={"id", "chat_id", "course_id", "sent_at"}),
                    chat_id=first + n,
                    course_id=course.id,
                )
            )

    db.run_now(copy_course)
    db.close()
    app.db.dispose()


# -- measuring ---------------------------------------------------------------------


@dataclass
class Result:
    name: str
    updates: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<10} {self.updates:>6} updates in {self.seconds:6.2f} s = {self.rate:7.1f} updates/s   "
            f"latency p50 {self.percentile(50):6.1f} ms  p99 {self.percentile(99):6.1f} ms  "
            f"(median {statistics.median(self.latencies) * 1000:.1f} ms)"
        )


class Waiters:
    """Per chat, a future for the next message that counts as the reply."""

    def __init__(self, server: BenchServer, is_reply: Callable[[SentMessage], bool]) -> None:
        self.futures: dict[int, asyncio.Future[SentMessage]] = {}
        self.is_reply = is_reply
        server.on_message = self._arrived

    def expect(self, chat_id: int) -> asyncio.Future[SentMessage]:
        future = self.futures[chat_id] = asyncio.get_running_loop().create_future()
        return future

    def _arrived(self, message: SentMessage) -> None:
        future = self.futures.get(message.chat_id)
        if future is not None and not future.done() and self.is_reply(message):
            future.set_result(message)


async def closed_loop(
    name: str, users: list[int], rounds: int, waiters: Waiters, act: Callable[[int, int], Any]
) -> Result:
    loop = asyncio.get_running_loop()
    latencies: list[float] = []

    async def one_user(chat_id: int) -> None:
        for round_number in range(rounds):
            reply = waiters.expect(chat_id)
            started = loop.time()
            await act(chat_id, round_number)
            await asyncio.wait_for(reply, 60)
            latencies.append(loop.time() - started)

    began = loop.time()
    await asyncio.gather(*(one_user(chat_id) for chat_id in users))
    return Result(name, len(users) * rounds, loop.time() - began, latencies)


async def start_process(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, *args, cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL
    )


async def stop_process(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
    await asyncio.wait_for(process.wait(), 30)


async def full_bot(
    server: BenchServer, users: int, rounds: int, workdir: Path, first: int, answer: str, split: bool
) -> Result:
    url = f"sqlite:///{workdir / f'bench-{first}.db'}"
    began = time.perf_counter()
    prepare_database(url, users, first, answer)
    print(f"set up {users} users in the middle of a check-in in {time.perf_counter() - began:.1f} s")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GUIDEBOT_")},
        "GUIDEBOT_TELEGRAM_TOKEN": server.token,
        "GUIDEBOT_TELEGRAM_API_URL": server.base_url.removesuffix("/bot"),
        "GUIDEBOT_DATABASE_URL": url,
        "GUIDEBOT_DIALOGS_DIR": str(DEFAULT_DIALOGS_DIR),
        "GUIDEBOT_CLINICIAN_CHAT_ID": "-1001",
        "GUIDEBOT_SCHEDULER_INTERVAL_SECONDS": "3600",
    }
    server.group(-1001, "Veilederteamet")  # the bot checks at start that it can post in the team chat
    chats = [first + n for n in range(users)]
    fakes = [server.user(chat_id) for chat_id in chats]
    roles = ("receive", "send") if split else ("all",)
    processes = [await start_process("-m", "bench.full_bot", role, env=env) for role in roles]
    try:
        if answer == "text":
            await server.wait_until(lambda: all(fake.messages for fake in fakes), 120)

            async def write(chat_id: int, round_number: int) -> None:
                await server.users[chat_id].send(f"Svar nummer {round_number}: det gikk greit")

            text_waiters = Waiters(server, lambda message: message.method == "sendMessage")
            return await closed_loop("full bot", chats, min(rounds, 3), text_waiters, write)
        await server.wait_until(lambda: all(any(m.buttons for m in fake.messages) for fake in fakes), 120)

        async def press(chat_id: int, _round: int) -> None:
            fake = server.users[chat_id]
            question = next(m for m in reversed(fake.messages) if m.buttons)
            await fake.press(question, question.buttons[0])

        waiters = Waiters(server, lambda message: bool(message.buttons))
        return await closed_loop("full bot", chats, rounds, waiters, press)
    finally:
        for process in processes:
            await stop_process(process)


async def echo_bot(server: BenchServer, users: int, rounds: int, first: int) -> Result:
    chats = [first + n for n in range(users)]
    for chat_id in chats:
        server.user(chat_id)
    process = await start_process("-m", "bench.echo_bot", server.token, server.base_url, env=dict(os.environ))
    try:
        probe = server.users[chats[0]]
        await probe.send("ready?")
        await probe.wait_for_message(timeout=60)

        async def say(chat_id: int, round_number: int) -> None:
            await server.users[chat_id].send(f"svar {round_number}")

        waiters = Waiters(server, lambda message: message.method == "sendMessage")
        return await closed_loop("echo bot", chats, rounds, waiters, say)
    finally:
        await stop_process(process)


async def main(users: int, rounds: int, repeat: int, answer: str, split: bool) -> None:
    """Alternate the two bots, `repeat` times each, so drift on a busy machine hits both alike."""
    full: list[Result] = []
    echo: list[Result] = []
    async with BenchServer() as server:
        with tempfile.TemporaryDirectory() as workdir:
            for run in range(repeat):
                base = FIRST_USER + run * 2 * users
                full.append(await full_bot(server, users, rounds, Path(workdir), base, answer, split))
                print(full[-1].line())
                echo.append(await echo_bot(server, users, rounds, base + users))
                print(echo[-1].line())
    full_rate = statistics.median(r.rate for r in full)
    echo_rate = statistics.median(r.rate for r in echo)
    print()
    print(
        f"median of {repeat}: full bot {full_rate:.1f} updates/s "
        f"(p50 {statistics.median(r.percentile(50) for r in full):.0f} ms, "
        f"p99 {statistics.median(r.percentile(99) for r in full):.0f} ms); "
        f"echo bot {echo_rate:.1f} updates/s (p50 {statistics.median(r.percentile(50) for r in echo):.0f} ms, "
        f"p99 {statistics.median(r.percentile(99) for r in echo):.0f} ms)"
    )
    shape = "two processes (receive, send)" if split else "one process"
    print(
        f"full bot in {shape}, answering by {answer}: "
        f"full bot / echo bot = {full_rate / echo_rate:.2f} of the updates/s (target: at least 0.50)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--answer", choices=("button", "text"), default="button")
    parser.add_argument("--split", action="store_true", help="run the full bot as a receiving and a sending process")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.users, arguments.rounds, arguments.repeat, arguments.answer, arguments.split))
