"""All in Telegram: a clinician makes a code, watches the course, follows up an alert and closes the case."""

from __future__ import annotations

from bot.clock import FakeClock
from tests.support.clinician import CODE, add_clinician
from tests.support.telegram_harness import course_of, do_checkin, do_intake, running_bot

TEAM = -1001


async def test_a_clinician_does_the_whole_job_in_telegram(sqlite_url: str, clock: FakeClock) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        team = tg.server.group(TEAM, "Veilederteamet")
        kari = tg.chat(501)

        # 1. make a code
        made = await kari.send("/newcode depression K-42")
        code = CODE.search(made[-1].text or "")
        assert code is not None and "https://t.me/" in (made[-1].text or "")

        # 2. watch the user's course
        user = tg.chat(42)
        await user.send(f"/start {code.group(0)}")
        await do_intake(user)
        tg.clock.advance(days=3)  # past the first gap (schedule.yaml: first_checkin_min_days)
        await user.send("/checkin")
        await do_checkin(user, [1, 1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1])
        cases = await kari.send("/cases")
        assert "K-42 · Depresjon og nedstemthet · uke 3" in (cases[-1].text or "")
        assert "PHQ-9 8↓ · GAD-7 7↓" in (cases[-1].text or "")
        case = await kari.send("/case K-42")
        assert [m.method for m in case] == ["sendMessage", "sendPhoto", "sendMessage", "sendMessage"]
        assert case[1].file is not None and case[1].file.data.startswith(b"\x89PNG")
        assert (case[-1].text or "").startswith("Utkast til journalnotat")

        # 3. get, acknowledge and follow up an alert
        await user.send("Kan noen ringe meg?")
        alert = next(m for m in team.messages if "K-42" in (m.text or "") and m.buttons)
        await team.press(501, alert, "Vis sak")
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        assert (kari.texts()[-4] or "").startswith("Sak K-42")
        await team.press(501, alert, "Kvitter")
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        assert (team.messages[-1].text or "") == "✅ Ber om kontakt for K-42 er kvittert av Kari."
        assert tg.server.unanswered_callback_queries == []

        # 4. close the case with the next step of care
        ask = await kari.send("/close K-42")
        assert ask[-1].buttons == [
            "Ingen videre oppfølging",
            "Kurs eller gruppe",
            "Samtalebehandling",
            "Henvist videre (loshjelp)",
        ]
        done = await kari.press("Kurs eller gruppe")
        assert (done[-1].text or "") == "K-42 er avsluttet. Neste steg: Kurs eller gruppe."
        course = course_of(tg.app, 42)
        assert course is not None and course.state == "closed" and course.next_step_of_care == "group"
        assert (user.texts()[-1] or "").startswith("Veilederen din har avsluttet kurset")
