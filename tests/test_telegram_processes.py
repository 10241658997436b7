"""Three `guidebot run` processes on one PostgreSQL database, behind a webhook proxy; one is killed.

The fake Bot API posts every update to a small proxy in this test, which hands it to
the processes in turn (and to the next one when a process is gone, as a load balancer
does). Checked from outside, through Telegram and the database: no update lost or
applied twice, no message sent twice, each chat's messages in order, and the sending
limits held for the whole bot.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel, col, select

from bot.app import build_app
from bot.storage.db import transaction
from bot.storage.models import Answer, Course, InboxItem, OutboxItem
from tests.fakes import FakeTelegram, FakeUser, SentMessage
from tests.support import course_script as script
from tests.support.settings import make_settings
from tests.support.telegram_harness import BotProcess, free_port, new_code

SECRET = "proxy-secret"
SEND_RATE = 6  # messages a second for the whole bot, low enough that three senders would show
USERS = 6
WAIT = 45.0
START = 150.0  # three processes starting at once on a loaded test machine take a while

pytestmark = pytest.mark.timeout(400)


class Process(BotProcess):
    """A BotProcess whose output is read as it comes, so a full pipe never holds it up."""

    async def start(self) -> None:
        await super().start()
        assert self.process is not None and self.process.stderr is not None and self.process.stdout is not None
        self._readers = [
            asyncio.create_task(self._read(self.process.stderr)),
            asyncio.create_task(self._read(self.process.stdout, keep=False)),
        ]

    async def _read(self, stream: asyncio.StreamReader, *, keep: bool = True) -> None:
        while line := await stream.readline():
            if keep:
                self.stderr += line.decode()

    async def wait(self, timeout: float = WAIT) -> int:
        assert self.process is not None
        async with asyncio.timeout(timeout):
            code = await self.process.wait()
            await asyncio.gather(*self._readers)
        return int(code)


def empty(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@asynccontextmanager
async def proxy(backends: list[str]) -> AsyncIterator[str]:
    """A load balancer: each update to the next backend; on to another when one is down."""
    turn = itertools.count()
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {"X-Telegram-Bot-Api-Secret-Token": request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")}
        headers["Content-Type"] = "application/json"
        start = next(turn)
        for step in range(len(backends)):
            url = backends[(start + step) % len(backends)]
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    if response.status == 200:
                        return web.Response(status=200)
            except aiohttp.ClientError:
                continue
        return web.Response(status=502)

    app = web.Application()
    app.router.add_post("/hook", forward)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        await runner.cleanup()
        await session.close()


def duty_holder(url: str, duty: str) -> int | None:
    """The pid of the process holding a duty, from the lock connection's application_name."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            names = connection.execute(
                text("SELECT application_name FROM pg_stat_activity WHERE application_name LIKE :name"),
                {"name": f"guidebot {duty} pid %"},
            ).scalars()
            pids = [int(name.rsplit(" ", 1)[1]) for name in names]
    finally:
        engine.dispose()
    return pids[0] if len(pids) == 1 else None


async def next_question(user: FakeUser, after: SentMessage | None) -> SentMessage:
    def newer(message: SentMessage) -> bool:
        return bool(message.buttons) and (after is None or message.message_id > after.message_id)

    return await user.wait_for_message(newer, timeout=WAIT)


async def walk(user: FakeUser, code: str, halfway: asyncio.Event, arrived: list[int]) -> None:
    """Start with the code, then answer consent, age, impact and the PHQ-9, each after its question came."""
    await user.send(f"/start {code}")
    question = await next_question(user, None)
    consent, age, impact = script.INTAKE_ANSWERS["nb"]
    presses: list[str | int] = [consent, age, impact, *[int(v) for v in script.BASELINE_PHQ]]
    for number, press in enumerate(presses):
        label = press if isinstance(press, str) else question.buttons[press]
        try:
            await user.press(question, label)
        except LookupError:
            raise AssertionError([(m.message_id, (m.text or "")[:40], m.buttons) for m in user.messages]) from None
        question = await next_question(user, question)
        if number == 3:
            arrived.append(user.user_id)
            if len(arrived) == USERS:
                halfway.set()


