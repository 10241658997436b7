"""The fake Telegram server, driven by a real python-telegram-bot ``Bot`` over HTTP."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import ClientSession, web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)
from telegram.request import HTTPXRequest

ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:  # the tests directory is not a package
    sys.path.insert(0, ROOT)

from tests.fakes import BOT_USERNAME, FakeTelegram, FloodControl

KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("Ja", callback_data="answer:yes")],
        [InlineKeyboardButton("Nei", callback_data="answer:no")],
    ]
)


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest_asyncio.fixture
async def bot(server: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(server.token, base_url=server.base_url) as real_bot:
        yield real_bot


async def _poll_started(server: FakeTelegram, count: int = 1) -> None:
    await server.wait_until(lambda: sum(call.method == "getUpdates" for call in server.all_calls) >= count)


@pytest.mark.asyncio
async def test_get_me_and_wrong_token(server: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, BOT_USERNAME, True)
    with pytest.raises(InvalidToken):
        await Bot("999:wrong", base_url=server.base_url).initialize()
    assert server.all_calls[-1].status == 401


@pytest.mark.asyncio
async def test_send_message_with_keyboard_is_recorded_and_echoed(server: FakeTelegram, bot: Bot) -> None:
    user = server.user(42)
    sent = await bot.send_message(42, "Vil du begynne?", reply_markup=KEYBOARD)
    assert sent.reply_markup == KEYBOARD
    assert sent.from_user is not None and sent.from_user.username == BOT_USERNAME
    second = await bot.send_message(42, "Nummer to")
    assert second.message_id == sent.message_id + 1

    first = await user.wait_for_message()
    assert first.text == "Vil du begynne?"
    assert first.buttons == ["Ja", "Nei"]
    assert first.callback_data("Nei") == "answer:no"
    assert (await user.wait_for_message()).text == "Nummer to"
    assert user.texts() == ["Vil du begynne?", "Nummer to"]
    assert user.last().message_id == second.message_id


@pytest.mark.asyncio
async def test_get_updates_long_polls_and_respects_offset(server: FakeTelegram, bot: Bot) -> None:
    user = server.user(42, language_code="en")
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await _poll_started(server)
    update_id = await user.send("/start hello")
    (update,) = await poll
    assert update.update_id == update_id
    assert update.message is not None and update.message.text == "/start hello"
    assert update.message.from_user is not None
    assert update.message.from_user.language_code == "en"
    assert update.message.parse_entities() == {update.message.entities[0]: "/start"}

    await bot.send_message(42, "Velg", reply_markup=KEYBOARD)
    await user.press("Ja")
    # Without an offset the first update is not confirmed and comes again.
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [update_id, update_id + 1]
    query = updates[1].callback_query
    assert query is not None and query.data == "answer:yes"
    assert query.message is not None and query.message.chat.id == 42

    assert await query.answer("Takk!")
    assert [a.text for a in user.callback_answers] == ["Takk!"]
    assert server.unanswered_callback_queries == []

    assert await bot.get_updates(offset=update_id + 2, timeout=0) == ()
    assert server.pending_updates == 0


@pytest.mark.asyncio
async def test_other_user_inputs_and_group(server: FakeTelegram, bot: Bot) -> None:
    user = server.user(7)
    await user.send("ja")
    await user.send_sticker()
    await user.send_photo(caption="bilde")
    await user.send_voice()
    await user.send_document()
    await user.send_location()
    first = (await bot.get_updates())[0].message
    assert first is not None
    await user.edit(first.message_id, "nei")
    await server.group(-100).send(7, "/help@guidebot_test_bot")
    updates = await bot.get_updates()
    assert [u.effective_message is not None for u in updates] == [True] * 8
    assert updates[1].message and updates[1].message.sticker
    assert updates[2].message and updates[2].message.photo
    assert updates[2].message.caption == "bilde"
    assert updates[3].message and updates[3].message.voice
    assert updates[4].message and updates[4].message.document
    assert updates[5].message and updates[5].message.location
    edited = updates[6].edited_message
    assert edited and (edited.message_id, edited.text) == (first.message_id, "nei")
    group_message = updates[7].message
    assert group_message and group_message.chat.type == "group"
    assert group_message.entities[0].length == len("/help@guidebot_test_bot")


@pytest.mark.asyncio
async def test_edit_delete_and_validation(server: FakeTelegram, bot: Bot) -> None:
    user = server.user(42)
    sent = await bot.send_message(42, "<b>Hei</b>", parse_mode="HTML", reply_markup=KEYBOARD)
    assert sent.text == "Hei"
    edited = await sent.edit_text("Ferdig")
    assert isinstance(edited, type(sent)) and edited.reply_markup is None
    assert user.last().text == "Ferdig" and user.last().buttons == []
    assert (await user.wait_for_edit()).text == "Ferdig"
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await sent.edit_text("Ferdig")
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=42, message_id=999)
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(42, "x" * 4097)
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(42, "  ")
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        too_long = InlineKeyboardButton("x", callback_data="y" * 65)
        await bot.send_message(42, "x", reply_markup=InlineKeyboardMarkup([[too_long]]))
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(42, "<div>x</div>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)reserved"):
        await bot.send_message(42, "Hei.", parse_mode="MarkdownV2")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(404, "hei")
    assert await sent.delete()
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await sent.delete()
    assert await bot.send_chat_action(42, "typing")
    assert [action for action, _ in user.actions] == ["typing"]
    assert len(user.messages) == 1 and user.messages[0].deleted
    assert (await bot.get_chat(42)).first_name == user.first_name


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_faults_and_blocking(server: FakeTelegram, bot: Bot) -> None:
    user = server.user(42)
    server.faults.add("sendMessage", kind="429", retry_after=3)
    with pytest.raises(RetryAfter) as retry:
        await bot.send_message(42, "a")
    assert "retry in 3 seconds" in str(retry.value).lower()
    server.faults.add("sendMessage", kind="500")
    server.faults.add(kind="502", chat_id=42)
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(42, "b")
    server.faults.add(kind="forbidden")
    with pytest.raises(Forbidden):
        await bot.send_message(42, "c")
    server.block(42)
    with pytest.raises(Forbidden, match="(?i)blocked by the user"):
        await bot.send_message(42, "d")
    server.unblock(42)
    await bot.send_message(42, "e")
    assert user.texts() == ["e"]
    assert [call.status for call in server.all_calls if call.method == "sendMessage"] == [
        429,
        500,
        502,
        403,
        403,
        200,
    ]


def test_flood_control_refuses_the_31st_message_in_any_second() -> None:
    flood = FloodControl(overall=30, per_chat=3)
    assert all(flood.admit("sendMessage", {"chat_id": n}, n / 31) for n in range(30))  # 30 in 0.94 s
    assert not flood.admit("sendMessage", {"chat_id": 99}, 30 / 31)  # the 31st within the second
    assert flood.admit("answerCallbackQuery", {}, 30 / 31)  # not a message
    assert flood.admit("editMessageText", {"chat_id": 99}, 30 / 31)
    assert flood.admit("sendMessage", {"chat_id": 99}, 1.0)  # the first has left the window
    assert [flood.admit("sendPhoto", {"chat_id": 7}, 5.0 + n / 10) for n in range(4)] == [True] * 3 + [False]
    assert flood.refused == 2


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_control_answers_429_over_http(server: FakeTelegram, bot: Bot) -> None:
    server.user(42)
    server.flood = FloodControl(overall=None, per_chat=2, chat_window=60.0, retry_after=2)
    await bot.send_message(42, "a")
    await bot.send_message(42, "b")
    with pytest.raises(RetryAfter) as retry:
        await bot.send_message(42, "c")
    assert "retry in 2 seconds" in str(retry.value).lower()
    assert server.users[42].texts() == ["a", "b"]


@pytest.mark.asyncio
async def test_timeout_fault_holds_the_request(server: FakeTelegram) -> None:
    user = server.user(42)
    request = HTTPXRequest(read_timeout=0.1)
    async with Bot(server.token, base_url=server.base_url, request=request) as bot:
        server.faults.add("sendMessage", kind="timeout", delay=0.5)
        with pytest.raises(TimedOut):
            await bot.send_message(42, "slow")
        await bot.send_message(42, "fast")
    assert user.texts() == ["fast"]


@pytest.mark.asyncio
async def test_photo_document_commands_and_rates(server: FakeTelegram, bot: Bot) -> None:
    user = server.user(42)
    photo = await bot.send_photo(42, b"\x89PNG fake", caption="Uke 1")
    assert photo.photo and photo.caption == "Uke 1"
    document = await bot.send_document(42, b"%PDF", filename="plan.pdf")
    assert document.document is not None and document.document.file_name == "plan.pdf"
    assert user.messages[0].photo == b"\x89PNG fake"
    assert (user.messages[1].document, user.messages[1].filename) == (
        b"%PDF",
        "plan.pdf",
    )
    await bot.send_photo(42, photo.photo[-1].file_id)  # resend by file_id
    assert user.messages[2].photo == b"\x89PNG fake"
    assert server.max_per_window(42, 60) == 3
    assert server.max_per_window(42, 1e-9) == 1

    await bot.set_my_commands([BotCommand("start", "Start kurset")], language_code="nb")
    await bot.set_my_commands([BotCommand("start", "Start the course")], language_code="en")
    await bot.set_my_commands([BotCommand("help", "Hjelp")], scope=BotCommandScopeAllPrivateChats())
    assert server.menu("nb") == [{"command": "start", "description": "Start kurset"}]
    assert server.menu(scope="all_private_chats")[0]["command"] == "help"
    (command,) = await bot.get_my_commands(language_code="en")
    assert command.description == "Start the course"
    assert await bot.delete_my_commands(language_code="en")
    assert server.menu("en") == []


@pytest.mark.asyncio
async def test_redeliver_and_poll_conflicts(server: FakeTelegram, bot: Bot) -> None:
    user = server.user(42)
    first = await user.send("hei")
    assert [u.update_id for u in await bot.get_updates()] == [first]
    second = await user.send("igjen")
    assert [u.update_id for u in await bot.get_updates(offset=first + 1)] == [second]
    await server.redeliver(first)
    updates = await bot.get_updates(offset=second + 1)
    assert [u.update_id for u in updates] == [first]
    assert await bot.get_updates(offset=second + 1) == ()

    # A second bot instance polling terminates the first one's long poll.
    old_poll = asyncio.create_task(bot.get_updates(timeout=5))
    await _poll_started(server, count=5)
    async with Bot(server.token, base_url=server.base_url) as second_instance:
        assert await second_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="(?i)terminated by other getUpdates"):
        await old_poll


@pytest.mark.asyncio
async def test_webhook_mode(server: FakeTelegram, bot: Bot) -> None:
    received: list[tuple[dict[str, object], str | None]] = []

    async def webhook(request: web.Request) -> web.Response:
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        received.append((await request.json(), secret))
        return web.Response(status=200 if secret == "s3cret" else 403)

    app = web.Application()
    app.router.add_post("/hook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        assert await bot.set_webhook(url, secret_token="s3cret")
        assert (await bot.get_webhook_info()).url == url
        with pytest.raises(Conflict):
            await bot.get_updates()
        assert await server.user(42).send("via webhook") == 200
        assert received[0][0]["message"]["text"] == "via webhook"  # type: ignore[index]
        assert await server.push_webhook(url, {"update_id": 1}, "wrong") == 403
        assert await bot.delete_webhook()
        assert await server.user(42).send("polling again") > 200
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_full_application_polling_round_trip(server: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "Klar?", reply_markup=KEYBOARD)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Notert")
        await query.edit_message_text(f"Du svarte {query.data}")

    app = ApplicationBuilder().token(server.token).base_url(server.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    user = server.user(42)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=5)
        await user.send("/start")
        assert (await user.wait_for_message()).buttons == ["Ja", "Nei"]
        await user.press("Nei")
        edit = await user.wait_for_edit()
        await user.wait_until(lambda: bool(user.callback_answers))
        await app.updater.stop()
        await app.stop()
    assert edit.text == "Du svarte answer:no"
    assert [a.text for a in user.callback_answers] == ["Notert"]
    assert server.pending_updates == 0  # the final getUpdates confirmed everything


@pytest.mark.asyncio
async def test_raw_wire_format(server: FakeTelegram) -> None:
    server.user(42)
    base = f"{server.base_url}{server.token}"
    async with ClientSession() as http:
        async with http.get(f"{base}/getMe") as response:
            assert (await response.json())["result"]["username"] == BOT_USERNAME
        async with http.post(f"{base}/sendMessage", json={"chat_id": 42, "text": "json"}) as r:
            assert (await r.json())["result"]["chat"]["id"] == 42
        async with http.post(f"{base}/SENDMESSAGE", data={"chat_id": "42", "text": "form"}) as r:
            assert r.status == 200
        async with http.get(f"{base}/noSuchMethod") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }
        async with http.get(f"{server.base_url}1:bad/getMe") as response:
            assert await response.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
    call = await server.wait_for_call("sendMessage", lambda params: params["text"] == "form")
    assert call.params["chat_id"] == 42
    assert server.user(42).texts() == ["json", "form"]
