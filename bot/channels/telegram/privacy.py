"""Logs never hold message text, answers or tokens, at any level.

- The bot token and webhook secret are cut out of every log record, including
  tracebacks (httpx logs request URLs, and those hold the token).
- python-telegram-bot logs request parameters and results (message texts) at DEBUG,
  and httpx every request at INFO: those loggers are held above that.
- Our own log lines name row ids and exception types, never exception messages,
  which may quote what a user wrote.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.logs import describe

__all__ = ["REDACTED", "describe", "protect_logs", "redact"]  # describe: our log lines, in every channel alike

REDACTED = "<redacted>"

_QUIET = {
    "telegram": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.INFO,
    "aiohttp.access": logging.WARNING,
}
_secrets: set[str] = set()
_installed = False


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def protect_logs(*secrets: str) -> None:
    """Cut these secrets out of all log records, and quiet the chatty libraries."""
    global _installed  # noqa: PLW0603 (the log record factory is process-wide)
    for name, level in _QUIET.items():
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < level:
            logger.setLevel(level)
    for secret in secrets:
        if secret:
            _secrets.add(secret)
            _, _, private_part = secret.partition(":")
            if len(private_part) >= 8:
                _secrets.add(private_part)
    if not _installed:
        _installed = True
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _scrub(record)
            return record

        logging.setLogRecordFactory(factory)


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        message = str(record.msg)
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
