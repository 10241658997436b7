"""The rhythm of a course over Telegram (the fake Bot API server): /checkin is gated,
/schedule moves the check-in, "not this week" in a reminder works once, and reminders
keep to waking hours."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.clock import FakeClock
from tests.support.telegram_harness import course_of, do_intake, running_bot

OSLO = ZoneInfo("Europe/Oslo")
NOT_THIS_WEEK = "Ikke denne uken – ta den om to dager"


async def test_gate_schedule_not_this_week_and_waking_hours(sqlite_url: str, clock: FakeClock) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        user = tg.chat(42)
        await user.send(f"/start {tg.code('depression', 'K-42')}")
        await do_intake(user)  # Monday 5 January; Thursday at 18:30 chosen

        # /checkin too early: when the next one is, and /plan.
        [early] = await user.send("/checkin")
        assert "torsdag 8. januar kl. 18.30" in (early.text or "") and "/plan" in (early.text or "")
        course = course_of(tg.app, 42)
        assert course is not None and course.state == "active"

        # /schedule: Sunday evening, with the intake's buttons.
        replies = await user.send("/schedule")
        assert replies[-1].buttons[:2] == ["mandag", "tirsdag"]
        await user.press("søndag")
        replies = await user.press("Kveld (20.00)")
        assert "hver søndag kl. 20.00" in (replies[-1].text or "")
        course = course_of(tg.app, 42)
        assert course is not None and (course.checkin_weekday, course.checkin_time) == (6, "20:00")
        assert course.due_at is not None and course.due_at.astimezone(OSLO).strftime("%a %d %H:%M") == "Sun 11 20:00"
        plan = await user.send("/plan")
        assert "Samtale: hver søndag kl. 20.00" in (plan[-1].text or "")

        # The check-in opens on Sunday at 20.00; the first reminder, Monday at 20.00, has the button.
        opened = course.due_at
        clock.set(opened + timedelta(seconds=1))
        assert await tg.run_timers() == 1
        clock.set(opened + timedelta(hours=24, seconds=1))
        assert await tg.run_timers() == 1
        reminder = next(m for m in reversed(user.user.messages) if NOT_THIS_WEEK in m.buttons)
        assert "påminnelse" in (reminder.text or "")
        replies = await user.press_on(reminder, NOT_THIS_WEEK)
        assert "tirsdag 13. januar kl. 20.00" in (replies[-1].text or "")
        course = course_of(tg.app, 42)
        assert (
            course is not None and course.state == "checkin" and course.due_at == opened + timedelta(days=2, seconds=1)
        )

        # Two days later the check-in comes again, without the button: it moves once a week.
        clock.set(opened + timedelta(days=2, seconds=2))
        before = len(user.user.messages)
        assert await tg.run_timers() == 1
        again = user.user.messages[before:]
        assert again and again[-1].buttons[0] == "Ikke i det hele tatt"
        assert all(NOT_THIS_WEEK not in m.buttons for m in again)

        # The next reminder (72 hours after the new opening) falls at 20.00 on Friday: in waking hours.
        # Shifted to 21.30 by the clock, it waits for 08.00 the next morning.
        course = course_of(tg.app, 42)
        assert course is not None and course.due_kind == "reminder" and course.due_at is not None
        assert course.due_at.astimezone(OSLO).strftime("%a %H:%M") == "Fri 20:00"
        clock.set(course.due_at + timedelta(hours=1, minutes=30))
        before = len(user.user.messages)
        await tg.run_timers()
        assert user.user.messages[before:] == [], "no reminder at 21.30"
        course = course_of(tg.app, 42)
        assert course is not None and course.due_at is not None
        assert course.due_at.astimezone(OSLO).strftime("%a %H:%M") == "Sat 08:00"
        clock.set(course.due_at + timedelta(seconds=1))
        assert await tg.run_timers() == 1
        assert any(
            "påminnelse" in (m.text or "") or "titter innom" in (m.text or "") for m in user.user.messages[before:]
        )
