"""Raw Bot API updates (the JSON as Telegram sends it) turned into engine events."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.clinicians.commands import BUTTON_PREFIXES
from bot.engine.events import Event

Update = dict[str, Any]

BIGINT = 2**63  # ids are stored as 64-bit integers

# Update kinds the bot asks Telegram for; everything else is never delivered.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")

# Spoken content the bot cannot listen to; it says so, with the crisis lines.
UNREADABLE_CONTENT = ("voice", "video_note", "audio")
# Other content the engine cannot use; it answers with a kind "text only, please".
UNSUPPORTED_CONTENT = (
    "sticker",
    "photo",
    "video",
    "document",
    "animation",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
    "game",
    "story",
    "paid_media",
    "checklist",
)


def _message(update: Update) -> dict[str, Any] | None:
    for key in ("message", "edited_message"):
        value = update.get(key)
        if isinstance(value, dict):
            return value
    return None


def update_id_of(update: object) -> int | None:
    """The update's id, if it is one the inbox can store."""
    value = update.get("update_id") if isinstance(update, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < BIGINT:
        return value
    return None


def well_formed(update: Update) -> bool:
    """Whether the worker can read this update. One it cannot (a chat id that is not a
    number, a field of the wrong type) is set aside at intake, alone."""
    try:
        chat_id = chat_id_of(update)
        to_event(update, "")
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError):
        return False
    return -BIGINT < chat_id < BIGINT


def chat_id_of(update: Update) -> int:
    """The chat an update belongs to, which decides its place in line; 0 if none."""
    message = _message(update)
    if message is None:
        query = update.get("callback_query")
        if isinstance(query, dict):
            message = query.get("message") if isinstance(query.get("message"), dict) else None
            if message is None:
                return int(query.get("from", {}).get("id", 0))
    if message is None:
        member = update.get("my_chat_member")
        message = member if isinstance(member, dict) else None
    if message is None:
        return 0
    return int(message.get("chat", {}).get("id", 0))


def _command_is_for_us(text: str, bot_username: str) -> bool:
    """'/help@otherbot' in a group is for another bot; '/help' and '/help@us' are ours."""
    head = text.strip().split(maxsplit=1)[0] if text.strip() else ""
    if not head.startswith("/") or "@" not in head:
        return True
    return head.split("@", 1)[1].lower() == bot_username.lower()


def to_event(update: Update, bot_username: str) -> Event | None:
    """The engine event for an update, or None for updates that need no answer."""
    chat_id = chat_id_of(update)
    if "callback_query" in update:
        return _button(update["callback_query"], chat_id)
    if "my_chat_member" in update:
        return _membership(update["my_chat_member"], chat_id)
    message = _message(update)
    if message is None or not chat_id:
        return None
    sender = message.get("from") or {}
    if sender.get("is_bot"):
        return None
    from_id = int(sender.get("id", chat_id))
    language = _language(sender)
    is_group = message.get("chat", {}).get("type") != "private"
    written = _written(message)  # every text a person wrote is read, also captions and edits
    if "edited_message" in update:
        event = Event("edited", chat_id, from_id, text=written, language=language)
    elif isinstance(message.get("text"), str):
        text: str = message["text"]
        if not _command_is_for_us(text, bot_username):
            return None
        event = Event.message(chat_id, text, from_id=from_id, language=language)
    elif any(key in message for key in UNREADABLE_CONTENT):
        event = Event("unreadable", chat_id, from_id, text=written, language=language)
    elif any(key in message for key in UNSUPPORTED_CONTENT):
        event = Event("unsupported", chat_id, from_id, text=written, language=language)
    else:
        return None  # service messages: members joining, pinned messages and the like
    return replace(event, is_group=True) if is_group else event


def _written(message: dict[str, Any]) -> str:
    """What the person wrote in a message: its text, or the caption of a photo, file or video."""
    for key in ("text", "caption"):
        value = message.get(key)
        if isinstance(value, str):
            return value
    return ""


def _button(query: dict[str, Any], chat_id: int) -> Event | None:
    """A button press the engine takes; None for one that is only answered (see `refused_press`)."""
    data = query.get("data")
    message = query.get("message")
    if not isinstance(data, str) or not isinstance(message, dict) or not chat_id:
        return None
    sender = query.get("from") or {}
    from_id = int(sender.get("id", 0))
    is_group = message.get("chat", {}).get("type") != "private"
    if is_group and not data.startswith(BUTTON_PREFIXES):
        return None  # in a group the bot's only buttons are the clinicians'; the engine checks who pressed
    if not is_group and from_id != chat_id:
        return None  # a press in someone else's private chat: forged
    event = Event.button(
        chat_id,
        data,
        from_id=from_id,
        callback_id=str(query["id"]),
        message_id=int(message["message_id"]),
        language=_language(sender),
    )
    return replace(event, is_group=True) if is_group else event


def refused_press(update: Update) -> str | None:
    """The query id of a button press the engine does not take, which is answered and nothing more:
    one without data or not on a message in a chat, one in someone else's private chat, or
    one in a group on a button that is not a clinician's. Every press gets an answer."""
    query = update.get("callback_query")
    if not isinstance(query, dict) or "id" not in query:
        return None
    return str(query["id"]) if _button(query, chat_id_of(update)) is None else None


def _language(sender: dict[str, Any]) -> str | None:
    language = sender.get("language_code")
    return language if isinstance(language, str) else None


def _membership(member: dict[str, Any], chat_id: int) -> Event | None:
    """A user who blocks the bot in their private chat is unreachable from now on."""
    private = member.get("chat", {}).get("type") == "private"
    if private and member.get("new_chat_member", {}).get("status") == "kicked":
        return Event("blocked", chat_id=chat_id)
    return None
