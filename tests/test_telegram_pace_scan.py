"""The sender's periodic scan at a large backlog: ids alone, and whole rows only for what is not in hand."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.channels.telegram import outbox
from bot.channels.telegram import sender as sender_module
from bot.channels.telegram.pacing import SendLimits
from tests.support.telegram_harness import FAST, running_bot
from tests.test_telegram_pace import queue_texts


async def test_a_scan_over_a_queued_backlog_loads_no_rows_again(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded: list[int] = []
    load_rows = outbox.load_rows

    def counting(session: Any, ids: list[int]) -> Any:
        loaded.extend(ids)
        return load_rows(session, ids)

    monkeypatch.setattr(sender_module, "load_rows", counting)
    monkeypatch.setattr(sender_module, "SCAN_IDS", 700)  # several reads of ids, as at a backlog of thousands
    limits = SendLimits(overall=5.0, per_chat=None)  # the backlog stays: five a second
    async with running_bot(sqlite_url, tuning=replace(FAST, limits=limits)) as tg:
        users = [tg.server.user(2000 + n) for n in range(1600)]
        queue_texts(tg, [(user.chat_id, "Påminnelse") for user in users])
        await tg.bot.sender.scan()
        assert len(set(loaded)) == 1600  # every row of the backlog in hand
        queued = sum(len(queue) for queue in tg.bot.sender._queues.values())
        assert queued + sum(1 for user in users if user.messages) >= 1600 - 8  # all in hand (a few in flight)

        loaded.clear()
        queue_texts(tg, [(2000, "Enda en")])
        await tg.bot.sender.scan()
        assert len(loaded) == 1  # only the new row; the backlog was read as ids alone
