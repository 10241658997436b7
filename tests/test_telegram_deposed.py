"""A process whose send duty's lock connection is cut stops sending at once (PostgreSQL).

Another process may hold the duty a second later, so the deposed one must not deliver for
its stop grace too: its sender stops with no grace, and the process stops with `Deposed`.
Made-up chat ids only.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

from sqlalchemy import create_engine, text

from bot.channels.telegram.leadership import application_name
from bot.channels.telegram.runtime import Deposed
from bot.clock import FakeClock
from tests.conftest import _truncate_postgres
from tests.support.telegram_harness import running_bot

WAIT = 20.0


async def _until(condition: Callable[[], bool], what: str) -> None:
    """Poll a condition of the running bot (it changes in its own tasks), failing after WAIT s."""
    async with asyncio.timeout(WAIT):
        while not condition():  # noqa: ASYNC110 (the runtime has no event for taking a duty)
            await asyncio.sleep(0.02)  # the bot's tasks run meanwhile; the condition is what is waited for
    assert condition(), what


def _cut_the_send_lock(url: str) -> int:
    """End the database session that holds this process's send duty, as a network cut or a DBA would."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            ended = connection.execute(
                text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": application_name("send")},
            ).scalar_one()
    finally:
        admin.dispose()
    return int(ended)


async def test_a_deposed_sender_stops_sending_at_once(postgres_url: str) -> None:
    _truncate_postgres(postgres_url)
    async with running_bot(postgres_url, FakeClock()) as tg:
        runtime = tg.bot
        await _until(lambda: runtime.sends_here, "the only process takes the send duty")
        assert not runtime.sender.stopped
        assert _cut_the_send_lock(postgres_url) == 1, (
            f"one session named {application_name('send')} (pid {os.getpid()})"
        )
        async with asyncio.timeout(WAIT):
            await runtime.stopped.wait()
        assert isinstance(runtime.error, Deposed)
        # Stopped already, before the process's own stop (and its grace) comes: nothing more leaves here.
        assert runtime.sender.stopped and not runtime.sends_here
