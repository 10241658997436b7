"""Settings for tests: made-up chat ids, the shipped dialogs, Oslo time.

The course scripts (`tests/support/course_script.py`) answer the full PHQ-9 and GAD-7 in
every check-in, so the tests run the shipped dialogs with the full forms set for every
week, as an admin may set them in `schedule.yaml`. The shipped schedule, with its lighter
weeks (PHQ-2, GAD-2 and item 9), is tested as shipped in `tests/test_lighter_weeks.py`.
"""

from __future__ import annotations

import atexit
import functools
import re
import shutil
import tempfile
from pathlib import Path

from bot.config import DEFAULT_DIALOGS_DIR, Settings


@functools.cache
def full_forms_dialogs_dir() -> Path:
    """A copy of the shipped dialogs whose schedule asks the full forms every week."""
    root = Path(tempfile.mkdtemp(prefix="guidebot-dialogs-"))
    atexit.register(shutil.rmtree, root, True)
    target = root / "dialogs"
    shutil.copytree(DEFAULT_DIALOGS_DIR, target)
    schedule = target / "schedule.yaml"
    text = re.sub(r"instruments: \[phq2, gad2\]", "instruments: [phq9, gad7]", schedule.read_text(encoding="utf-8"))
    schedule.write_text(text, encoding="utf-8")
    return target


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "dialogs_dir": full_forms_dialogs_dir(),
        "timezone": "Europe/Oslo",
        "locale": "nb",
        "clinician_chat_id": -1001,
        "bot_username": "guidebot_test_bot",
        # The daily digest is off unless a test turns it on (tests/test_messages.py).
        "digest_time": "",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]
