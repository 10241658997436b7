"""Over the fake Telegram server: a baseline or an answer that needs a clinician, and the safety plan."""

from __future__ import annotations

from bot.clock import FakeClock
from tests.fakes import SentMessage
from tests.support.clinician import add_clinician
from tests.support.telegram_harness import answer_measure, answers_of, enrol, running_bot

TEAM = -1001
CRISIS = "Takk for at du sier det. Jeg tar det du skriver på alvor."
LOSHJELP = "om dette kurset er den beste hjelpen for deg nå eller om noe annet passer bedre"
PLAN = (
    "Jeg blir stille og sover dårlig",
    "Gå tur med hunden",
    "Treningssenteret, kafeen",
    "Broren min",
    "Fastlegen",
    "Be broren min ta vare på medisinene",
    "Datteren min",
)


_enrol = enrol


def _alerts(messages: list[SentMessage], label: str) -> list[str]:
    return [m.text or "" for m in messages if label in (m.text or "") and m.buttons]


async def test_a_severe_baseline_reaches_the_team_and_the_person_hears_about_loshjelp(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        team = tg.server.group(TEAM, "Veilederteamet")
        user = await _enrol(tg, 61, "K-61")
        await user.press("Ja, vi fortsetter")
        await user.press("30–49")
        await user.press("Mye")
        await answer_measure(user, [3, 3, 3, 3, 2, 2, 2, 2, 0])
        await answer_measure(user, [1, 1, 1, 1, 1, 1])
        replies = await user.press_index(1)  # the last GAD-7 item ends the baseline

        texts = [m.text or "" for m in replies]
        assert LOSHJELP in texts[0] and texts[1].startswith("Takk. Dette er utgangspunktet ditt")
        assert not any(CRISIS in (t or "") for t in user.texts())
        [alert] = _alerts(team.messages, "K-61")
        assert "Trenger vurdering (viktig)" in alert and "PHQ-9 = 20" in alert
        assert _alerts(tg.chat(501).user.messages, "K-61"), "the owning clinician has it too"


async def test_under_16_gets_loshjelp_not_the_crisis_text(sqlite_url: str, clock: FakeClock) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        team = tg.server.group(TEAM, "Veilederteamet")
        user = await _enrol(tg, 62, "K-62")
        await user.press("Ja, vi fortsetter")
        replies = await user.press("Under 16")
        assert "vanligvis for dem som er 16 år eller eldre" in (replies[0].text or "")
        assert (replies[-1].text or "").startswith("Hvor mye påvirker plagene")
        assert not any(CRISIS in (t or "") for t in user.texts())
        [alert] = _alerts(team.messages, "K-62")
        assert "Trenger vurdering" in alert and "age=under_16" in alert


async def test_safetyplan_in_seven_steps_and_the_clinician_sees_it(sqlite_url: str, clock: FakeClock) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        tg.server.group(TEAM, "Veilederteamet")
        user = await _enrol(tg, 63, "K-63")
        await user.press("Ja, vi fortsetter")
        await user.press("30–49")
        await user.press("En del")
        await answer_measure(user, [1, 1, 1, 1, 1, 1, 1, 1, 0])
        await answer_measure(user, [1, 1, 1, 1, 1, 1, 1])
        await user.send("Sove bedre")
        await user.press_index(3)
        await user.send("18:30")
        await user.press_index(0)

        offer = await user.send("/safetyplan")
        assert offer[-1].buttons == ["Ja, la oss lage den", "Ikke nå"]
        await user.press("Ja, la oss lage den")
        for number, text in enumerate(PLAN, start=1):
            if number == 5:
                await user.press("Ja, legg til noen")
            replies = await user.send(text)
        plan = replies[-2].text or ""
        for heading in (
            "1. Faresignalene dine",
            "2. Det du kan gjøre selv",
            "3. Folk og steder",
            "4. Folk du kan be om hjelp",
            "5. Fagfolk og hjelpetelefoner",
            "6. Slik gjør du",
            "7. Det du lever for",
        ):
            assert heading in plan
        assert all(text in plan for text in PLAN)
        stored = {a.key: a.value for a in answers_of(tg.app, 63)}
        assert stored["safety_reasons"] == PLAN[6] and stored["warning_signs"] == PLAN[0]

        case = await tg.chat(501).send("/case K-63")
        shown = next(m.text or "" for m in case if (m.text or "").startswith("Sikkerhetsplanen til K-63"))
        for line in (
            f"1. Faresignaler: {PLAN[0]}",
            f"4. Folk å be om hjelp: {PLAN[3]}",
            f"7. Grunner til å leve: {PLAN[6]}",
        ):
            assert line in shown

        again = await user.send("/safetyplan")
        assert PLAN[3] in (again[0].text or "")
        assert again[-1].buttons == ["Ja, endre noe", "Nei, den er fin"]
        done = await user.press("Nei, den er fin")
        assert "Del den gjerne med noen du stoler på" in (done[-1].text or "")
