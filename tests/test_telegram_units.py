"""The Telegram channel's pure parts: updates to events, text splitting, pacing, log redaction."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.app import App
from bot.channels.telegram.inbox import prune_processed, without_names
from bot.channels.telegram.messages import MAX_TEXT, split_text, utf16_len
from bot.channels.telegram.pacing import TELEGRAM_OVERALL, Bucket, Closed, Pacer, SendLimits
from bot.channels.telegram.privacy import describe, protect_logs
from bot.channels.telegram.runtime import Tuning
from bot.channels.telegram.updates import chat_id_of, to_event
from bot.config import Settings
from bot.storage.db import transaction
from bot.storage.models import InboxItem

BOT = "guidebot_test_bot"
USER = {"id": 42, "is_bot": False, "first_name": "Kari", "language_code": "nb"}
PRIVATE = {"id": 42, "type": "private", "first_name": "Kari"}
GROUP = {"id": -100, "type": "group", "title": "Veilederteamet"}


def message(**content: Any) -> dict[str, Any]:
    return {"message_id": 5, "from": USER, "chat": PRIVATE, "date": 1, **content}


def test_text_commands_and_deep_links() -> None:
    event = to_event({"update_id": 1, "message": message(text="/start ABCD-1234")}, BOT)
    assert event is not None
    assert (event.kind, event.command, event.args, event.chat_id, event.from_id, event.language) == (
        "command",
        "start",
        "ABCD-1234",
        42,
        42,
        "nb",
    )
    text = to_event({"update_id": 2, "message": message(text="Hei 👋")}, BOT)
    assert text is not None and (text.kind, text.text, text.is_group) == ("text", "Hei 👋", False)


def test_buttons_carry_the_query_and_the_message() -> None:
    update = {
        "update_id": 3,
        "callback_query": {
            "id": "q1",
            "from": USER,
            "message": message(text="Spørsmål"),
            "chat_instance": "x",
            "data": "s:4:1",
        },
    }
    event = to_event(update, BOT)
    assert event is not None
    assert (event.kind, event.data, event.callback_id, event.message_id, event.chat_id) == (
        "button",
        "s:4:1",
        "q1",
        5,
        42,
    )
    assert chat_id_of(update) == 42


@pytest.mark.parametrize(
    "content",
    [
        {"sticker": {"file_id": "s"}},
        {"photo": [{"file_id": "p"}]},
        {"video": {"file_id": "v"}},
        {"document": {"file_id": "d"}},
        {"location": {"latitude": 59.9, "longitude": 10.7}},
    ],
)
def test_other_content_is_unsupported(content: dict[str, Any]) -> None:
    event = to_event({"update_id": 4, "message": message(**content)}, BOT)
    assert event is not None and event.kind == "unsupported"


def test_edits_groups_service_messages_and_other_bots() -> None:
    edited = to_event({"update_id": 5, "edited_message": message(text="endret")}, BOT)
    assert edited is not None and edited.kind == "edited"
    group = to_event({"update_id": 6, "message": message(text="/help@guidebot_test_bot", chat=GROUP)}, BOT)
    assert group is not None and group.is_group and group.command == "help" and group.chat_id == -100
    assert to_event({"update_id": 7, "message": message(text="/help@otherbot", chat=GROUP)}, BOT) is None
    assert to_event({"update_id": 8, "message": message(new_chat_members=[USER], chat=GROUP)}, BOT) is None
    assert to_event({"update_id": 9, "channel_post": {"chat": {"id": -5}}}, BOT) is None


def test_blocking_the_bot_is_an_event() -> None:
    member = {
        "chat": PRIVATE,
        "from": USER,
        "date": 1,
        "old_chat_member": {"status": "member", "user": USER},
        "new_chat_member": {"status": "kicked", "user": USER, "until_date": 0},
    }
    event = to_event({"update_id": 10, "my_chat_member": member}, BOT)
    assert event is not None and (event.kind, event.chat_id) == ("blocked", 42)


def test_text_is_split_within_telegrams_limit() -> None:
    paragraphs = "\n\n".join(f"Avsnitt {n}: " + "ord " * 150 for n in range(12))
    pieces = split_text(paragraphs)
    assert len(pieces) > 1 and all(utf16_len(p) <= MAX_TEXT for p in pieces)
    assert all(p.startswith("Avsnitt") for p in pieces)  # cut between paragraphs
    emoji = "😀" * 5000  # two UTF-16 units each
    assert [utf16_len(p) for p in split_text(emoji)] == [4096, 4096, 1808]
    assert split_text("kort") == ["kort"]


def test_a_bucket_lets_a_burst_through_then_paces() -> None:
    bucket = Bucket(rate=1.0, burst=3)
    assert [bucket.reserve(0.0) for _ in range(5)] == [0.0, 0.0, 0.0, 1.0, 2.0]
    assert bucket.reserve(10.0) == 0.0


async def test_the_gate_lets_alerts_through_first_then_chats_in_conversation_then_the_oldest() -> None:
    pacer = Pacer(SendLimits(overall=1000.0, per_chat=None), connections=1)
    order: list[int] = []

    async def send(chat_id: int, row_id: int, *, alert: bool = False) -> None:
        async with pacer.message(chat_id, row_id, alert=alert):
            order.append(row_id)

    pacer.heard_from(7)  # the person in chat 7 just wrote
    # Tasks start in the order they were made, all before the gate the first one opens.
    await asyncio.gather(send(1, 10), send(2, 11), send(7, 30), send(-1001, 40, alert=True))
    assert order == [40, 30, 10, 11]


async def test_a_closed_gate_lets_nothing_more_through() -> None:
    pacer = Pacer(SendLimits(overall=1.0, per_chat=None), connections=1)
    async with pacer.message(1, 1):
        pass
    seen: list[int] = []

    async def send() -> None:
        async with pacer.message(2, 2):  # its turn is a second away
            seen.append(-1)

    async def close() -> None:  # runs after `send` has reached the gate
        seen.append(pacer.waiting)
        pacer.close()

    results = await asyncio.gather(send(), close(), return_exceptions=True)
    assert isinstance(results[0], Closed) and seen == [1]
    with pytest.raises(Closed):
        async with pacer.message(3, 3):
            pass


def test_production_limits_are_telegrams_with_a_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GUIDEBOT_SEND_RATE", raising=False)
    limits = Tuning().send_limits(Settings(_env_file=None))
    assert limits == SendLimits(overall=29.0, per_chat=1.0, chat_burst=3)
    assert limits.overall is not None and limits.overall < TELEGRAM_OVERALL
    monkeypatch.setenv("GUIDEBOT_SEND_RATE", "250")  # a Bot API server of one's own, or a benchmark
    assert Tuning().send_limits(Settings(_env_file=None)).overall == 250.0


def test_tokens_are_cut_out_of_every_log_record(caplog: pytest.LogCaptureFixture) -> None:
    token = "123456:SECRET-token-for-redaction"
    protect_logs(token)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("somewhere").warning("POST https://api.telegram.org/bot%s/getMe", token)
        try:
            raise ValueError(f"failed at /bot{token}/sendMessage")
        except ValueError:
            logging.getLogger("somewhere").exception("it broke")
    assert "SECRET-token" not in caplog.text
    assert "https://api.telegram.org/bot<redacted>/getMe" in caplog.text
    assert logging.getLogger("telegram").getEffectiveLevel() >= logging.INFO
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING


def test_exceptions_are_described_without_their_message() -> None:
    try:
        raise ValueError("the user wrote: hemmelig")
    except ValueError as exc:
        described = describe(exc)
    assert described.startswith("ValueError at ") and "hemmelig" not in described


def test_stored_updates_carry_no_names() -> None:
    update = {
        "update_id": 1,
        "message": {
            "message_id": 5,
            "text": "hei",
            "from": {"id": 7, "first_name": "Kari", "username": "kari_n", "language_code": "nb"},
            "chat": {"id": 7, "type": "private", "first_name": "Kari"},
        },
    }
    stored = without_names(update)
    assert "Kari" not in str(stored) and "kari_n" not in str(stored)
    assert stored["message"]["from"] == {"id": 7, "language_code": "nb"}
    assert stored["message"]["text"] == "hei"


def test_processed_updates_are_forgotten_after_a_week(app: App) -> None:
    now = app.engine.clock.now()
    with transaction(app.db) as session:
        session.add(
            InboxItem(update_id=1, chat_id=7, received_at=now - timedelta(days=8), processed_at=now - timedelta(days=8))
        )
        session.add(
            InboxItem(update_id=2, chat_id=7, received_at=now - timedelta(days=1), processed_at=now - timedelta(days=1))
        )
        session.add(InboxItem(update_id=3, chat_id=7, received_at=now - timedelta(days=9)))
    with transaction(app.db) as session:
        assert prune_processed(session, now) == 1
    with transaction(app.db) as session:
        assert sorted(r.update_id or 0 for r in session.exec(select(InboxItem)).all()) == [2, 3]
