"""Risk words: the shipped lists flag the tuned risk phrases and pass ordinary ones, in any state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from bot.app import App
from bot.cli import app as cli
from bot.clock import FakeClock
from bot.storage.db import transaction
from bot.storage.models import Course
from tests.support.clinician import Colleague
from tests.support.participant import Participant, do_intake, go_to_next_checkin, team_messages

PHRASES: dict[str, dict[str, list[str]]] = yaml.safe_load(
    (Path(__file__).parent / "data" / "escalation_phrases.yaml").read_text(encoding="utf-8")
)
runner = CliRunner()
CRISIS = {"nb": "Takk for at du sier det.", "en": "Thank you for telling me."}
TEAM = -1001


def _escalation_test(args: list[str], lines: list[str]) -> list[dict[str, Any]]:
    result = runner.invoke(cli, ["escalation", "test", *args], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("locale", ["nb", "en"])
@pytest.mark.parametrize("narrowed", [True, False])
def test_the_shipped_lists_flag_every_tuned_risk_phrase(locale: str, narrowed: bool) -> None:
    risky = PHRASES[locale]["risk"]
    results = _escalation_test(["--locale", locale] if narrowed else [], risky)
    assert [r["text"] for r in results] == risky
    missed = [r["text"] for r in results if r["action"] == "none"]
    assert missed == []  # each is alerted, or asked about directly first
    assert all(s["level"] == "urgent" for r in results for s in r["signals"] if s["signal"] == "risk_words")


@pytest.mark.parametrize("locale", ["nb", "en"])
def test_the_shipped_lists_pass_ordinary_phrases(locale: str) -> None:
    ordinary = PHRASES[locale]["ordinary"]
    results = _escalation_test([], ordinary)
    assert [r["text"] for r in results if r["action"] == "alert"] == []
    assert len(results) == len(ordinary)


def test_escalation_test_takes_texts_as_arguments_and_names_the_evidence() -> None:
    result = runner.invoke(cli, ["escalation", "test", "Kan noen ringe meg?", "Jeg vil ikke være her lenger!!"])
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["action"] == "alert"
    assert [s["signal"] for s in first["signals"]] == ["asks_for_person"]
    assert "ringe meg" in first["signals"][0]["evidence"]
    assert second["action"] == "alert"
    assert [(s["signal"], s["level"]) for s in second["signals"]] == [("risk_words", "urgent")]
    assert "være her lenger" in second["signals"][0]["evidence"]


def test_escalation_test_refuses_an_unknown_locale() -> None:
    result = runner.invoke(cli, ["escalation", "test", "--locale", "de", "hei"])
    assert result.exit_code == 1
    assert result.output.strip() == "guidebot: --locale must be nb, nn or en"


# -- in the engine: any state, either language -------------------------------------


def _alert_texts(app: App) -> list[str]:
    return [m.text for m in team_messages(app, TEAM) if m.kind == "text" and "Risikoord" in m.text]


@pytest.mark.parametrize(
    ("locale", "words"),
    [("nb", "jeg vil ikke være her lenger"), ("en", "honestly kms"), ("en", "I want to unalive myself")],
)
def test_risk_words_in_a_free_text_answer_reach_user_and_team_at_once(
    app: App, clock: FakeClock, locale: str, words: str
) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(1001, "K-1001", language=locale)
    do_intake(user, locale, [1] * 8 + [0], [1] * 7)
    go_to_next_checkin(app, clock, user)
    for index in [1] * 8 + [0] + [1] * 7:  # item 9 "not at all": no pause before the free-text question
        user.press_index(index)
    user.press_index(0)  # did the homework
    user.receive()
    assert not _alert_texts(app)

    replies = user.send(words)  # the answer to "what did you work on?"

    assert replies[0].text.startswith(CRISIS[locale])
    assert "116 123" in replies[0].text and "113" in replies[0].text
    assert len(replies) > 1, "the check-in goes on"
    [alert] = _alert_texts(app)
    assert "K-1001" in alert and "uke 2" in alert
    assert user.answers()["homework_what"] == words


@pytest.mark.parametrize("state", ["no course", "intake", "active", "paused", "completed"])
def test_risk_words_are_heard_in_any_state(app: App, state: str) -> None:
    user = Participant(app, 1001, "en")
    if state != "no course":
        user.start_with_new_code(label="K-1001")
    if state in ("active", "paused", "completed"):
        do_intake(user, "en", [0] * 9, [0] * 7)
    if state == "paused":
        user.send("/pause")
    if state == "completed":
        with transaction(app.db) as session:
            course = session.get(Course, user.course().id)
            assert course is not None
            course.state = "completed"
    user.receive()
    replies = user.send("i just want to die")
    assert replies[0].text.startswith(CRISIS["en"])
    assert len(_alert_texts(app)) == 1
