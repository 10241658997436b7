"""What real Telegram users do: old buttons, double taps, stickers, huge messages, redelivery, many at once."""

from __future__ import annotations

import asyncio
import shutil
import threading
import unicodedata
from typing import Any

import pytest
from sqlmodel import Session, col, select

from bot.clock import FakeClock
from bot.config import DEFAULT_DIALOGS_DIR
from bot.engine.events import Event
from bot.engine.outgoing import Outbox
from bot.storage.db import transaction
from bot.storage.models import Answer, InboxItem
from tests.support.telegram_harness import (
    Chat,
    Running,
    answer_measure,
    answers_of,
    course_of,
    inbox_rows,
    running_bot,
)


def nb(tg: Running, key: str, **values: Any) -> str:
    return tg.app.dialogs.current.renderer.render("nb", key, values)


async def to_goals(tg: Running, chat: Chat, label: str) -> None:
    """Start a course and answer up to the first question that takes text (the goals)."""
    await chat.send(f"/start {tg.code('depression', label)}")
    await chat.press("Ja, vi fortsetter")
    await chat.press("30–49")
    await chat.press("En del")
    await answer_measure(chat, [1] * 16)


async def test_old_buttons_and_double_taps(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        chat = tg.chat(42)
        await chat.send(f"/start {tg.code()}")
        consent = chat.question()
        data = consent.callback_data("Ja, vi fortsetter")
        await chat.press("Ja, vi fortsetter")

        # A tap on the old question (its keyboard is gone here, but another device may still show it).
        query = tg.server.open_callback_query(chat.user)
        await tg.server.deliver(
            {
                "callback_query": {
                    "id": query,
                    "from": chat.user.raw_user,
                    "message": consent.raw,
                    "chat_instance": "42",
                    "data": data,
                }
            }
        )
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        assert chat.user.callback_answers[-1].text == nb(tg, "common.stale_button")

        # Two quick taps on the same button, before the bot has answered the first.
        age = chat.question()
        before = len(chat.user.messages)
        await asyncio.gather(chat.user.press(age, "30–49"), chat.user.press(age, "30–49"))
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        assert [m.text for m in chat.user.messages[before:]] == [nb(tg, "intake.impact")]
        assert [a.text for a in chat.user.callback_answers[-2:]] == [None, nb(tg, "common.stale_button")]
        assert [(a.key, a.value) for a in answers_of(tg.app, 42)] == [("consent", "yes"), ("age_band", "30_49")]
        assert tg.server.unanswered_callback_queries == []


async def test_stickers_media_edits_and_groups_get_a_kind_reply(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        chat = tg.chat(42)
        await chat.send(f"/start {tg.code()}")
        question = nb(tg, "intake.consent")
        user = chat.user
        for send in (user.send_sticker, user.send_photo, user.send_document, user.send_location):
            replies = await chat._act(send())
            assert [m.text for m in replies] == [nb(tg, "common.unsupported"), question]
        replies = await chat._act(user.send_voice())
        assert [m.text for m in replies] == [nb(tg, "reading.unreadable"), question]
        first = next(message_id for message_id, m in user.history.items() if m["from"]["id"] == 42)
        assert [m.text for m in await chat._act(user.edit(first, "noe annet"))] == [nb(tg, "common.edited")]

        group = tg.server.group(-200, "En gruppe")
        await group.send(7, "Hei bot")
        await group.send(7, "/help@someotherbot")
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        assert group.texts() == [nb(tg, "common.groups")]


async def test_a_5000_character_message_and_odd_unicode(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        chat = tg.chat(42)
        await to_goals(tg, chat, "K-8001")
        replies = await chat.send("Å " * 2500)
        assert replies[0].text == nb(tg, "common.too_long", limit=4000)
        goals = next(a.value for a in answers_of(tg.app, 42) if a.key == "goals")
        assert isinstance(goals, str) and len(goals) <= 4000 and goals.startswith("Å Å")

        await chat.send("/start")
        await chat.send("/language")
        odd = "Ja\u200b 👩‍👧 e\u0301 \u202eomvendt\u202c \x07"
        await chat.send(odd)  # not an answer here: a text while a button question waits
        assert course_of(tg.app, 42) is not None
        assert all(unicodedata.is_normalized("NFC", str(a.value)) for a in answers_of(tg.app, 42))


async def test_long_outgoing_text_is_split_with_the_buttons_on_the_last_part(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        chat = tg.chat(42)
        text = "\n\n".join(f"Avsnitt {n}. " + "Dette er en lang tekst. " * 60 for n in range(7))
        with transaction(tg.app.db) as session:
            Outbox(session, tg.clock.now()).text(42, text, buttons=[[{"text": "OK", "data": "x:1"}]])
        await tg.bot.sender.scan()
        await tg.settle()
        parts = chat.user.messages
        assert len(parts) == 4 and all(len(m.text or "") <= 4096 for m in parts)
        assert all((m.text or "").startswith("Avsnitt") for m in parts)  # cut between paragraphs
        assert [m.buttons for m in parts] == [[], [], [], ["OK"]]
        assert "".join("".join((m.text or "").split()) for m in parts) == "".join(text.split())  # nothing lost


async def test_a_redelivered_update_is_processed_once(database_url: str) -> None:
    async with running_bot(database_url) as tg:
        chat = tg.chat(42)
        start = await chat.user.send(f"/start {tg.code()}")
        await tg.settle(start)
        await chat.press("Ja, vi fortsetter")
        pressed = int(tg.server.updates[-1]["update_id"])
        replies = len(chat.user.messages)

        # Telegram sends both again, as it does when it did not hear that they arrived.
        await tg.server.redeliver(start)
        await tg.server.redeliver(pressed)
        probe = await chat.user.send("/help")
        await tg.settle(probe)
        assert [m.text for m in chat.user.messages[replies:]] == [nb(tg, "common.help")]
        assert [(a.key, a.value) for a in answers_of(tg.app, 42)] == [("consent", "yes")]
        assert [row.update_id for row in inbox_rows(tg.app)] == [start, pressed, probe]


async def test_each_chat_in_order_and_chats_side_by_side(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        chats = [tg.chat(100 + n) for n in range(6)]
        codes = [tg.code("depression", f"K-81{n:02}") for n in range(6)]
        # Each user sends three messages at once; only in order do they make sense.
        for chat, code in zip(chats, codes, strict=True):
            await chat.user.send(f"/start {code}")
            await chat.user.send("/plan")
            await chat.user.send("/help")
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        for chat in chats:
            texts = chat.texts()
            assert texts[0].startswith("Velkommen!")
            assert texts[-1] == nb(tg, "common.help")
            assert texts[-2] != nb(tg, "start.ask_code")  # /plan came after the course began
        times = sorted((m.time, m.chat_id) for chat in chats for m in chat.user.messages)
        assert len({chat_id for _, chat_id in times[: len(chats)]}) > 1  # the chats were served side by side


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_slow_chat_does_not_hold_up_the_others(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Different chats run side by side (on PostgreSQL: SQLite has one writer at a time)."""
    async with running_bot(database_url) as tg:
        slow, quick = tg.chat(201), tg.chat(202)
        release = threading.Event()
        handle = tg.app.engine.handle

        def held(session: Session, event: Event) -> Any:
            if event.chat_id == 201:
                release.wait(10)
            return handle(session, event)

        monkeypatch.setattr(tg.app.engine, "handle", held)
        await slow.user.send("/help")
        await quick.user.send("/help")
        await quick.user.wait_for_message()
        assert slow.user.messages == []
        release.set()
        await slow.user.wait_for_message()


async def test_an_update_that_keeps_failing_is_set_aside_with_an_apology(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(sqlite_url) as tg:
        chat = tg.chat(42)
        handle = tg.app.engine.handle

        def failing(session: Session, event: Event) -> Any:
            if event.text == "boom":
                raise RuntimeError("a bug")
            return handle(session, event)

        monkeypatch.setattr(tg.app.engine, "handle", failing)
        assert [m.text for m in await chat.send("boom")] == [nb(tg, "common.error")]
        assert [m.text for m in await chat.send("/help")] == [nb(tg, "common.help")]
        with transaction(tg.app.db) as session:
            rows = session.exec(select(InboxItem).order_by(col(InboxItem.id))).all()
            assert [(r.attempts, r.processed_at is not None) for r in rows] == [(3, True), (0, True)]
            assert session.exec(select(Answer)).all() == []


async def test_the_dialogs_reload_and_a_broken_reload_is_refused(
    sqlite_url: str, tmp_path: Any, clock: FakeClock
) -> None:

    dialogs = tmp_path / "dialogs"
    shutil.copytree(DEFAULT_DIALOGS_DIR, dialogs)
    async with running_bot(sqlite_url, clock, dialogs_dir=dialogs) as tg:
        texts = dialogs / "locales" / "nb" / "texts.yaml"
        original = texts.read_text()
        texts.write_text(original.replace('help: "Hva jeg kan hjelpe med"', 'help: "Hjelp og oversikt"'))
        assert await tg.bot.reload_dialogs()
        assert tg.server.menu("nb")[-1]["description"] == "Hjelp og oversikt"
        texts.write_text(original + "\n  broken: {{ unclosed\n")
        assert not await tg.bot.reload_dialogs()
        assert tg.server.menu("nb")[-1]["description"] == "Hjelp og oversikt"
        assert [m.text for m in await tg.chat(42).send("/help")] == [nb(tg, "common.help")]


async def test_a_choice_is_noted_under_its_question(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        user = tg.server.user(42)
        with transaction(tg.app.db) as session:
            Outbox(session, tg.clock.now()).text(42, "Neste steg?", buttons=[[{"text": "Kurs", "data": "x:1"}]])
        await tg.bot.sender.scan()
        await tg.settle()
        question = user.messages[0]
        with transaction(tg.app.db) as session:
            Outbox(session, tg.clock.now()).clear_buttons(42, question.message_id, "Valgt: kurs")
        await tg.bot.sender.scan()
        await tg.settle()
        assert (question.text, question.buttons) == ("Neste steg?\n\nValgt: kurs", [])
