"""Updates that are not what they should be: malformed ones are set aside alone, and button
presses are honoured only from the chat's own user (clinicians' only from an active
clinician), while every press is answered. And a start that Telegram makes hard: trouble on
the way to ready is waited out, and a method the Bot API server does not know stops nothing."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import select

from bot.storage.db import transaction
from bot.storage.models import Alert, Clinician
from tests.fakes import BOT_ID, FakeChat, FakeTelegram, FakeUser
from tests.fakes.chats import FakeGroup
from tests.support.clinician import add_clinician
from tests.support.telegram_harness import BotProcess, Running, course_of, enrol, inbox_rows, running_bot

TEAM = -1001
SECRET_TEXT = "hemmelig tekst som aldri skal i loggen"


def _message_from(user: FakeUser, chat: dict[str, Any], text: str) -> dict[str, Any]:
    return {"message_id": 900, "date": 1, "from": user.raw_user, "chat": chat, "text": text}


def malformed_updates(user: FakeUser) -> list[dict[str, Any]]:
    """Updates no Telegram should send, each carrying a user's text."""
    chat = user.raw_chat
    return [
        {"message": _message_from(user, {**chat, "id": "not-a-number"}, SECRET_TEXT)},
        {"message": _message_from(user, {**chat, "id": 10**30}, SECRET_TEXT)},  # beyond 64 bits
        {"message": {**_message_from(user, chat, SECRET_TEXT), "from": "someone"}},
        {"callback_query": ["not", "an", "object"]},
        {"callback_query": {"id": "q", "from": user.raw_user, "data": "s:1:0", "message": {"chat": chat}}},
    ]


def press(chat: FakeChat, presser: FakeUser, message: dict[str, Any], data: str | None) -> dict[str, Any]:
    """A callback_query as Telegram sends it; the query is open until the bot answers it."""
    query: dict[str, Any] = {
        "id": chat.server.open_callback_query(presser),
        "from": presser.raw_user,
        "message": message,
        "chat_instance": f"instance{chat.chat_id}",
    }
    if data is not None:
        query["data"] = data
    return {"callback_query": query}


