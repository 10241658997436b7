"""Issue 9 (check-in content) and issue 11 (a check-in opens with one message), over the fake
Telegram server: the opening message, /pause in the middle of a check-in, and a lighter week."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FakeClock
from bot.dialogs.store import DialogStore
from tests.support.clinician import add_clinician
from tests.support.telegram_harness import answer_measure, course_of, do_intake, enrol, running_bot

PHQ = [1, 1, 1, 1, 1, 1, 1, 1, 0]
GAD = [1, 1, 1, 1, 1, 1, 1]
PAUSED = "Kurset ditt er satt på pause, så jeg venter med spørsmålene."
HOW_TO_GO_ON = "Skriv /resume når du vil fortsette, så tar vi det opp igjen der vi slapp."
OPTIONS = ["Ikke i det hele tatt", "Noen dager", "Mer enn halvparten av dagene", "Nesten hver dag"]
HOLD_BUTTON = "Kurset er satt på pause. Skriv /resume for å fortsette."


async def test_a_checkin_opens_with_one_message_with_the_first_question(database_url: str, clock: FakeClock) -> None:
    async with running_bot(database_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        user = await enrol(tg, 42, "K-42")
        await do_intake(user)
        course = course_of(tg.app, 42)
        assert course is not None and course.due_at is not None
        clock.set(course.due_at + timedelta(seconds=30))
        before = len(user.user.messages)
        assert await tg.run_timers() == 1
        opening = user.user.messages[before:]
        assert len(opening) == 1, [m.text for m in opening]
        text = opening[0].text or ""
        assert text.startswith("Hei! Nå er det tid for samtalen i uke 2.")
        assert "PHQ-9 (1/9)" in text and "Liten interesse for eller glede av å gjøre ting" in text
        assert opening[0].buttons == OPTIONS


async def test_pause_holds_in_the_middle_of_a_checkin(database_url: str, clock: FakeClock) -> None:
    async with running_bot(database_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        user = await enrol(tg, 43, "K-43")
        await do_intake(user)
        tg.clock.advance(days=4)  # past the schedule's first gap
        await user.send("/checkin")
        await answer_measure(user, PHQ[:3])
        old = user.question()
        course = course_of(tg.app, 43)
        assert course is not None
        step, seq, measure = course.step, course.ask_seq, course.scratch["measure"]
        assert "PHQ-9 (4/9)" in (old.text or "")

        await user.send("/pause")
        assert course_of(tg.app, 43).state == "paused"  # type: ignore[union-attr]
        # The old buttons change nothing and say how to go on.
        replies = await user.press_index(0)
        assert [m.text for m in replies] == [PAUSED + " " + HOW_TO_GO_ON]
        assert user.user.callback_answers[-1].text == HOLD_BUTTON
        # A typed answer neither.
        replies = await user.send("2")
        assert (replies[-1].text or "").startswith(PAUSED)
        course = course_of(tg.app, 43)
        assert course is not None
        assert (course.step, course.ask_seq, course.scratch["measure"]) == (step, seq, measure)
        # No reminder while paused.
        clock.advance(days=2)
        before = len(user.user.messages)
        await tg.run_timers()
        assert len(user.user.messages) == before

        # /resume goes on where it was: item 4, and the rest of the check-in.
        replies = await user.send("/resume")
        assert "PHQ-9 (4/9)" in (replies[-1].text or "") and replies[-1].buttons
        await answer_measure(user, PHQ[3:])
        assert "GAD-7 (1/7)" in (user.question().text or "")
        course = course_of(tg.app, 43)
        assert course is not None and course.state == "checkin"


async def test_a_lighter_week_over_telegram(database_url: str, clock: FakeClock, lighter_dialogs: DialogStore) -> None:
    async with running_bot(database_url, clock, dialogs=lighter_dialogs) as tg:
        add_clinician(tg.app, 501, "Kari")
        user = await enrol(tg, 44, "K-44")
        await do_intake(user)
        tg.clock.advance(days=4)  # past the schedule's first gap
        replies = await user.send("/checkin")
        assert len(replies) == 1 and "PHQ-2 (1/2)" in (replies[0].text or "")
        await answer_measure(user, [1, 1, 0, 1, 0])  # PHQ-2, GAD-2, item 9: five taps
        texts = [m.text or "" for m in user.user.messages[-3:]]
        assert any("PHQ-2: 2 (av 6, under grensen på 3). GAD-2: 1 (av 6, under grensen på 3)." in t for t in texts)
        assert "Så til hjemmearbeidet" in (user.question().text or "")
