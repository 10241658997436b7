"""Cheap imitations of the Bot API's input checks, with Telegram's error texts."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64

_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_BUTTON_ACTIONS = frozenset(
    {
        "callback_data",
        "url",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "callback_game",
        "pay",
        "web_app",
        "copy_text",
    }
)
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_MD2_ALWAYS_ESCAPED = "#+-={}.!()"
_MD2_PAIRS = {"*": "Bold", "_": "Italic", "~": "Strikethrough", "||": "Spoiler"}


class ApiError(Exception):
    """An error answer: HTTP status == error_code, like the real Bot API."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


def _entities_error(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")


class _HtmlChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.plain: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            raise _entities_error(f'Unsupported start tag "{tag}"')
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            expected = f'"</{self.open[-1]}>"' if self.open else "nothing"
            raise _entities_error(f'Unmatched end tag, expected {expected}, found "</{tag}>"')
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.plain.append(data)


def _plain_html(text: str) -> str:
    checker = _HtmlChecker()
    checker.feed(text)
    checker.close()
    if checker.open:
        raise _entities_error(f'Can\'t find end tag corresponding to start tag "{checker.open[-1]}"')
    return "".join(checker.plain)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode())


def _plain_markdown_v2(text: str) -> str:
    """Approximate MarkdownV2: reserved characters and unclosed bold/italic/etc."""
    plain: list[str] = []
    open_marks: dict[str, int] = {}
    i = 0
    in_url = False
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            plain.append(text[i + 1])
            i += 2
            continue
        if char == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = text.find(fence, i + len(fence))
            if end < 0:
                raise _entities_error(f"Can't find end of Code entity at byte offset {_byte_offset(text, i)}")
            plain.append(text[i + len(fence) : end])
            i = end + len(fence)
            continue
        mark = "||" if text.startswith("||", i) else char
        if in_url:
            in_url = char != ")"
        elif text.startswith("](", i):
            in_url = True
            i += 1
        elif mark in _MD2_PAIRS:
            if mark in open_marks:
                del open_marks[mark]
            else:
                open_marks[mark] = _byte_offset(text, i)
            i += len(mark) - 1
        elif (char == ">" and (i == 0 or text[i - 1] == "\n")) or text.startswith("![", i):
            pass  # a blockquote, or a custom emoji ![👍](tg://emoji?id=...)
        elif char in _MD2_ALWAYS_ESCAPED or char in ">|":
            raise _entities_error(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
        elif char not in "[]":
            plain.append(char)
        i += 1
    if open_marks:
        mark, offset = next(iter(open_marks.items()))
        raise _entities_error(f"Can't find end of {_MD2_PAIRS[mark]} entity at byte offset {offset}")
    return "".join(plain)


def plain_text(text: str, parse_mode: str | None) -> str:
    """The text a user would see; raises ApiError for malformed HTML / MarkdownV2."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return _plain_html(text)
    if mode == "markdownv2":
        return _plain_markdown_v2(text)
    return text


def check_text(value: Any, parse_mode: str | None) -> str:
    text = "" if value is None else str(value)
    plain = plain_text(text, parse_mode)
    if not plain.strip():
        raise bad_request("message text is empty")
    if len(plain) > MAX_TEXT:
        raise bad_request("message is too long")
    return text


def check_caption(caption: Any, parse_mode: str | None) -> str | None:
    if caption is None:
        return None
    if len(plain_text(str(caption), parse_mode)) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return str(caption)


def check_reply_markup(markup: Any) -> dict[str, Any] | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not _BUTTON_ACTIONS & set(button):
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                raise bad_request("BUTTON_DATA_INVALID")
    return markup


def check_commands(commands: Any) -> list[dict[str, str]]:
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    for command in commands:
        if not _COMMAND.match(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise bad_request("command description is empty")
    return [{"command": c["command"], "description": c["description"]} for c in commands]