async def test_a_malformed_update_is_set_aside_alone_and_intake_goes_on(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_bot(database_url) as tg:
        first, second = tg.server.user(42), tg.server.user(43)
        bad = malformed_updates(first)
        ids = await tg.server.deliver_batch(
            [
                {"message": _message_from(first, first.raw_chat, "/help")},
                *bad,
                {"message": _message_from(second, second.raw_chat, "/help")},
            ]
        )
        await tg.settle(ids[-1])

        help_text = tg.app.dialogs.current.renderer.render("nb", "common.help", {})
        assert first.texts() == [help_text] and second.texts() == [help_text]
        rows = {row.update_id: row for row in inbox_rows(tg.app)}
        assert set(rows) == set(ids)  # the whole batch is stored: the bad ones set aside, with nothing of theirs kept
        for update_id in ids[1:-1]:
            assert rows[update_id].processed_at is not None and rows[update_id].payload == {}
            assert f"update {update_id} is malformed and was set aside" in caplog.text
        assert SECRET_TEXT not in caplog.text

        # Intake goes on, and the same updates sent again are dropped.
        for update_id in ids[1:-1]:
            await tg.server.redeliver(update_id)
        later = await tg.server.deliver({"message": _message_from(first, first.raw_chat, "/help")})
        await tg.settle(later)
        assert first.texts() == [help_text, help_text]
        assert len(inbox_rows(tg.app)) == len(ids) + 1


async def test_a_press_in_someone_elses_chat_changes_nothing_but_is_answered(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        owner = tg.chat(42)
        welcome = await owner.send(f"/start {tg.code()}")
        consent = welcome[-1]
        intruder = tg.server.user(43)
        before = course_of(tg.app, 42)
        assert before is not None

        forged = await tg.server.deliver(
            press(owner.user, intruder, consent.raw, consent.callback_data(consent.buttons[0]))
        )
        await tg.settle(forged)

        assert len(owner.user.messages) == len(welcome) and consent.buttons  # nothing answered, nothing sent
        course = course_of(tg.app, 42)
        assert course is not None and (course.state, course.ask_seq) == (before.state, before.ask_seq)
        stale = tg.app.dialogs.current.renderer.render("nb", "common.stale_button", {})
        assert [answer.text for answer in intruder.callback_answers] == [stale]
        assert tg.server.unanswered_callback_queries == []

        replies = await owner.press(consent.buttons[0])  # the owner's own press still works
        assert replies and replies[-1].buttons
        course = course_of(tg.app, 42)
        assert course is not None and course.ask_seq != before.ask_seq


async def test_presses_in_other_groups_and_without_data_are_answered(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        other = tg.server.group(-2002, "En annen gruppe")
        member = tg.server.user(77)
        bot_message = {
            "message_id": 5,
            "date": 1,
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "G"},
            "chat": other.raw_chat,
            "text": "Spørsmål",
        }
        ids = [
            await tg.server.deliver(press(other, member, bot_message, "s:1:0")),
            await tg.server.deliver(press(other, member, bot_message, None)),
            await tg.server.deliver(press(member, member, {**bot_message, "chat": member.raw_chat}, None)),
        ]
        await tg.settle(ids[-1])
        assert tg.server.unanswered_callback_queries == []
        assert len(member.callback_answers) == 3
        assert other.messages == [] and member.messages == []  # answered, and nothing said in the group


async def _alert_in_team_chat(tg: Running) -> tuple[FakeGroup, Any]:
    user = await enrol(tg, 42, "K-42")
    await user.send("Kan noen ringe meg?")
    team = tg.server.chats[TEAM]
    assert isinstance(team, FakeGroup)
    alert = next(m for m in team.messages if "K-42" in (m.text or "") and m.buttons)
    return team, alert


def _acknowledged(tg: Running) -> bool:
    with transaction(tg.app.db) as session:
        alerts = session.exec(select(Alert)).all()
        return any(alert.acknowledged_at is not None for alert in alerts)


async def test_an_alert_is_acknowledged_only_by_an_active_clinician(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        add_clinician(tg.app, 501, "Kari")
        add_clinician(tg.app, 502, "Per")
        with transaction(tg.app.db) as session:
            session.execute(update(Clinician).where(Clinician.telegram_id == 502).values(active=False))  # type: ignore[arg-type]
        team, alert = await _alert_in_team_chat(tg)
        refusal = tg.app.dialogs.current.renderer.render("nb", "clinician.not_available", {})

        for stranger in (77, 502):  # a member of the team chat who is no clinician, and one no longer active
            await team.press(stranger, alert, "Kvitter")
            await tg.settle(int(tg.server.updates[-1]["update_id"]))
            assert tg.server.users[stranger].callback_answers[-1].text == refusal
            assert not _acknowledged(tg)

        await team.press(501, alert, "Kvitter")
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        assert _acknowledged(tg)
        assert tg.server.unanswered_callback_queries == []


# -- the start ------------------------------------------------------------------


async def test_a_start_waits_out_network_trouble_on_delete_webhook(sqlite_url: str) -> None:
    """Polling asks for any webhook to be removed before it begins; a 502 there is waited out, as for
    getMe and the team chat check (it used to end the start)."""
    async with FakeTelegram() as server:
        server.faults.add("deleteWebhook", kind="502", count=2)
        async with asyncio.timeout(30), running_bot(sqlite_url, server=server) as tg:
            welcome = await tg.chat(42).send(f"/start {tg.code('depression', 'K-7101')}")
            assert welcome and welcome[0].text
    assert [c.status for c in server.all_calls if c.method == "deleteWebhook"] == [502, 502, 200]


async def test_a_bot_api_server_without_getchatmember_or_deletewebhook_still_serves(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A Bot API server that does not know a method answers 404, as Telegram does, which
    python-telegram-bot reports as a bad token; getMe took the token, so it is the method. The
    start goes on with a warning, where it used to wait for ever (the team chat check) or stop
    saying the token was wrong (deleteWebhook)."""
    async with FakeTelegram() as server:
        server.forget("getChatMember")
        server.forget("deleteWebhook")
        with caplog.at_level(logging.WARNING, logger="bot"):
            async with asyncio.timeout(30), running_bot(sqlite_url, server=server) as tg:
                welcome = await tg.chat(42).send(f"/start {tg.code('depression', 'K-7102')}")
                assert welcome and welcome[0].text
    assert {c.status for c in server.all_calls if c.method in ("getChatMember", "deleteWebhook")} == {404}
    assert f"GUIDEBOT_CLINICIAN_CHAT_ID={TEAM} is not checked" in caplog.text
    assert "deleteWebhook was refused" in caplog.text


async def test_a_send_method_the_bot_api_server_does_not_know_is_set_aside_and_the_chat_goes_on(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A 404 on a send (here a server without sendDocument) was taken for a bad token and tried
    again for ever, and the chat's later messages waited behind it. Now that row is set aside, said
    in one line, and the chat goes on."""
    async with FakeTelegram() as server:
        server.forget("sendDocument")
        async with running_bot(sqlite_url, server=server) as tg:
            user = tg.chat(42)
            await user.send(f"/start {tg.code('depression', 'K-7103')}")
            await user.press("Ja, vi fortsetter")
            with caplog.at_level(logging.ERROR, logger="bot"):
                await user.send("/mydata")
            after = await user.send("/help")
            assert after and after[-1].text
    assert "the Bot API server does not know sendDocument; set aside" in caplog.text


@pytest.mark.parametrize("answer", ["401 Unauthorized", "404 Not Found"])
async def test_a_token_telegram_does_not_take_stops_the_start_with_one_line(sqlite_url: str, answer: str) -> None:
    """Telegram answers 401 to a revoked token and 404 to a malformed one (as to a method it does not
    know: getMe is the one every server knows, so there it is the token)."""
    async with FakeTelegram() as server:
        process = BotProcess(server, sqlite_url)
        if answer.startswith("401"):
            process.env["GUIDEBOT_TELEGRAM_TOKEN"] = "123456:revoked"
        else:
            server.forget("getMe")
        await process.start()
        assert await process.wait() != 0
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1, process.stderr
    assert "Telegram did not accept the bot token" in lines[0] and "GUIDEBOT_TELEGRAM_TOKEN" in lines[0]
