"""SQLite takes one `guidebot run` process: a second on the same file is refused with a clear line."""

from __future__ import annotations

import dataclasses

import pytest

from bot.app import build_app
from bot.channels.telegram.runtime import SettingsProblem, TelegramBot
from bot.clock import FakeClock
from tests.fakes import FakeTelegram
from tests.support.telegram_harness import FAST, BotProcess, running_bot, settings_for


async def test_a_second_process_on_one_sqlite_file_is_refused(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as first:
        second = BotProcess(first.server, sqlite_url)
        await second.start()
        assert await second.wait(timeout=60) == 1
        line = second.stderr.strip().splitlines()[-1]
        assert line.startswith("guidebot: another guidebot process is already running on the SQLite database")
        assert "use PostgreSQL" in line
        assert "Traceback" not in second.stderr
        # The first goes on as if nothing happened.
        user = first.chat(42)
        assert await user.send("hei")


async def test_the_lock_goes_with_the_process_and_roles_split_in_two(sqlite_url: str) -> None:
    async with FakeTelegram() as server:
        async with running_bot(sqlite_url, server=server):
            pass
        # Stopped: the file is free again.
        async with running_bot(sqlite_url, server=server):
            pass
        await roles_split_in_two(server, sqlite_url)


async def roles_split_in_two(server: FakeTelegram, sqlite_url: str) -> None:
    """One receiving and one sending process may share the file, but not a third doing everything."""
    receiving = build_app(settings_for(server, sqlite_url), FakeClock(), run_migrations=False)
    sending = build_app(settings_for(server, sqlite_url), FakeClock(), run_migrations=False)
    everything = build_app(settings_for(server, sqlite_url), FakeClock(), run_migrations=False)
    try:
        async with (
            TelegramBot(receiving, tuning=dataclasses.replace(FAST, role="receive")),
            TelegramBot(sending, tuning=dataclasses.replace(FAST, role="send")),
        ):
            with pytest.raises(SettingsProblem, match="already running"):
                async with TelegramBot(everything, tuning=FAST):
                    pass
    finally:
        for app in (receiving, sending, everything):
            app.db.dispose()