def stored(url: str) -> tuple[list[InboxItem], dict[int, list[tuple[str, str]]], list[OutboxItem]]:
    app = build_app(make_settings(url), run_migrations=False)
    try:
        with transaction(app.db) as session:
            inbox = list(session.exec(select(InboxItem).order_by(col(InboxItem.id))).all())
            answers: dict[int, list[tuple[str, str]]] = {}
            for course in session.exec(select(Course)).all():
                rows = session.exec(select(Answer).where(Answer.course_id == course.id).order_by(col(Answer.id)))
                answers[int(course.chat_id or 0)] = [(a.key, str(a.value)) for a in rows]
            outbox = list(session.exec(select(OutboxItem).order_by(col(OutboxItem.id))).all())
        return inbox, answers, outbox
    finally:
        app.db.dispose()


async def three_processes_one_killed(url: str, victim: str) -> None:
    empty(url)
    app = build_app(make_settings(url), run_migrations=False)
    try:
        codes = [new_code(app, "depression", f"K-{7000 + n}") for n in range(USERS)]
    finally:
        app.db.dispose()
    async with FakeTelegram() as server:
        ports = [free_port() for _ in range(3)]
        async with proxy([f"http://127.0.0.1:{port}/hook" for port in ports]) as hook:
            processes = [
                Process(
                    server,
                    url,
                    GUIDEBOT_WEBHOOK_URL=hook,
                    GUIDEBOT_WEBHOOK_SECRET=SECRET,
                    GUIDEBOT_LISTEN=f"127.0.0.1:{port}",
                    GUIDEBOT_SEND_RATE=str(SEND_RATE),
                    GUIDEBOT_SCHEDULER_INTERVAL_SECONDS="1",
                    GUIDEBOT_WORKERS="4",
                )
                for port in ports
            ]
            await asyncio.gather(*(process.start() for process in processes))
            try:
                webhooks = await server.wait_quietly(
                    lambda: sum(c.method == "setWebhook" for c in server.all_calls) == 3, START
                )
                assert webhooks, [p.stderr[-1500:] for p in processes]
                users = [server.user(9100 + n) for n in range(USERS)]
                halfway, arrived = asyncio.Event(), list[int]()
                walks = asyncio.gather(
                    *(walk(user, code, halfway, arrived) for user, code in zip(users, codes, strict=True))
                )
                waiting: set[asyncio.Future[Any]] = {asyncio.ensure_future(halfway.wait()), walks}
                await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                assert halfway.is_set(), "the walks ended before halfway"
                sender = duty_holder(url, "send")
                assert sender is not None, "no one process holds the send duty"
                pids = [p.process.pid for p in processes if p.process is not None]
                assert sender in pids
                killed = next(
                    p for p in processes if p.process is not None and (p.process.pid == sender) == (victim == "sender")
                )
                assert await killed.kill() == -signal.SIGKILL
                await walks
                survivors = [p for p in processes if p is not killed]
            finally:
                for process in processes:
                    if process.process is not None and process.process.returncode is None:
                        await process.stop()
            for process in survivors:
                assert process.process is not None and process.process.returncode == 0, process.stderr[-2000:]
                assert "Traceback" not in process.stderr

        inbox, answers, outbox = stored(url)
        # No update lost or doubled: each one stored once, and applied.
        update_ids = [int(u["update_id"]) for u in server.updates]
        assert sorted(int(row.update_id or 0) for row in inbox) == sorted(set(update_ids))
        assert all(row.processed_at is not None for row in inbox)
        # Each answer once, under its own question, in order: every participant's the same.
        first = answers[users[0].user_id]
        # (the PHQ-9 items are kept with the course until the questionnaires are done)
        assert first == [("consent", "yes"), ("age_band", "30_49"), ("impact", "some")]
        for user in users:
            assert answers[user.user_id] == first
        # No row sent twice (but for a send in flight when its sender was killed), each chat in order.
        duplicates = 0
        for user in users:
            sent = [m.params.get("text") for m in user.messages]
            rows = [r.payload.get("text") for r in outbox if r.chat_id == user.user_id and r.kind == "text"]
            unique = [t for n, t in enumerate(sent) if n == 0 or t != sent[n - 1]]
            duplicates += len(sent) - len(unique)
            assert unique == rows
        if victim == "sender":
            assert duplicates <= 2
        else:
            assert duplicates == 0
        assert all(row.sent_at is not None for row in outbox if row.failed is None)
        # The limits held for the whole bot, across the three processes.
        assert server.max_per_window(None, 1.0) <= SEND_RATE + 1
        for user in users:
            assert server.max_per_window(user.user_id, 1.0) <= 3


async def test_three_processes_one_not_sending_killed(postgres_url: str) -> None:
    await three_processes_one_killed(postgres_url, "other")


@pytest.mark.slow
async def test_three_processes_the_sender_killed(postgres_url: str) -> None:
    await three_processes_one_killed(postgres_url, "sender")
