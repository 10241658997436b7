"""Escalation over the fake Telegram server: the user and the team hear at once, and nothing is lost."""

from __future__ import annotations

import pytest

from bot.app import build_app
from bot.clock import FakeClock
from tests.fakes import FakeTelegram, SentMessage
from tests.support.clinician import add_clinician
from tests.support.settings import make_settings
from tests.support.telegram_harness import (
    BotProcess,
    answer_measure,
    do_intake,
    enrol,
    new_code,
    outbox_rows,
    running_bot,
)

TEAM = -1001
CRISIS = {"nb": "Takk for at du sier det.", "en": "Thank you for telling me."}
CONTACTS = ("113", "116 117", "116 123", "22 40 00 40")


_enrol = enrol


def _alerts(messages: list[SentMessage], label: str) -> list[SentMessage]:
    return [m for m in messages if label in (m.text or "") and m.buttons]


def _assert_crisis(message: SentMessage, language: str) -> None:
    text = message.text or ""
    assert text.startswith(CRISIS[language])
    for number in CONTACTS:
        assert number in text


async def test_an_item_9_answer_in_a_checkin_reaches_user_and_team_in_the_same_update(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        team = tg.server.group(TEAM, "Veilederteamet")
        user = await _enrol(tg, 42, "K-42")
        await do_intake(user)
        tg.clock.advance(days=3)  # past the first gap (schedule.yaml: first_checkin_min_days)
        await user.send("/checkin")
        await answer_measure(user, [1, 1, 1, 1, 1, 1, 1, 1])

        replies = await user.press_index(2)  # item 9: more than half the days

        _assert_crisis(replies[0], "nb")
        assert replies[-1].buttons == ["Fortsett nå", "Senere"], "the check-in pauses"
        assert not any("GAD-7" in (m.text or "") for m in replies)
        [alert] = _alerts(team.messages, "K-42")
        assert "Risikosvar" in (alert.text or "") and "PHQ-9, spørsmål 9: svar 2" in (alert.text or "")
        assert alert.buttons == ["Kvitter", "Vis sak"]
        assert _alerts(tg.chat(501).user.messages, "K-42"), "the owning clinician has it too"

        await team.press(501, alert, "Kvitter")
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        edited = team.bot_message(alert.message_id)
        assert edited is not None and not edited.buttons
        assert (edited.text or "").endswith("✅ Kvittert av Kari")
        assert (team.messages[-1].text or "") == "✅ Risikosvar for K-42 er kvittert av Kari."


@pytest.mark.parametrize(
    ("language", "words"), [("nb", "jeg orker ikke å leve mer"), ("en", "honestly i just want to unalive myself")]
)
async def test_risk_words_reach_user_and_team_in_the_same_update(sqlite_url: str, language: str, words: str) -> None:
    async with running_bot(sqlite_url) as tg:
        add_clinician(tg.app, 501, "Kari")
        team = tg.server.group(TEAM)
        user = await _enrol(tg, 42, "K-42", language)
        replies = await user.send(words)
        _assert_crisis(replies[0], language)
        [alert] = _alerts(team.messages, "K-42")
        assert "Risikoord" in (alert.text or "")


async def test_an_alert_raised_while_telegram_fails_arrives_when_it_recovers(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        add_clinician(tg.app, 501, "Kari")
        team = tg.server.group(TEAM)
        user = await _enrol(tg, 42, "K-42")
        tg.server.faults.add("sendMessage", kind="500", count=None, chat_id=TEAM)
        tg.server.faults.add("sendMessage", kind="502", count=3, chat_id=42)

        await user.user.send("kms")
        crisis = await user.user.wait_for_message(lambda m: (m.text or "").startswith(CRISIS["nb"]), timeout=10)
        assert crisis is not None
        assert not _alerts(team.messages, "K-42")
        pending = [r for r in outbox_rows(tg.app, TEAM) if r.sent_at is None]
        assert len(pending) == 1 and "K-42" in pending[0].payload["text"]

        tg.server.faults.clear()
        await team.wait_for_message(lambda m: "K-42" in (m.text or ""), timeout=10)
        await tg.settle()
        assert len(_alerts(team.messages, "K-42")) == 1


async def test_an_alert_survives_a_kill_and_restart(sqlite_url: str) -> None:
    async with FakeTelegram() as server:
        team = server.group(TEAM)
        server.faults.add("sendMessage", kind="500", count=None, chat_id=TEAM)
        app = build_app(make_settings(sqlite_url), run_migrations=False)
        code = new_code(app, label="K-42")
        app.db.dispose()
        first = BotProcess(server, sqlite_url)
        await first.start()
        user = server.user(42)
        await user.send(f"/start {code}")
        await user.wait_for_message(lambda m: "Velkommen" in (m.text or ""), timeout=15)
        await user.send("jeg vil ikke være her lenger")
        await user.wait_for_message(lambda m: (m.text or "").startswith(CRISIS["nb"]), timeout=15)
        await first.kill()
        assert not [m for m in team.messages if "K-42" in (m.text or "")], "the team chat was down"

        server.faults.clear()
        second = BotProcess(server, sqlite_url)
        await second.start()
        try:
            alert = await team.wait_for_message(lambda m: "K-42" in (m.text or ""), timeout=15)
            assert alert is not None and "Risikoord" in (alert.text or "")
        finally:
            await second.stop()
