"""Simulated Telegram chats: private chats with a FakeUser, and group chats."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .records import CallbackAnswer, Edit, SentMessage, WaitTimeout

if TYPE_CHECKING:
    from .telegram_server import FakeTelegram

MessagePredicate = Callable[[SentMessage], bool]

_file_ids = itertools.count(1)


def utf16_len(text: str) -> int:
    """Telegram measures entity offsets/lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _text_content(text: str) -> dict[str, Any]:
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
    return content


def _user_file(kind: str, size: int = 1234) -> dict[str, Any]:
    n = next(_file_ids)
    return {
        "file_id": f"user-{kind}-{n}",
        "file_unique_id": f"u{kind}{n}",
        "file_size": size,
    }


class FakeChat:
    """A chat as the bot sees it, plus everything the bot sent to it.

    ``messages``: SentMessage per delivered message, in order; ``edits``: Edit per
    successful edit; ``actions``: (action, time) per sendChatAction; ``history``: every
    Message object in the chat by message_id (both directions; message_ids increase per
    chat, shared between user and bot messages).
    """

    def __init__(self, server: FakeTelegram, chat_id: int, raw_chat: dict[str, Any]) -> None:
        self.server = server
        self.chat_id = chat_id
        self.raw_chat = raw_chat
        self.messages: list[SentMessage] = []
        self.edits: list[Edit] = []
        self.actions: list[tuple[str, float]] = []
        self.history: dict[int, dict[str, Any]] = {}
        self._last_message_id = 0
        self._message_cursor = 0
        self._edit_cursor = 0

    def next_message_id(self) -> int:
        self._last_message_id += 1
        return self._last_message_id

    # -- what the bot sent -----------------------------------------------------

    def last(self) -> SentMessage:
        if not self.messages:
            raise WaitTimeout(f"the bot has sent nothing to chat {self.chat_id}")
        return self.messages[-1]

    def texts(self) -> list[str]:
        """Text (or caption) of every message the bot sent here, current after edits."""
        return [message.text or "" for message in self.messages]

    def bot_message(self, message_id: int) -> SentMessage | None:
        for message in self.messages:
            if message.message_id == message_id and not message.deleted:
                return message
        return None

    @property
    def delivery_times(self) -> list[float]:
        return [message.time for message in self.messages]

    async def wait_until(self, condition: Callable[[], object], timeout: float = 10.0) -> None:
        await self.server.wait_until(condition, timeout)

    async def wait_for_message(self, predicate: MessagePredicate | None = None, timeout: float = 10.0) -> SentMessage:
        """The first message after the one the previous wait returned (that matches).

        Waits without sleeping until the bot sends one. Each wait moves a cursor past
        the message it returns, so non-matching messages it skipped stay skipped.
        """

        def find() -> SentMessage | None:
            for index in range(self._message_cursor, len(self.messages)):
                message = self.messages[index]
                if predicate is None or predicate(message):
                    self._message_cursor = index + 1
                    return message
            return None

        found = await self.server.wait_first(find, timeout)
        if found is None:
            raise WaitTimeout(
                f"no {'matching ' if predicate else ''}message to chat {self.chat_id} within "
                f"{timeout}s; the bot sent {self.texts()!r}"
            )
        return found

    async def wait_for_edit(self, predicate: Callable[[Edit], bool] | None = None, timeout: float = 10.0) -> Edit:
        """Like wait_for_message, for successful edits of bot messages in this chat."""

        def find() -> Edit | None:
            for index in range(self._edit_cursor, len(self.edits)):
                edit = self.edits[index]
                if predicate is None or predicate(edit):
                    self._edit_cursor = index + 1
                    return edit
            return None

        found = await self.server.wait_first(find, timeout)
        if found is None:
            raise WaitTimeout(f"no matching edit in chat {self.chat_id} within {timeout}s")
        return found

    # -- what users send -------------------------------------------------------

    async def _send_as(self, user: FakeUser, content: dict[str, Any]) -> int:
        message = {
            "message_id": self.next_message_id(),
            "from": user.raw_user,
            "chat": self.raw_chat,
            "date": int(time.time()),
            **content,
        }
        self.history[message["message_id"]] = message
        return await self.server.deliver({"message": message})

    def find_button_message(self, label: str) -> SentMessage:
        """The latest (not deleted) bot message with an inline button labelled ``label``."""
        for message in reversed(self.messages):
            if not message.deleted and label in message.buttons:
                return message
        raise LookupError(f"no bot message in chat {self.chat_id} has a button {label!r}")

    async def _press_as(
        self,
        user: FakeUser,
        message_or_label: SentMessage | int | str,
        label: str | None,
    ) -> int:
        if isinstance(message_or_label, str) and label is None:
            label = message_or_label
            message = self.find_button_message(label)
        elif label is None:
            raise TypeError("press(message, label): the label is missing")
        else:
            message_id = (
                message_or_label.message_id if isinstance(message_or_label, SentMessage) else int(message_or_label)
            )
            found = self.bot_message(message_id)
            if found is None:
                raise LookupError(f"no bot message {message_id} in chat {self.chat_id}")
            message = found
        query_id = self.server.open_callback_query(user)
        return await self.server.deliver(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.raw_user,
                    "message": message.raw,
                    "chat_instance": f"instance{self.chat_id}",
                    "data": message.callback_data(label),
                }
            }
        )


