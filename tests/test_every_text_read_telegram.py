"""Over the fake Telegram server: edits, captions and voice messages are read or answered,
clinicians see the whole message in /case, and typed digits on a scale are positions."""

from __future__ import annotations

from collections.abc import Awaitable

from sqlmodel import select

from bot.storage.db import transaction
from bot.storage.models import Alert, Score
from tests.fakes import SentMessage
from tests.support.clinician import add_clinician
from tests.support.course_script import INTAKE_ANSWERS
from tests.support.evidence import shown_evidence
from tests.support.telegram_harness import Chat, Running, course_of, enrol, running_bot

TEAM = -1001
RISK = "jeg vil ta livet mitt"
CRISIS = "Takk for at du sier det."


_enrol = enrol


async def _act(tg: Running, chat: Chat, action: Awaitable[int]) -> list[SentMessage]:
    """Send anything as the user, wait until the bot has answered, return the answer."""
    before = len(chat.user.messages)
    await action
    await tg.settle(int(tg.server.updates[-1]["update_id"]))
    return chat.user.messages[before:]


def _last_own_message_id(chat: Chat) -> int:
    return max(mid for mid, m in chat.user.history.items() if m["from"]["id"] == chat.user.user_id)


def _team_alerts(tg: Running, label: str) -> list[SentMessage]:
    return [m for m in tg.server.group(TEAM).messages if label in (m.text or "") and m.buttons]


def _alerts(tg: Running, chat_id: int) -> list[Alert]:
    course = course_of(tg.app, chat_id)
    assert course is not None
    with transaction(tg.app.db) as session:
        return list(session.exec(select(Alert).where(Alert.course_id == course.id)).all())


async def test_an_edited_message_with_risk_words_alerts_and_case_shows_the_edit(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        add_clinician(tg.app, 501, "Kari")
        tg.server.group(TEAM)
        user = await _enrol(tg, 42, "K-42")
        await user.send("Jeg har det helt fint")
        assert _team_alerts(tg, "K-42") == []

        edited = f"Jeg har det ikke fint. {RISK}"
        replies = await _act(tg, user, user.user.edit(_last_own_message_id(user), edited))

        assert (replies[0].text or "").startswith(CRISIS)
        [alert] = _team_alerts(tg, "K-42")
        assert "Risikoord" in (alert.text or "") and "(i en redigert melding)" in (alert.text or "")
        assert "ikke fint" not in (alert.text or ""), "the team chat has no whole text"
        case = "\n".join(m.text or "" for m in await tg.chat(501).send("/case K-42"))
        assert "Hele meldingen (redigert)" in case and f"«{edited}»" in case


async def test_a_photo_caption_with_risk_words_alerts(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        add_clinician(tg.app, 501, "Kari")
        tg.server.group(TEAM)
        user = await _enrol(tg, 43, "K-43")
        replies = await _act(tg, user, user.user.send_photo(caption=RISK))
        assert (replies[0].text or "").startswith(CRISIS)
        assert replies[-1].buttons, "the question comes again"
        assert len(_team_alerts(tg, "K-43")) == 1
        [alert] = _alerts(tg, 43)
        assert alert.messages[0]["text"] == RISK and alert.messages[0]["edited"] is False


async def test_a_voice_message_gets_the_cant_read_reply_with_the_crisis_line(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        user = tg.chat(44)
        await user.send(f"/start {tg.code(label='K-44')}")
        replies = await _act(tg, user, user.user.send_voice())
        text = replies[0].text or ""
        assert "kan dessverre ikke høre" in text
        line = next(line for line in text.splitlines() if "116 123" in line)
        assert "22 40 00 40" in line and "113" in line
        assert replies[-1].buttons == ["Ja, vi fortsetter", "Nei, ikke nå"]


async def test_typed_digits_on_phq9_are_positions(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        add_clinician(tg.app, 501, "Kari")
        tg.server.group(TEAM)
        calm = await _enrol(tg, 45, "K-45")
        risky = await _enrol(tg, 46, "K-46")
        for chat in (calm, risky):
            for label in INTAKE_ANSWERS["nb"]:
                await chat.press(label)
            assert "PHQ-9 (1/9)" in (chat.question().text or "")
            for _ in range(8):
                await chat.send("1")

        replies = await calm.send("1")
        assert "GAD-7 (1/7)" in (replies[-1].text or "")
        replies = await risky.send("4")
        assert (replies[0].text or "").startswith(CRISIS)

        with transaction(tg.app.db) as session:
            calm_course = course_of(tg.app, 45)
            assert calm_course is not None
            score = session.exec(select(Score).where(Score.course_id == calm_course.id)).first()
        assert score is None, "PHQ-9 is stored when the whole measure is done"
        for _ in range(7):
            await calm.send("1")
        with transaction(tg.app.db) as session:
            totals = {s.instrument: s.total for s in session.exec(select(Score)).all()}
        assert totals == {"phq9": 0, "gad7": 0}
        assert _alerts(tg, 45) == [] and _team_alerts(tg, "K-45") == []
        [alert] = _alerts(tg, 46)
        assert (alert.signal, alert.level, shown_evidence(tg.app, alert)) == (
            "risk_answer",
            "urgent",
            ["PHQ-9 item 9 = 3"],
        )
        assert len(_team_alerts(tg, "K-46")) == 1


async def test_case_shows_the_whole_message_and_the_team_chat_does_not(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        add_clinician(tg.app, 501, "Kari")
        team = tg.server.group(TEAM)
        user = await _enrol(tg, 47, "K-47")
        whole = f"Det har vært en tung uke på jobben, og ærlig talt: {RISK}"
        await user.send(whole)
        [alert] = _team_alerts(tg, "K-47")
        assert "tung uke" not in (alert.text or "")

        case = "\n".join(m.text or "" for m in await tg.chat(501).send("/case K-47"))
        assert f"«{whole}»" in case and "(redigert)" not in case

        kari = tg.chat(501)
        before = len(kari.user.messages)
        await team.press(501, alert, "Vis sak")
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        shown = "\n".join(m.text or "" for m in kari.user.messages[before:])
        assert f"«{whole}»" in shown
        assert not any("tung uke" in (m.text or "") for m in team.messages)
