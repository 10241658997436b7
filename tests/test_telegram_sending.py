"""Sending under Telegram's conditions: flood control, server errors, timeouts, blocked users, rate limits."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select
from telegram.request import RequestData

from bot.app import build_app
from bot.channels.telegram.pacing import SendLimits
from bot.clock import FakeClock
from bot.engine.outgoing import Outbox
from bot.storage.db import transaction
from bot.storage.models import OutboxItem
from tests.fakes import FakeTelegram, most_within
from tests.support.settings import make_settings
from tests.support.telegram_harness import (
    FAST,
    Running,
    answer_measure,
    course_of,
    do_intake,
    outbox_rows,
    running_bot,
)

TEAM = -1001


async def test_a_check_in_through_a_429_storm_and_a_burst_of_5xx_and_timeouts(sqlite_url: str) -> None:
    async with running_bot(sqlite_url, tuning=replace(FAST, read_timeout=0.5)) as tg:
        user = tg.chat(42)
        await user.send(f"/start {tg.code()}")
        await do_intake(user)
        tg.clock.advance(days=3)  # past the first gap (schedule.yaml: first_checkin_min_days)
        await user.send("/checkin")
        before = len(user.user.messages)

        faults = tg.server.faults
        faults.add("sendMessage", kind="429", count=1, retry_after=1)
        faults.add(kind="500", count=4)
        faults.add(kind="502", count=3)
        faults.add("sendMessage", kind="timeout", count=2, delay=1.0)
        faults.add("editMessageReplyMarkup", kind="429", count=1, retry_after=1)
        await answer_measure(user, [1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1])
        assert faults.pending == []

        # Every question came, once, in order: PHQ-9 2..9, then GAD-7 1..7.
        items = [(m.text or "").split("\n")[0] for m in user.user.messages[before:]]
        assert items == [f"PHQ-9 ({n}/9)" for n in range(2, 10)] + [f"GAD-7 ({n}/7)" for n in range(1, 8)]
        statuses = [call.status for call in tg.server.all_calls if call.method != "getUpdates"]
        assert {429, 500, 502} <= set(statuses)
        assert all(row.sent_at is not None and row.failed is None for row in outbox_rows(tg.app, 42))
        assert tg.server.unanswered_callback_queries == []


async def test_a_blocked_user_is_marked_unreachable_and_not_written_to(sqlite_url: str, clock: FakeClock) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        team = tg.server.group(TEAM, "Veilederteamet")
        user = tg.chat(42)
        await user.send(f"/start {tg.code('depression', 'K-9001')}")
        await do_intake(user)

        tg.server.block(42)
        course = course_of(tg.app, 42)
        assert course is not None and course.due_at is not None
        clock.set(course.due_at + timedelta(minutes=1))
        await tg.run_timers()  # the check-in opens; Telegram says 403

        course = course_of(tg.app, 42)
        assert course is not None and course.unreachable
        assert any("K-9001" in (m.text or "") and "kan ikke nås" in (m.text or "") for m in team.messages)
        attempts = [c for c in tg.server.all_calls if c.method == "sendMessage" and c.params.get("chat_id") == 42]
        assert [c.status for c in attempts[-1:]] == [403]
        assert {row.failed for row in outbox_rows(tg.app, 42) if row.sent_at is None} == {"blocked"}

        clock.advance(hours=25)
        await tg.run_timers()  # a reminder: set aside without asking Telegram
        assert [
            c for c in tg.server.all_calls if c.method == "sendMessage" and c.params.get("chat_id") == 42
        ] == attempts
        assert outbox_rows(tg.app, 42)[-1].failed == "unreachable"

        # They unblock the bot and write again: the course carries on.
        tg.server.unblock(42)
        replies = await user.send("/help")
        assert replies and replies[0].text == tg.app.dialogs.current.renderer.render("nb", "common.help", {})
        course = course_of(tg.app, 42)
        assert course is not None and not course.unreachable


async def test_one_message_a_second_per_chat_after_a_short_burst(sqlite_url: str) -> None:
    limits = SendLimits(overall=None, per_chat=10.0, chat_burst=3)  # Telegram's 1/s, ten times faster
    async with running_bot(sqlite_url, tuning=replace(FAST, limits=limits)) as tg:
        user = tg.server.user(42)
        with transaction(tg.app.db) as session:
            outbox = Outbox(session, tg.clock.now())
            for n in range(13):
                outbox.text(42, f"Melding {n}")
        await tg.bot.sender.scan()
        await tg.settle()
        assert user.texts() == [f"Melding {n}" for n in range(13)]
        times = user.delivery_times
        assert times[-1] - times[0] >= (13 - 3) / 10 * 0.9
        assert tg.server.max_per_window(42, 0.09) <= 3


def departures(tg: Running, monkeypatch: pytest.MonkeyPatch) -> dict[int, float]:
    """When each sendMessage left the bot, by chat, on the event loop's clock (the fake server's too).

    The pacer decides when a message leaves, not how long it then takes to reach the
    server. On a loaded machine the first requests of a burst (opening connections)
    reached the fake server tens of ms after they left while the later ones took 1 ms,
    which squeezed 0.47 s of departures into 0.43 s of arrivals. So the rate is read
    where the requests start.
    """
    request = tg.bot.bot.request
    do_request = request.do_request
    left: dict[int, float] = {}

    async def record(
        url: str, method: str, request_data: RequestData | None = None, **kwargs: Any
    ) -> tuple[int, bytes]:
        if request_data is not None and url.endswith("/sendMessage"):
            left.setdefault(int(request_data.json_parameters["chat_id"]), asyncio.get_running_loop().time())
        return await do_request(url, method, request_data, **kwargs)

    monkeypatch.setattr(request, "do_request", record)
    return left


async def test_about_thirty_messages_a_second_in_all(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    limits = SendLimits(overall=60.0, per_chat=None)  # Telegram's 30/s, twice as fast
    async with running_bot(sqlite_url, tuning=replace(FAST, limits=limits)) as tg:
        users = [tg.server.user(1000 + n) for n in range(30)]
        left = departures(tg, monkeypatch)
        for user in users[:4]:  # slow on the way, as the first of a burst can be on a loaded machine
            tg.server.faults.add("sendMessage", kind="timeout", chat_id=user.chat_id, delay=0.06, deliver=True)
        with transaction(tg.app.db) as session:
            outbox = Outbox(session, tg.clock.now())
            for user in users:
                outbox.text(user.chat_id, "Hei")
        await tg.bot.sender.scan()
        await tg.settle()
        assert all(len(user.messages) == 1 and user.delivery_times[0] >= left[user.chat_id] for user in users)
        # Spread out as they leave: about 60 a second, with no burst. (They arrive bunched, the
        # first four late. Arrivals in any second, which Telegram counts, the window guard keeps
        # under its limit however they bunch: test_telegram_pace.py, test_telegram_pace_guard.py.)
        times = sorted(left.values())
        assert len(times) == 30 and times[-1] - times[0] >= 29 / 60 * 0.9
        assert most_within(times, 0.25) <= 0.25 * 60 + 2


async def test_messages_left_from_a_crash_are_delivered_at_start(sqlite_url: str) -> None:
    app = build_app(make_settings(sqlite_url), run_migrations=False)
    with transaction(app.db) as session:
        outbox = Outbox(session, app.engine.clock.now())
        for n in range(520):  # more than the sender reads at a time
            outbox.text(1000 + n % 40, f"Fra før krasjet {n}")
    app.db.dispose()
    async with FakeTelegram() as server:
        users = [server.user(1000 + n) for n in range(40)]
        async with running_bot(sqlite_url, server=server) as tg:
            await tg.settle()
            for n, user in enumerate(users):
                assert user.texts() == [f"Fra før krasjet {m}" for m in range(n, 520, 40)]
            with transaction(tg.app.db) as session:
                assert session.exec(select(OutboxItem).where(col(OutboxItem.sent_at).is_(None))).all() == []


async def test_a_send_that_outlives_the_read_timeout_arrives_twice(sqlite_url: str) -> None:
    """A known duplicate (docs/telegram.md): Telegram delivered, but too late for the bot to hear it."""
    async with running_bot(sqlite_url, tuning=replace(FAST, read_timeout=0.3)) as tg:
        user = tg.server.user(42)
        tg.server.faults.add("sendMessage", kind="timeout", delay=0.6, deliver=True)
        with transaction(tg.app.db) as session:
            Outbox(session, tg.clock.now()).text(42, "Hei")
        await tg.bot.sender.scan()
        await tg.settle()
        await user.wait_until(lambda: len(user.messages) == 2)
        assert user.texts() == ["Hei", "Hei"]
        [row] = outbox_rows(tg.app, 42)
        assert row.sent_at is not None and row.attempts == 2
