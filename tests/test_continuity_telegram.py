"""Issue 9, "the continuity path keeps the part", over the fake Telegram server: after "I didn't
do the homework" the person sets a smaller goal and stays on the same parts, /plan says so,
and the next check-in looks back on those parts before moving on."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FakeClock
from tests.support import course_script as script
from tests.support.clinician import add_clinician
from tests.support.telegram_harness import answer_measure, course_of, do_intake, enrol, running_bot

PARTS_1_AND_2 = "del 1, «Å forstå depresjon» og del 2"


async def test_the_continuity_path_keeps_the_part_over_telegram(database_url: str, clock: FakeClock) -> None:
    async with running_bot(database_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        user = await enrol(tg, 45, "K-45")
        await do_intake(user)
        tg.clock.advance(days=4)  # past the schedule's first gap
        await user.send("/checkin")
        await answer_measure(user, [1] * 8 + [0] + [1] * 7)  # PHQ-9 (item 9: not at all) and GAD-7
        assert "Så til hjemmearbeidet" in (user.question().text or "")

        # "No, not this time": what was managed, what got in the way, no call, a smaller goal.
        await user.play([script.Choose(2), script.Type("Jeg leste litt"), script.Type("Mye på jobb")])
        await user.play([script.Choose(1), script.Type("Lese ti minutter på søndag")])
        texts = [m.text or "" for m in user.user.messages]
        stay = next(t for t in reversed(texts) if t.startswith("Vi blir på"))
        assert PARTS_1_AND_2 in stay and "med det mindre målet ditt" in stay
        assert not any(t.startswith("Neste del er") for t in texts), "no new part and no new homework"
        course = course_of(tg.app, 45)
        assert course is not None and course.scratch.get("part_lag") == 1

        plan = await user.send("/plan")
        assert f"Nå jobber du med {PARTS_1_AND_2}" in (plan[-1].text or "")
        assert "Lese ti minutter på søndag" in (plan[-1].text or "")

        # The next check-in looks back on the same parts, and then moves on.
        tg.clock.advance(days=5)
        await user.send("/checkin")
        await answer_measure(user, [0] * 16)
        assert PARTS_1_AND_2 in (user.question().text or "")
        await user.play(script.checkin([], [])[2:])  # the homework was done this time, and next week's goals
        after = [m.text or "" for m in user.user.messages[-4:]]
        assert any(t.startswith("Neste del er del 3") for t in after), after
        course = course_of(tg.app, 45)
        assert course is not None and course.week == 4 and course.scratch.get("part_lag") == 1
        assert course.last_checkin_at is not None and course.last_checkin_at > tg.clock.now() - timedelta(minutes=5)
