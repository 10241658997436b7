"""The terminal chat as an admin's preview: a question's buttons go away once it is answered,
and after /wait, so the terminal never offers the buttons of a past question."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.channels.console import ConsoleChat
from bot.clock import FakeClock
from bot.config import Settings
from bot.startup import load_app
from tests.support.cli import use_database

# Consent, age, impact, the 16 baseline taps, a goal, Monday at 08.00, the agreement.
INTAKE = ["1", "3", "2", *["1"] * 16, "Sove bedre", "1", "1", "1"]
MONDAY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # 10.00 in Oslo
STALE = "Den knappen er ikke i bruk lenger."


class Screen:
    """What the terminal shows, and the console behind it."""

    def __init__(self, console: ConsoleChat, lines: list[str]) -> None:
        self.console = console
        self.lines = lines

    def type(self, line: str) -> list[str]:
        start = len(self.lines)
        self.console.send(line)
        return self.lines[start:]

    def numbered(self, shown: list[str]) -> list[tuple[int, str]]:
        return [(int(m[1]), m[2]) for line in shown if (m := re.fullmatch(r"  \[(\d+)\] (.*)", line))]


@pytest.fixture
def screen(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Screen]:
    use_database(monkeypatch, tmp_path, sqlite_url)
    clock = FakeClock(MONDAY)
    application = load_app(Settings(), clock)
    lines: list[str] = []
    console = ConsoleChat(application, write=lines.append, clock=clock)
    console.send(f"/start {console.make_demo_code()}")
    yield Screen(console, lines)
    application.db.dispose()


def test_an_answered_question_shows_the_answer_and_its_buttons_stop_working(screen: Screen) -> None:
    consent = screen.type("1")  # "Ja, vi fortsetter"
    assert consent[0] == "  ✓ Ja, vi fortsetter", "the answer stands where the buttons were"
    age_buttons = [label for _, label in screen.numbered(consent)]
    assert [b["text"] for b in screen.console.buttons] == age_buttons, "only the new question's buttons are live"
    assert "Ja, vi fortsetter" not in age_buttons

    shown = screen.type("3")  # the third age group
    assert shown[0] == f"  ✓ {age_buttons[2]}"
    assert all(b["text"] not in age_buttons for b in screen.console.buttons), "the age buttons are gone"


def test_after_wait_only_the_buttons_shown_since_are_live_and_numbered_on(screen: Screen) -> None:
    for line in INTAKE:
        screen.type(line)
    assert not any(STALE in line for line in screen.lines)

    opened = screen.type("/wait 7d")  # Monday 12 January 08.00: the week-2 check-in opens
    assert any("Nå er det tid for samtalen i uke 2" in line for line in opened)
    first_question = screen.numbered(opened)
    assert [n for n, _ in first_question] == [1, 2, 3, 4]

    quiet = screen.type("/wait 30m")  # nothing falls due: what was on screen before is past
    assert screen.numbered(quiet) == [] and screen.console.buttons == []

    reminded = screen.type("/wait 1d")  # the reminder, with "not this week", and the question again
    numbered = screen.numbered(reminded)
    assert numbered[0] == (1, "Ikke denne uken – ta den om to dager")
    assert [n for n, _ in numbered] == [1, 2, 3, 4, 5], "one number for one button on the screen"
    assert len(screen.console.buttons) == 5

    answered = screen.type("2")  # the repeated question's first option, not the old screen's "2"
    assert answered[0] == "  ✓ Ikke i det hele tatt"
    assert any("PHQ-2 (2/2)" in line for line in answered)
    assert not any(STALE in line for line in screen.lines)


def test_a_typed_number_after_a_wait_still_answers_the_open_question(screen: Screen) -> None:
    for line in INTAKE:
        screen.type(line)
    screen.type("/wait 7d")
    screen.type("/wait 30m")
    assert screen.console.buttons == []
    shown = screen.type("1")  # read by the engine as the first option of the open question
    assert any("PHQ-2 (2/2)" in line for line in shown)
    assert not any(STALE in line for line in shown)