class FakeUser(FakeChat):
    """A Telegram user in a private chat with the bot (chat id == user id).

    Every ``send*``/``press``/``edit`` enqueues a real Update and returns its update_id,
    or, while a webhook is set, POSTs it to the webhook and returns the HTTP status.
    """

    def __init__(self, server: FakeTelegram, user_id: int, language_code: str = "nb") -> None:
        self.user_id = user_id
        self.language_code = language_code
        self.first_name = f"Testuser{user_id}"
        super().__init__(
            server,
            user_id,
            {"id": user_id, "type": "private", "first_name": self.first_name},
        )
        self.callback_answers: list[CallbackAnswer] = []

    @property
    def raw_user(self) -> dict[str, Any]:
        """The User object in updates (change ``language_code`` to switch language)."""
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }

    async def send(self, text: str) -> int:
        """A text message; "/cmd ..." gets a bot_command entity."""
        return await self._send_as(self, _text_content(text))

    async def press(self, message_or_label: SentMessage | int | str, label: str | None = None) -> int:
        """Press an inline button: ``press("Next")`` uses the latest bot message that has
        such a button; ``press(message_or_id, "Next")`` a specific message."""
        return await self._press_as(self, message_or_label, label)

    async def send_sticker(self, emoji: str = "👍") -> int:
        sticker = _user_file("sticker") | {
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return await self._send_as(self, {"sticker": sticker})

    async def send_photo(self, caption: str | None = None) -> int:
        photo = _user_file("photo") | {"width": 640, "height": 480}
        content: dict[str, Any] = {"photo": [photo]}
        if caption is not None:
            content["caption"] = caption
        return await self._send_as(self, content)

    async def send_voice(self, duration: int = 3) -> int:
        voice = _user_file("voice") | {"duration": duration, "mime_type": "audio/ogg"}
        return await self._send_as(self, {"voice": voice})

    async def send_document(self, file_name: str = "notes.pdf", mime_type: str = "application/pdf") -> int:
        document = _user_file("document") | {
            "file_name": file_name,
            "mime_type": mime_type,
        }
        return await self._send_as(self, {"document": document})

    async def send_location(self, latitude: float = 59.91, longitude: float = 10.75) -> int:
        return await self._send_as(self, {"location": {"latitude": latitude, "longitude": longitude}})

    async def edit(self, message_id: int, text: str) -> int:
        """Edit one of this user's own earlier messages (an edited_message update)."""
        original = self.history.get(message_id)
        if original is None or original["from"]["id"] != self.user_id:
            raise LookupError(f"user {self.user_id} has no message {message_id}")
        original.pop("entities", None)
        original.update(_text_content(text), edit_date=int(time.time()))
        return await self.server.deliver({"edited_message": dict(original)})


class FakeGroup(FakeChat):
    """A group chat (negative id); members are FakeUsers looked up by id."""

    def __init__(self, server: FakeTelegram, chat_id: int, title: str = "Test group") -> None:
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
        super().__init__(server, chat_id, {"id": chat_id, "type": kind, "title": title})
        # The bot in this group: "member", "administrator", "restricted", "left" or "kicked".
        self.bot_status = "member"
        self.bot_can_send = True  # for "restricted": its own right to send messages
        self.members_can_send = True  # the group's default permission for members
        self.migrated_to: int | None = None  # the supergroup Telegram made of it, if it did

    def upgrade(self, supergroup_id: int) -> None:
        """Telegram made this group a supergroup with a new id: calls naming the old one are refused
        with "group chat was upgraded to a supergroup chat" and the new id."""
        self.migrated_to = supergroup_id

    def kick_bot(self) -> None:
        """Remove the bot: sends and look-ups answer 403 "bot was kicked from the group chat"."""
        self.bot_status = "kicked"

    async def send(self, from_user_id: int, text: str) -> int:
        return await self._send_as(self.server.user(from_user_id), _text_content(text))

    async def press(
        self,
        from_user_id: int,
        message_or_label: SentMessage | int | str,
        label: str | None = None,
    ) -> int:
        return await self._press_as(self.server.user(from_user_id), message_or_label, label)
