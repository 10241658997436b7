"""Webhook mode: Telegram POSTs updates with the secret token; anything else is refused and stores nothing."""

from __future__ import annotations

import pytest
from aiohttp import ClientSession

from bot.channels.telegram.runtime import SettingsProblem
from bot.channels.telegram.updates import ALLOWED_UPDATES
from tests.fakes import FakeTelegram
from tests.support.telegram_harness import BotProcess, free_port, inbox_rows, running_bot

SECRET = "s3cret_Value-123"


async def test_updates_come_by_webhook_and_wrong_secrets_are_refused(sqlite_url: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    async with running_bot(sqlite_url, webhook_url=url, webhook_secret=SECRET, listen=f"127.0.0.1:{port}") as tg:
        assert tg.server.webhook_url == url
        assert tg.server.webhook_params["secret_token"] == SECRET
        assert set(tg.server.webhook_params["allowed_updates"]) == set(ALLOWED_UPDATES)

        user = tg.chat(42)
        welcome = await user.send(f"/start {tg.code()}")  # the fake POSTs it with the secret
        assert welcome[0].text is not None and welcome[0].text.startswith("Velkommen!")
        assert tg.server.webhook_deliveries[-1][1] == 200

        forged = {
            "update_id": 777_001,
            "message": {
                "message_id": 99,
                "date": 1,
                "text": "/delete",
                "from": user.user.raw_user,
                "chat": user.user.raw_chat,
            },
        }
        assert await tg.server.push_webhook(url, forged, "wrong-secret") == 403
        assert await tg.server.push_webhook(url, forged, None) == 403
        assert await tg.server.push_webhook(url, forged, SECRET[:-1]) == 403
        async with ClientSession() as http, http.get(url) as response:
            assert response.status == 405
        async with (
            ClientSession() as http,
            http.post(url, data=b"not json", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as bad,
        ):
            assert bad.status == 400
        assert 777_001 not in [row.update_id for row in inbox_rows(tg.app)]

        # Telegram sends an update again when it did not get a 200: it is processed once.
        messages = len(user.user.messages)
        first = int(tg.server.updates[0]["update_id"])
        assert await tg.server.redeliver(first) == 200
        await tg.settle()
        assert len(user.user.messages) == messages
        assert [row.update_id for row in inbox_rows(tg.app)] == [first]


async def test_webhook_mode_needs_a_secret(sqlite_url: str) -> None:
    with pytest.raises(SettingsProblem, match="GUIDEBOT_WEBHOOK_SECRET"):
        async with running_bot(sqlite_url, webhook_url="https://bot.example.no/hook", webhook_secret=""):
            pass


async def test_a_malformed_webhook_update_gets_a_200_and_is_set_aside(sqlite_url: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    async with running_bot(sqlite_url, webhook_url=url, webhook_secret=SECRET, listen=f"127.0.0.1:{port}") as tg:
        user = tg.chat(42)
        broken = {
            "update_id": 777_002,
            "message": {"message_id": 9, "date": 1, "text": "hei", "from": user.user.raw_user, "chat": {"id": "x"}},
        }
        assert await tg.server.push_webhook(url, broken, SECRET) == 200  # Telegram would send a 500 again and again
        assert await tg.server.push_webhook(url, {"no": "update_id"}, SECRET) == 200
        [row] = [row for row in inbox_rows(tg.app) if row.update_id == 777_002]
        assert row.processed_at is not None and row.payload == {}

        welcome = await user.send(f"/start {tg.code()}")  # and the next update is taken as usual
        assert welcome[0].text is not None and welcome[0].text.startswith("Velkommen!")


async def test_a_webhook_telegram_refuses_stops_the_start_with_one_line(sqlite_url: str) -> None:
    """Telegram takes only HTTPS webhooks; `guidebot run` says so in one line, naming the setting
    (it used to end in a traceback)."""
    async with FakeTelegram() as server:
        process = BotProcess(
            server,
            sqlite_url,
            GUIDEBOT_WEBHOOK_URL="http://bot.example.no/telegram/hook",
            GUIDEBOT_WEBHOOK_SECRET=SECRET,
            GUIDEBOT_LISTEN=f"127.0.0.1:{free_port()}",
        )
        await process.start()
        assert await process.wait() != 0
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1, process.stderr
    assert "GUIDEBOT_WEBHOOK_URL=http://bot.example.no/telegram/hook" in lines[0] and "https url" in lines[0].lower()


async def test_setwebhook_waits_out_network_trouble(sqlite_url: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    async with FakeTelegram() as server:
        server.faults.add("setWebhook", kind="502", count=2)
        async with running_bot(
            sqlite_url, server=server, webhook_url=url, webhook_secret=SECRET, listen=f"127.0.0.1:{port}"
        ) as tg:
            assert tg.server.webhook_url == url
    assert [c.status for c in server.all_calls if c.method == "setWebhook"] == [502, 502, 200]
