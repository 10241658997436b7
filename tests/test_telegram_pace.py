"""Sending at Telegram's pace: a margin under a strict server, a chat's batch together,
alerts and people in conversation before a backlog, and button answers that never wait."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from bot.channels.telegram.pacing import SendLimits
from bot.engine.outgoing import Outbox
from bot.storage.db import transaction
from tests.fakes import FakeTelegram, FloodControl
from tests.support.telegram_harness import FAST, Running, outbox_rows, running_bot

TEAM = -1001
PRODUCTION_PACE = replace(FAST, limits=None)  # Telegram's limits, at GUIDEBOT_SEND_RATE (29/s)


def queue_texts(tg: Running, rows: list[tuple[int, str]], *, alert_id: int | None = None) -> None:
    with transaction(tg.app.db) as session:
        outbox = Outbox(session, tg.clock.now())
        for chat_id, text in rows:
            outbox.text(chat_id, text, alert_id=alert_id)


async def test_a_burst_against_a_strict_server_draws_no_429_and_keeps_each_chat_together(sqlite_url: str) -> None:
    # The 31st message in any second is refused, and (with a little room for jitter) a chat's 4th.
    strict = FloodControl(overall=30, per_chat=3, window=1.0, chat_window=0.95)
    async with (
        FakeTelegram(flood=strict) as server,
        running_bot(sqlite_url, tuning=PRODUCTION_PACE, server=server) as tg,
    ):
        users = [server.user(2000 + n) for n in range(45)]
        chatty = server.user(3000)
        rows = [(user.chat_id, text) for user in users for text in ("Hei! Nå er det tid for samtalen.", "Spørsmål 1")]
        queue_texts(tg, [(chatty.chat_id, f"Melding {n}") for n in range(5)] + rows)
        await tg.bot.sender.scan()
        await tg.settle()

        assert strict.refused == 0
        assert [c for c in server.all_calls if c.status == 429] == []
        assert all(user.texts() == ["Hei! Nå er det tid for samtalen.", "Spørsmål 1"] for user in users)
        assert chatty.texts() == [f"Melding {n}" for n in range(5)]
        # One a second per chat after a burst of three:
        times = chatty.delivery_times
        assert times[3] - times[0] >= 0.9 and times[4] - times[3] >= 0.9
        # A chat's intro and question leave together, not one backlog apart.
        order = [message.chat_id for message in server.sent_messages]
        between = [
            order.index(user.chat_id, order.index(user.chat_id) + 1) - order.index(user.chat_id) - 1 for user in users
        ]
        assert max(between) <= 2, between


async def test_an_alert_goes_before_the_backlog(sqlite_url: str) -> None:
    limits = SendLimits(overall=100.0, per_chat=None)
    async with running_bot(sqlite_url, tuning=replace(FAST, limits=limits)) as tg:
        team = tg.server.group(TEAM, "Veilederteamet")
        backlog = [tg.server.user(2000 + n) for n in range(60)]
        queue_texts(tg, [(user.chat_id, "Påminnelse") for user in backlog])
        queue_texts(tg, [(TEAM, "Varsel: K-1 ber om kontakt")], alert_id=1)
        await tg.bot.sender.scan()
        await tg.settle()
        assert team.texts() == ["Varsel: K-1 ber om kontakt"]
        first = tg.server.sent_messages[:3]
        assert TEAM in [message.chat_id for message in first]


async def test_someone_who_writes_during_a_backlog_is_answered_before_it(sqlite_url: str) -> None:
    limits = SendLimits(overall=50.0, per_chat=None)  # the backlog takes two seconds
    async with running_bot(sqlite_url, tuning=replace(FAST, limits=limits)) as tg:
        backlog = [tg.server.user(2000 + n) for n in range(100)]
        queue_texts(tg, [(user.chat_id, "Hei! Nå er det tid for samtalen.") for user in backlog])
        await tg.bot.sender.scan()
        await tg.server.wait_until(lambda: any(user.messages for user in backlog))

        person = tg.server.user(42)
        await person.send("/help")
        await person.wait_for_message()
        waiting = sum(1 for user in backlog if not user.messages)
        assert waiting >= 50, f"only {waiting} of the backlog were still waiting when the reply came"
        await tg.settle()
        assert all(user.messages for user in backlog)


async def test_a_button_answer_does_not_wait_behind_a_chat_held_by_flood_control(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        user = tg.chat(42)
        welcome = await user.send(f"/start {tg.code()}")
        question = welcome[-1]
        assert question.buttons

        tg.server.faults.add("sendMessage", kind="429", chat_id=42, retry_after=2)  # the chat waits two seconds
        queue_texts(tg, [(42, "Melding 1"), (42, "Melding 2")])
        start = len(tg.server.all_calls)
        await tg.bot.sender.scan()
        await tg.server.wait_for_call("sendMessage", lambda params: params.get("chat_id") == 42, start=start)

        await user.user.press(question, question.buttons[0])
        answer = await tg.server.wait_for_call("answerCallbackQuery", start=start)
        held = [c for c in tg.server.all_calls[start:] if c.method == "sendMessage"]
        assert [c.status for c in held] == [429], "the answer came only after the chat's wait"
        assert answer.ok

        await tg.settle()
        texts = user.texts()
        assert texts[-3:-1] == ["Melding 1", "Melding 2"]  # the chat's order holds: the next question after them
        assert tg.server.unanswered_callback_queries == []


async def test_a_backlog_does_not_hold_up_a_stop_and_nothing_is_lost(sqlite_url: str) -> None:
    limits = SendLimits(overall=20.0, per_chat=None)  # 200 messages: ten seconds of work
    async with running_bot(sqlite_url, tuning=replace(FAST, limits=limits)) as tg:
        backlog = [tg.server.user(2000 + n) for n in range(200)]
        queue_texts(tg, [(user.chat_id, "Påminnelse") for user in backlog])
        await tg.bot.sender.scan()
        await tg.server.wait_until(lambda: any(user.messages for user in backlog))
        loop = asyncio.get_running_loop()
        stopping = loop.time()
    stopped = loop.time() - stopping
    assert stopped < FAST.stop_grace + 2.0, f"stopping took {stopped:.1f} s"
    delivered = {user.chat_id for user in backlog if user.messages}
    rows = outbox_rows(tg.app)
    assert {row.chat_id for row in rows if row.sent_at is not None} == delivered  # every delivery marked
    assert len([row for row in rows if row.sent_at is None]) == len(backlog) - len(delivered) > 0  # the rest wait


async def test_the_send_rate_is_a_setting(sqlite_url: str) -> None:
    async with running_bot(sqlite_url, tuning=PRODUCTION_PACE, send_rate=100.0) as tg:  # GUIDEBOT_SEND_RATE=100
        users = [tg.server.user(2000 + n) for n in range(40)]
        queue_texts(tg, [(user.chat_id, "Hei") for user in users])
        await tg.bot.sender.scan()
        await tg.settle()
        times = sorted(t for user in users for t in user.delivery_times)
        assert len(times) == 40
        assert 39 / 100 * 0.9 <= times[-1] - times[0] < 39 / 29 * 0.75  # paced at 100 a second, not the default 29
