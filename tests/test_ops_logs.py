"""Logs: one JSON object per line on request, an error is one line, transitions kept quiet, no message text."""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.ops.logs import JsonFormatter, TextFormatter, configure_logging
from tests.fakes import TOKEN, FakeTelegram
from tests.support.settings import make_settings
from tests.support.telegram_harness import BotProcess, free_port
from tests.test_telegram_process import issue_code

SECRET_WORDS = "hemmelig-svar-om-søvnen"


def raised() -> logging.LogRecord:
    try:
        raise ValueError(f"the user wrote {SECRET_WORDS}")
    except ValueError:
        record = logging.getLogger("guidebot.test").makeRecord(
            "guidebot.test", logging.ERROR, __file__, 1, "inbox row %s failed", (7,), sys.exc_info()
        )
    return record


def test_an_error_is_one_line_with_its_type_and_place_but_not_its_message() -> None:
    text = TextFormatter().format(raised())
    assert "\n" not in text and "Traceback" not in text
    assert re.search(r"ERROR guidebot\.test: inbox row 7 failed \[ValueError at test_ops_logs\.py:\d+\]$", text)
    assert SECRET_WORDS not in text

    entry = json.loads(JsonFormatter().format(raised()))
    assert entry["level"] == "ERROR" and entry["logger"] == "guidebot.test"
    assert entry["message"] == "inbox row 7 failed" and entry["error"] == text.rsplit("[", 1)[1].rstrip("]")
    assert entry["time"].endswith("+00:00") and SECRET_WORDS not in json.dumps(entry)


def test_transitions_is_held_at_warning_and_an_uncaught_error_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, before, level, hook = (
        logging.getLogger(),
        list(logging.getLogger().handlers),
        logging.getLogger().level,
        sys.excepthook,
    )
    try:
        configure_logging(make_settings(f"sqlite:///{tmp_path}/g.db", log_format="json"))
        assert logging.getLogger("transitions").getEffectiveLevel() == logging.WARNING
        assert isinstance(root.handlers[-1].formatter, JsonFormatter)
        handler = root.handlers[-1]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(sys.stderr)  # capsys's stream
        try:
            raise RuntimeError(SECRET_WORDS)
        except RuntimeError:
            sys.excepthook(*sys.exc_info())
    finally:
        logging.captureWarnings(False)
        sys.excepthook = hook
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in before:
            root.addHandler(handler)
        root.setLevel(level)
    [line] = capsys.readouterr().err.splitlines()
    entry = json.loads(line)
    assert entry["level"] == "CRITICAL" and entry["error"].startswith("RuntimeError at test_ops_logs.py:")
    assert SECRET_WORDS not in line


def test_an_unknown_log_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="GUIDEBOT_LOG_FORMAT"):
        make_settings(f"sqlite:///{tmp_path}/g.db", log_format="xml")


async def test_guidebot_run_logs_json_lines_and_a_telegram_5xx_is_one_line(sqlite_url: str) -> None:
    code = issue_code(sqlite_url)
    port = free_port()
    async with FakeTelegram() as server:
        user = server.user(42)
        process = BotProcess(
            server, sqlite_url, GUIDEBOT_LOG_FORMAT="json", GUIDEBOT_METRICS_LISTEN=f"127.0.0.1:{port}"
        )
        server.faults.add("sendMessage", kind="502", count=2)  # a proxy's HTML error page, not JSON
        await process.start()
        await user.send(f"/start {code}")
        question = await user.wait_for_message(lambda m: bool(m.buttons), timeout=30)
        await user.press(question, question.buttons[0])
        await user.wait_for_message(lambda m: bool(m.buttons) and m is not question, timeout=30)
        await user.send(SECRET_WORDS)
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/readyz") as response:
            assert response.status == 200
        assert await process.stop() == 0

    lines = process.stderr.splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    retries = [e for e in entries if "NetworkError" in e["message"]]
    assert len(retries) == 2, "one line for each 502"
    assert not [e for e in entries if e["level"] in ("ERROR", "CRITICAL")]
    assert not [e for e in entries if e["logger"].startswith("transitions")]
    for secret in (TOKEN, SECRET_WORDS, code, "Bad Gateway", "<html>"):
        assert secret not in process.stderr
