"""A fake Telegram Bot API server speaking the real wire format, for end-to-end tests.

Run the real python-telegram-bot stack against it::

    async with FakeTelegram() as server:
        bot = telegram.Bot(server.token, base_url=server.base_url)
        user = server.user(42)
        await user.send("/start")
        ...  # the bot polls getUpdates and answers
        reply = await user.wait_for_message()

Only the methods the project uses are implemented; other methods answer 404 like an
unknown method does on the real server.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from .chats import FakeChat, FakeGroup, FakeUser
from .faults import BLOCKED, Fault, FaultInjector, FloodControl
from .records import Call, CallbackAnswer, Edit, SentMessage, UploadedFile, WaitTimeout
from .validation import (
    ApiError,
    bad_request,
    check_caption,
    check_commands,
    check_reply_markup,
    check_text,
    plain_text,
)

Params = dict[str, Any]
T = TypeVar("T")
Handler = Callable[[Params], Awaitable[Any]]

BOT_ID = 123456
BOT_USERNAME = "guidebot_test_bot"
TOKEN = f"{BOT_ID}:TEST-token"

_INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "from_chat_id",
        "offset",
        "limit",
        "message_thread_id",
        "reply_to_message_id",
        "cache_time",
        "max_connections",
        "user_id",
        "duration",
    }
)
_FLOAT_FIELDS = frozenset({"timeout", "latitude", "longitude"})
_BOOL_FIELDS = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "disable_content_type_detection",
        "is_personal",
        "for_channels",
    }
)
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "media",
        "menu_button",
        "rights",
    }
)
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_STORED_SETTINGS = (
    "setMyDescription",
    "setMyShortDescription",
    "setMyName",
    "setChatMenuButton",
    "setMyDefaultAdministratorRights",
)
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a content and reply markup of the current message"
)
_MEMBER_RIGHTS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
    "can_edit_tag",
    "can_react_to_messages",
)
_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)
_NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def _normalize(raw: Params) -> Params:
    """Form fields arrive as strings; give known fields their JSON types."""
    params: Params = {}
    for key, value in raw.items():
        if isinstance(value, str):
            try:
                if key in _JSON_FIELDS:
                    value = json.loads(value)
                elif key in _INT_FIELDS:
                    value = int(value) if value.lstrip("-").isdigit() else value
                elif key in _FLOAT_FIELDS:
                    value = float(value)
                elif key in _BOOL_FIELDS:
                    value = value.lower() == "true"
            except ValueError as error:
                raise bad_request(f"can't parse {key} JSON object") from error
        elif key in _INT_FIELDS and isinstance(value, float):
            value = int(value)
        params[key] = value
    for key, value in list(params.items()):  # multipart "attach://name" references
        if isinstance(value, str) and value.startswith("attach://"):
            params[key] = params.pop(value.removeprefix("attach://"), value)
    return params


async def _read_params(request: web.Request) -> Params:
    raw: Params = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise bad_request("request body must be a JSON object")
            raw.update(body)
        else:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    raw[key] = UploadedFile(value.file.read(), value.filename, value.content_type)
                elif isinstance(value, bytes):
                    raw[key] = value.decode()
                else:
                    raw[key] = value
    return raw


def _scope_key(scope: Any) -> str:
    """Key of a BotCommandScope: default, all_private_chats, chat:42, chat_member:-1:42."""
    if not scope:
        return "default"
    parts = [str(scope["type"])]
    parts += [str(scope[key]) for key in ("chat_id", "user_id") if key in scope]
    return ":".join(parts)


def most_within(times: Iterable[float], window_s: float) -> int:
    """Most of these moments within any window_s span."""
    ordered = sorted(times)
    best = start = 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= window_s:
            start += 1
        best = max(best, end - start + 1)
    return best


class FakeTelegram:
    """The fake Bot API server. See the module docstring and the FakeUser class."""

    def __init__(self, token: str = TOKEN, flood: FloodControl | None = None) -> None:
        self.token = token
        self.flood = flood  # None: no sending limits enforced
        self.bot_user: dict[str, Any] = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Guidebot Test",
            "username": BOT_USERNAME,
        }
        self.chats: dict[int, FakeChat] = {}
        self.users: dict[int, FakeUser] = {}
        self.all_calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []  # every update ever created, in order
        self.faults = FaultInjector()
        self.blocked: set[int] = set()
        self.command_menus: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.bot_settings: dict[str, Params] = {}
        self.files: dict[str, UploadedFile] = {}
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_params: Params = {}  # the last setWebhook/deleteWebhook call
        self.webhook_deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status)
        self.port = 0
        self._queue: list[dict[str, Any]] = []
        self._sticky: set[int] = set()  # redelivered ids that survive one confirmation
        self._update_ids = itertools.count(10_001)
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._open_queries: dict[str, FakeUser] = {}
        self._poll_generation = 0
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendMessage": self._send_message,
                "sendPhoto": self._send_photo,
                "sendDocument": self._send_document,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "answerCallbackQuery": self._answer_callback_query,
                "sendChatAction": self._send_chat_action,
                "deleteMessage": self._delete_message,
                "getChat": self._get_chat,
                "getChatMember": self._get_chat_member,
                **{name: self._setting_store(name) for name in _STORED_SETTINGS},
            }.items()
        }

    # -- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._closing = False
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self._closing = True  # releases long polls and held ("timeout") requests
        await self._notify()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if not self.port:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://127.0.0.1:{self.port}/bot"

    # -- chats -----------------------------------------------------------------

    def user(self, user_id: int, language_code: str = "nb") -> FakeUser:
        """The user with this id (created on first use; private chat id == user id)."""
        if user_id not in self.users:
            self.users[user_id] = self.chats[user_id] = FakeUser(self, user_id, language_code)
        return self.users[user_id]

    def group(self, chat_id: int, title: str = "Test group") -> FakeGroup:
        chat = self.chats.get(chat_id)
        if not isinstance(chat, FakeGroup):
            chat = self.chats[chat_id] = FakeGroup(self, chat_id, title)
        return chat

    def forget(self, method: str) -> None:
        """Answer `method` as Telegram answers one it does not know (404 Not Found), as an older or a
        limited Bot API server would."""
        del self._methods[method.lower()]

    def block(self, user_id: int) -> None:
        """Every send/edit to this chat answers 403 "bot was blocked by the user"."""
        self.blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self.blocked.discard(user_id)

    @property
    def sent_messages(self) -> list[SentMessage]:
        """Every message the bot delivered, in all chats, in delivery order."""
        return sorted(
            (message for chat in self.chats.values() for message in chat.messages),
            key=lambda message: message.time,
        )

    def max_per_window(self, chat_id: int | None, window_s: float) -> int:
        """Most messages delivered to chat_id (None: all chats) within any window_s span."""
        times = (
            message.time
            for chat in self.chats.values()
            if chat_id is None or chat.chat_id == chat_id
            for message in chat.messages
        )
        return most_within(times, window_s)

    def menu(self, language_code: str = "", scope: str = "default") -> list[dict[str, str]]:
        """Commands stored by setMyCommands for (scope, language_code); see _scope_key."""
        return self.command_menus.get((scope, language_code), [])

    @property
    def pending_updates(self) -> int:
        return len(self._queue)

    @property
    def unanswered_callback_queries(self) -> list[str]:
        return list(self._open_queries)

    # -- updates ---------------------------------------------------------------

    def open_callback_query(self, user: FakeUser) -> str:
        query_id = f"{user.user_id}-{next(self._query_ids)}"
        self._open_queries[query_id] = user
        return query_id

    async def deliver(self, content: dict[str, Any]) -> int:
        """Create an update; queue it for getUpdates (returns update_id) or, while a
        webhook is set, POST it there (returns the HTTP status)."""
        update = {"update_id": next(self._update_ids), **content}
        self.updates.append(update)
        if self.webhook_url:
            return await self.push_webhook(self.webhook_url, update, self.webhook_secret)
        self._queue.append(update)
        await self._notify()
        return int(update["update_id"])

    async def deliver_batch(self, contents: list[dict[str, Any]]) -> list[int]:
        """Queue several updates at once, so that one getUpdates returns them together."""
        updates = [{"update_id": next(self._update_ids), **content} for content in contents]
        self.updates.extend(updates)
        self._queue.extend(updates)
        await self._notify()
        return [int(update["update_id"]) for update in updates]

    async def redeliver(self, update_id: int) -> int:
        """Deliver an already-delivered update again, as Telegram does after a crash.

        Polling: it is queued again and survives one offset confirmation so a running
        bot gets it too; returns update_id. Webhook set: it is POSTed; returns the status.
        """
        update = next(u for u in self.updates if u["update_id"] == update_id)
        if self.webhook_url:
            return await self.push_webhook(self.webhook_url, update, self.webhook_secret)
        if update not in self._queue:
            self._queue.append(update)
            self._queue.sort(key=lambda u: int(u["update_id"]))
        self._sticky.add(update_id)
        await self._notify()
        return update_id

    async def push_webhook(self, url: str, update_json: dict[str, Any], secret: str | None = None) -> int:
        """POST an update to a webhook like Telegram does; returns the HTTP status."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        async with self._session.post(url, json=update_json, headers=headers) as response:
            await response.read()
            status = response.status
        self.webhook_deliveries.append((int(update_json.get("update_id", 0)), status))
        await self._notify()
        return status

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            self._queue = self._queue[offset:]
            return
        self._queue = [u for u in self._queue if u["update_id"] >= offset or u["update_id"] in self._sticky]

    # -- waiting ---------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_quietly(self, condition: Callable[[], object], timeout: float) -> bool:
        """Wait until condition() is true; False on timeout. No sleeping: the condition
        is re-checked whenever the server records a call or delivers an update."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(condition)
            return True
        except TimeoutError:
            return bool(condition())

    async def wait_first(self, find: Callable[[], T | None], timeout: float) -> T | None:
        """Wait until find() returns something and return it (None on timeout)."""
        found: list[T] = []

        def ready() -> bool:
            item = find()
            if item is not None:
                found.append(item)
            return item is not None

        await self.wait_quietly(ready, timeout)
        return found[0] if found else None

    async def wait_until(self, condition: Callable[[], object], timeout: float = 10.0) -> None:
        if not await self.wait_quietly(condition, timeout):
            raise WaitTimeout(f"condition still false after {timeout}s")

    async def wait_for_call(
        self,
        method: str | None = None,
        predicate: Callable[[Params], bool] | None = None,
        timeout: float = 10.0,
        start: int = 0,
    ) -> Call:
        """The first finished call in all_calls[start:] of method whose params match."""

        def find() -> Call | None:
            for call in self.all_calls[start:]:
                if call.status and method in (None, call.method) and (predicate is None or predicate(call.params)):
                    return call
            return None

        found = await self.wait_first(find, timeout)
        if found is None:
            raise WaitTimeout(f"no matching {method or ''} call within {timeout}s")
        return found

    # -- HTTP ------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        canonical, handler = self._methods.get(name.lower(), (name, None))
        call = Call(canonical, {}, asyncio.get_running_loop().time())
        self.all_calls.append(call)
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            raw = await _read_params(request)
            call.params = raw
            call.params = _normalize(raw)
            await self._notify()
            if handler is None:
                raise ApiError(404, "Not Found")
            fault = self.faults.take(canonical, call.params)
            if fault is not None and fault.kind == "502":
                call.status, call.description = 502, "Bad Gateway"
                return web.Response(status=502, text=_NGINX_502, content_type="text/html")
            if fault is not None:
                await self._apply_fault(fault)
            if canonical.startswith(("send", "edit")) and call.params.get("chat_id") in self.blocked:
                raise ApiError(403, BLOCKED)
            if self.flood is not None and not self.flood.admit(canonical, call.params, call.time):
                retry = self.flood.retry_after
                raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
            self._check_group_rights(canonical, call.params)
            body: dict[str, Any] = {"ok": True, "result": await handler(call.params)}
            call.status = 200
        except ApiError as error:
            body = error.body()
            call.status, call.description = error.code, error.description
        finally:
            if not call.status:
                call.status = 500
            await self._notify()
        return web.json_response(body, status=call.status)

    async def _apply_fault(self, fault: Fault) -> None:
        if fault.kind == "429":
            raise ApiError(
                429,
                f"Too Many Requests: retry after {fault.retry_after}",
                {"retry_after": fault.retry_after},
            )
        if fault.kind == "500":
            raise ApiError(500, "Internal Server Error")
        if fault.kind == "forbidden":
            raise ApiError(403, BLOCKED)
        await self.wait_quietly(lambda: self._closing, fault.delay)  # "timeout"
        if not fault.deliver:
            raise ApiError(504, "Gateway Timeout")

    def _check_group_rights(self, method: str, params: Params) -> None:
        """A group that removed the bot, or does not let it write, refuses like Telegram."""
        chat = self.chats.get(params.get("chat_id"))  # type: ignore[arg-type]
        if not isinstance(chat, FakeGroup):
            return
        if not method.startswith(("send", "edit")) and method not in ("getChat", "getChatMember"):
            return
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        where = f"{chat.raw_chat['type']} chat"
        if chat.bot_status == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {where}")
        if chat.bot_status == "left":
            raise ApiError(403, f"Forbidden: bot is not a member of the {where}")
        may_send = (
            chat.bot_status in ("administrator", "creator")
            or (chat.bot_status == "restricted" and chat.bot_can_send)
            or (chat.bot_status == "member" and chat.members_can_send)
        )
        if method.startswith("send") and method != "sendChatAction" and not may_send:
            raise bad_request("not enough rights to send text messages to the chat")

    # -- helpers for handlers --------------------------------------------------

    def _chat(self, params: Params) -> FakeChat:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _message_to_edit(self, params: Params) -> tuple[FakeChat, SentMessage]:
        if "inline_message_id" in params:
            raise bad_request("inline messages are not supported by the fake server")
        chat = self._chat(params)
        message = chat.bot_message(int(params.get("message_id") or 0))
        if message is None:
            raise bad_request("message to edit not found")
        return chat, message

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _record_message(
        self,
        chat: FakeChat,
        method: str,
        params: Params,
        content: dict[str, Any],
        text: str | None,
        file: UploadedFile | None = None,
    ) -> dict[str, Any]:
        markup = check_reply_markup(params.get("reply_markup"))
        raw = {
            "message_id": chat.next_message_id(),
            "from": self.bot_user,
            "chat": chat.raw_chat,
            "date": int(time.time()),
            **content,
        }
        if markup and "inline_keyboard" in markup:  # Telegram echoes only inline keyboards
            raw["reply_markup"] = markup
        chat.history[raw["message_id"]] = raw
        chat.messages.append(
            SentMessage(
                chat.chat_id,
                raw["message_id"],
                method,
                self._now(),
                params,
                raw,
                text=text,
                reply_markup=markup,
                file=file,
            )
        )
        return raw

    def _input_file(self, params: Params, field: str) -> UploadedFile:
        value = params.get(field)
        if isinstance(value, UploadedFile):
            return value
        if isinstance(value, str) and value in self.files:
            return self.files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return UploadedFile(b"", value)
        if value is None:
            raise bad_request(f"there is no {field} in the request")
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _store_file(self, file: UploadedFile, *suffixes: str) -> str:
        file_id = f"file-{next(self._file_ids)}"
        for suffix in ("", *suffixes):
            self.files[file_id + suffix] = file
        return file_id

    def _with_caption(self, content: dict[str, Any], params: Params) -> str | None:
        caption = check_caption(params.get("caption"), params.get("parse_mode"))
        if caption:
            content["caption"] = plain_text(caption, params.get("parse_mode"))
        return caption

    def _apply_edit(
        self,
        chat: FakeChat,
        message: SentMessage,
        method: str,
        text: str | None,
        markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        if text == message.text and markup == message.reply_markup:
            raise bad_request(_NOT_MODIFIED)
        field = "text" if message.method == "sendMessage" else "caption"
        message.raw.pop(field, None)
        if text:
            message.raw[field] = plain_text(text, message.params.get("parse_mode"))
        message.text, message.reply_markup = text, markup
        message.raw.pop("reply_markup", None)
        if markup and "inline_keyboard" in markup:
            message.raw["reply_markup"] = markup
        message.raw["edit_date"] = int(time.time())
        chat.edits.append(Edit(chat.chat_id, message.message_id, method, self._now(), text, markup))
        return message.raw

    # -- Bot API methods -------------------------------------------------------

    async def _get_me(self, params: Params) -> Any:
        return self.bot_user | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: Params) -> Any:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if params.get("offset"):
            self._confirm(int(params["offset"]))
        self._poll_generation += 1
        generation = self._poll_generation
        timeout = float(params.get("timeout") or 0)
        if timeout > 0:
            await self.wait_quietly(
                lambda: self._queue or self._closing or generation != self._poll_generation,
                timeout,
            )
        if generation != self._poll_generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
            )
        batch = self._queue[: max(1, min(100, int(params.get("limit") or 100)))]
        self._sticky.difference_update(u["update_id"] for u in batch)
        return batch

    async def _set_webhook(self, params: Params) -> Any:
        url = urlsplit(str(params.get("url") or ""))
        if url.geturl() and not (url.scheme == "https" or (url.scheme == "http" and url.hostname in LOOPBACK)):
            # Telegram's answer; plain http to this machine is let through, for the tests' webhooks
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self._queue.clear()
        self.webhook_params = params
        self.webhook_url = str(params.get("url") or "")
        self.webhook_secret = params.get("secret_token") if self.webhook_url else None
        return True

    async def _delete_webhook(self, params: Params) -> Any:
        return await self._set_webhook(params | {"url": ""})

    async def _get_webhook_info(self, params: Params) -> Any:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }

    async def _set_my_commands(self, params: Params) -> Any:
        commands = check_commands(params.get("commands"))
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self.command_menus[key] = commands
        return True

    async def _get_my_commands(self, params: Params) -> Any:
        return self.menu(str(params.get("language_code") or ""), _scope_key(params.get("scope")))

    async def _delete_my_commands(self, params: Params) -> Any:
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self.command_menus.pop(key, None)
        return True

    async def _send_message(self, params: Params) -> Any:
        chat = self._chat(params)
        text = check_text(params.get("text"), params.get("parse_mode"))
        content = {"text": plain_text(text, params.get("parse_mode"))}
        return self._record_message(chat, "sendMessage", params, content, text)

    async def _send_photo(self, params: Params) -> Any:
        chat = self._chat(params)
        file = self._input_file(params, "photo")
        file_id = self._store_file(file, "-small")
        sizes = [(f"{file_id}-small", 90, 68), (file_id, 800, 600)]
        content: dict[str, Any] = {
            "photo": [
                {
                    "file_id": fid,
                    "file_unique_id": f"u{fid}",
                    "width": width,
                    "height": height,
                    "file_size": len(file.data),
                }
                for fid, width, height in sizes
            ]
        }
        caption = self._with_caption(content, params)
        return self._record_message(chat, "sendPhoto", params, content, caption, file)

    async def _send_document(self, params: Params) -> Any:
        chat = self._chat(params)
        file = self._input_file(params, "document")
        file_id = self._store_file(file)
        document = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": file.filename or "document",
            "mime_type": file.content_type or "application/octet-stream",
            "file_size": len(file.data),
        }
        content: dict[str, Any] = {"document": document}
        caption = self._with_caption(content, params)
        return self._record_message(chat, "sendDocument", params, content, caption, file)

    async def _edit_message_text(self, params: Params) -> Any:
        chat, message = self._message_to_edit(params)
        if message.method != "sendMessage":
            raise bad_request("there is no text in the message to edit")
        text = check_text(params.get("text"), params.get("parse_mode"))
        markup = check_reply_markup(params.get("reply_markup"))
        return self._apply_edit(chat, message, "editMessageText", text, markup)

    async def _edit_message_caption(self, params: Params) -> Any:
        chat, message = self._message_to_edit(params)
        if message.method == "sendMessage":
            raise bad_request("there is no caption in the message to edit")
        caption = check_caption(params.get("caption"), params.get("parse_mode"))
        markup = check_reply_markup(params.get("reply_markup"))
        return self._apply_edit(chat, message, "editMessageCaption", caption, markup)

    async def _edit_message_reply_markup(self, params: Params) -> Any:
        chat, message = self._message_to_edit(params)
        markup = check_reply_markup(params.get("reply_markup"))
        return self._apply_edit(chat, message, "editMessageReplyMarkup", message.text, markup)

    async def _answer_callback_query(self, params: Params) -> Any:
        user = self._open_queries.pop(str(params.get("callback_query_id")), None)
        if user is None:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        user.callback_answers.append(
            CallbackAnswer(
                str(params["callback_query_id"]),
                self._now(),
                params.get("text"),
                bool(params.get("show_alert")),
                params.get("url"),
                params,
            )
        )
        return True

    async def _send_chat_action(self, params: Params) -> Any:
        self._chat(params).actions.append((str(params.get("action")), self._now()))
        return True

    async def _delete_message(self, params: Params) -> Any:
        chat = self._chat(params)
        message_id = int(params.get("message_id") or 0)
        if chat.history.pop(message_id, None) is None:
            raise bad_request("message to delete not found")
        sent = chat.bot_message(message_id)
        if sent is not None:
            sent.deleted = True
        return True

    async def _get_chat(self, params: Params) -> Any:
        chat = self._chat(params)
        extra: dict[str, Any] = {}
        if isinstance(chat, FakeGroup):
            extra["permissions"] = dict.fromkeys(_MEMBER_RIGHTS, chat.members_can_send)
        return (
            chat.raw_chat
            | extra
            | {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )

    async def _get_chat_member(self, params: Params) -> Any:
        chat = self._chat(params)
        user_id = params.get("user_id")
        if user_id == BOT_ID:
            user: dict[str, Any] = self.bot_user
            status = chat.bot_status if isinstance(chat, FakeGroup) else "member"
        elif isinstance(user_id, int) and user_id in self.users:
            user, status = self.users[user_id].raw_user, "member"
        else:
            raise bad_request("PARTICIPANT_ID_INVALID")
        if status == "restricted" and isinstance(chat, FakeGroup):
            rights = dict.fromkeys(_MEMBER_RIGHTS, chat.bot_can_send)
            return {"user": user, "status": status, "is_member": True, "until_date": 0, **rights}
        if status == "administrator":
            rights = dict.fromkeys(_ADMIN_RIGHTS, False)
            return {"user": user, "status": status, "can_be_edited": False, "is_anonymous": False, **rights}
        return {"user": user, "status": status}

    def _setting_store(self, method: str) -> Handler:
        async def store(params: Params) -> Any:
            self.bot_settings[method] = params
            return True

        return store
