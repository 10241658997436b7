"""Two processes' worth of bot on one database: one takes updates in, one sends."""

from __future__ import annotations

import dataclasses

from bot.app import build_app
from bot.channels.telegram.runtime import TelegramBot
from bot.clock import FakeClock
from tests.fakes import FakeTelegram
from tests.support.telegram_harness import FAST, new_code, settings_for


async def test_a_receiving_and_a_sending_bot_share_the_work(sqlite_url: str) -> None:
    async with FakeTelegram() as server:
        receiving = build_app(settings_for(server, sqlite_url), FakeClock(), run_migrations=False)
        sending = build_app(settings_for(server, sqlite_url), FakeClock(), run_migrations=False)
        try:
            async with (
                TelegramBot(receiving, tuning=dataclasses.replace(FAST, role="receive")),
                TelegramBot(sending, tuning=dataclasses.replace(FAST, role="send")),
            ):
                user = server.user(4711)
                await user.send(f"/start {new_code(receiving)}")
                question = await user.wait_for_message(lambda m: bool(m.buttons), timeout=15)
                assert question.buttons == ["Ja, vi fortsetter", "Nei, ikke nå"]
                await user.press(question, "Ja, vi fortsetter")
                age = await user.wait_for_message(lambda m: bool(m.buttons), timeout=15)
                assert age.text == "Hvor gammel er du?"
                await server.wait_until(lambda: bool(user.callback_answers), timeout=15)
        finally:
            receiving.db.dispose()
            sending.db.dispose()
