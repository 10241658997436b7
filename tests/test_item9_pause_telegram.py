"""A risk answer on PHQ-9 item 9 pauses the questionnaire after the crisis message, over the fake Telegram server."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

from sqlmodel import select

from bot.clock import FakeClock
from bot.config import DEFAULT_DIALOGS_DIR
from bot.storage.db import transaction
from bot.storage.models import Score
from tests.fakes import SentMessage
from tests.support.clinician import add_clinician
from tests.support.course_script import INTAKE_ANSWERS
from tests.support.telegram_harness import Chat, Running, answer_measure, course_of, enrol, running_bot

TEAM = -1001
CRISIS = "Takk for at du sier det."
CONTACTS = ("113", "116 117", "116 123", "22 40 00 40")
CONTINUE = ["Fortsett nå", "Senere"]
SAFETYPLAN_OFFER = "Skriv /safetyplan når det passer deg."
GAD_1 = "GAD-7 (1/7)"
GAD_2 = "GAD-7 (2/7)"


async def _enrol(tg: Running, user_id: int = 42, label: str = "K-42") -> Chat:
    return await enrol(tg, user_id, label)


async def _intake(user: Chat) -> None:
    """The whole intake, with no risk answer."""
    for label in INTAKE_ANSWERS["nb"]:
        await user.press(label)
    await answer_measure(user, [1, 1, 1, 1, 1, 1, 1, 1, 0])
    await answer_measure(user, [1, 1, 1, 1, 1, 1, 1])
    await user.send("Sove bedre")
    await user.press_index(3)  # Thursday
    await user.send("18:30")
    await user.press_index(0)  # agree


def _texts(messages: list[SentMessage]) -> str:
    return "\n".join(m.text or "" for m in messages)


def _team_alerts(tg: Running, label: str) -> list[SentMessage]:
    return [m for m in tg.server.group(TEAM).messages if label in (m.text or "") and m.buttons]


def _assert_paused(replies: list[SentMessage]) -> None:
    text = replies[0].text or ""
    assert text.startswith(CRISIS)
    for number in CONTACTS:
        assert number in text
    assert replies[-1].buttons == CONTINUE
    assert "GAD-7" not in _texts(replies), "the next question waits"


async def test_noen_dager_on_item_9_pauses_and_fortsett_na_brings_the_next_question(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        tg.server.group(TEAM, "Veilederteamet")
        user = await _enrol(tg)
        for label in INTAKE_ANSWERS["nb"]:
            await user.press(label)
        await answer_measure(user, [1, 1, 1, 1, 1, 1, 1, 1])
        item_9 = copy.deepcopy(user.question())
        assert "PHQ-9 (9/9)" in (item_9.text or "")

        replies = await user.press("Noen dager")

        _assert_paused(replies)
        [alert] = _team_alerts(tg, "K-42")
        assert "Risikosvar" in (alert.text or "") and "PHQ-9, spørsmål 9: svar 1" in (alert.text or "")

        # A second tap on item 9 (its edit not yet seen) cannot answer the question that was never shown.
        query_id = tg.server.open_callback_query(user.user)
        await tg.server.deliver(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.user.raw_user,
                    "message": item_9.raw,
                    "chat_instance": f"instance{user.user.chat_id}",
                    "data": item_9.callback_data("Ikke i det hele tatt"),
                }
            }
        )
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        assert user.question().buttons == CONTINUE

        replies = await user.press("Fortsett nå")

        assert SAFETYPLAN_OFFER in _texts(replies), "no safety plan yet: it is offered, as after risk words"
        assert GAD_1 in (replies[-1].text or "") and "Noen dager" in replies[-1].buttons
        replies = await user.press("Noen dager")
        assert GAD_2 in (replies[-1].text or "")
        await answer_measure(user, [1, 1, 1, 1, 1, 1])
        course = course_of(tg.app, 42)
        assert course is not None
        with transaction(tg.app.db) as session:
            phq = session.exec(select(Score).where(Score.course_id == course.id, Score.instrument == "phq9")).one()
        assert phq.total == 9 and phq.items["self_harm"] == 1, "stored and scored as before"


async def test_a_typed_2_on_item_9_pauses_and_senere_leaves_it_to_the_reminder(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        tg.server.group(TEAM, "Veilederteamet")
        user = await _enrol(tg)
        await _intake(user)
        tg.clock.advance(days=3)  # past the first gap (schedule.yaml: first_checkin_min_days)
        await user.send("/checkin")
        await answer_measure(user, [1, 1, 1, 1, 1, 1, 1, 1])

        replies = await user.send("2")  # the second option, "Noen dager"

        _assert_paused(replies)
        replies = await user.press("Senere")
        [later] = replies
        assert "/checkin" in (later.text or "") and later.buttons == ["Fortsett nå"]
        course = course_of(tg.app, 42)
        assert course is not None and course.due_kind == "reminder"

        clock.advance(hours=25)
        await tg.run_timers()

        assert GAD_1 in (user.question().text or ""), "the reminder brings the question that waited"
        replies = await user.press("Noen dager")
        assert GAD_2 in (replies[-1].text or "")


async def test_item_9_as_the_last_item_is_scored_at_the_pause_and_fortsett_na_goes_on(
    sqlite_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    dialogs = tmp_path / "dialogs"
    shutil.copytree(DEFAULT_DIALOGS_DIR, dialogs)
    schedule = dialogs / "schedule.yaml"
    week_1 = "{week: 1, flow: intake, instruments: [phq9, gad7], next_parts: [1, 2]}"
    assert week_1 in schedule.read_text()
    schedule.write_text(schedule.read_text().replace(week_1, week_1.replace("[phq9, gad7]", "[gad7]")))
    async with running_bot(sqlite_url, clock, dialogs_dir=dialogs) as tg:
        add_clinician(tg.app, 501, "Kari")
        tg.server.group(TEAM, "Veilederteamet")
        user = await _enrol(tg)
        for label in INTAKE_ANSWERS["nb"]:
            await user.press(label)
        await answer_measure(user, [1, 1, 1, 1, 1, 1, 1])  # GAD-7; the risk item alone comes last

        replies = await user.press("Noen dager")

        assert (replies[0].text or "").startswith(CRISIS) and replies[-1].buttons == CONTINUE
        course = course_of(tg.app, 42)
        assert course is not None
        with transaction(tg.app.db) as session:
            scores = {s.instrument: s for s in session.exec(select(Score).where(Score.course_id == course.id))}
        assert scores["gad7"].total == 7 and scores["phq9"].items == {"self_harm": 1}, "scored at the pause"

        replies = await user.press("Fortsett nå")

        assert "Dette er utgangspunktet ditt" in _texts(replies), "the intake goes on where it stopped"
        assert "Hva ønsker du å oppnå" in (replies[-1].text or "")
        with transaction(tg.app.db) as session:
            assert len(session.exec(select(Score).where(Score.course_id == course.id)).all()) == 2
