"""How `guidebot run` logs: plain lines (the default) or one JSON object per line
(GUIDEBOT_LOG_FORMAT=json), to standard error, for journald or a log shipper.

- An exception is never a traceback: it is one part of the line, its type and the last
  frames it passed through (file:line), never its message, which may quote what a user
  wrote. A 5xx from Telegram is therefore one line too.
- `transitions` is held at WARNING: it logs two INFO lines per state change.
- The redaction of the bot token and webhook secret (bot/channels/telegram/privacy.py)
  applies before these formatters see a record.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from types import TracebackType

from bot.config import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET = {"transitions": logging.WARNING, "alembic": logging.WARNING}
FRAMES = 3


def describe_error(error: BaseException) -> str:
    """`TypeError at flows.py:12 < core.py:80`: the type and the innermost frames, no message."""
    frames = []
    trace = error.__traceback__
    while trace is not None:
        frames.append(f"{os.path.basename(trace.tb_frame.f_code.co_filename)}:{trace.tb_lineno}")
        trace = trace.tb_next
    where = " < ".join(reversed(frames[-FRAMES:]))
    return f"{type(error).__name__} at {where}" if where else type(error).__name__


def _error_of(record: logging.LogRecord) -> str | None:
    if record.exc_info and record.exc_info[1] is not None:
        return describe_error(record.exc_info[1])
    return None


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        error = _error_of(record)
        return f"{line} [{error}]" if error else line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        error = _error_of(record)
        if error:
            entry["error"] = error
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(settings: Settings, level: int = logging.INFO) -> None:
    """One handler on the root logger, to standard error, in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)
    logging.captureWarnings(True)  # Python's warnings as log lines too, in the same format
    sys.excepthook = _log_uncaught


def _log_uncaught(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
    """An error nothing caught ends the process with one log line, like every other error."""
    logging.getLogger("guidebot").critical("stopped by an unexpected error", exc_info=(kind, error, trace))
