"""Times of day as each language writes them, over Telegram (the fake Bot API server):
19.30 in Norwegian, 19:30 in English, in every message that shows one (the time is the
text `format.time` of the locale)."""

from __future__ import annotations

import pytest

from bot.clock import FakeClock
from tests.support.telegram_harness import do_intake, running_bot

# locale: (the agreement, the intake's last words, /plan, /checkin too early, the buttons, after /schedule)
EXPECTED = {
    "nb": (
        "på torsdag kl. 18.30,",
        "Første samtale er torsdag 8. januar kl. 18.30.",
        "Samtale: hver torsdag kl. 18.30.",
        "torsdag 8. januar kl. 18.30",
        ["Morgen (08.00)", "Midt på dagen (12.00)", "Ettermiddag (17.00)", "Kveld (20.00)"],
        "samtalen blir hver fredag kl. 19.30.",
    ),
    "nn": (
        "på torsdag kl. 18.30,",
        "Første samtale er torsdag 8. januar kl. 18.30.",
        "Samtale: kvar torsdag kl. 18.30.",
        "torsdag 8. januar kl. 18.30",
        ["Morgon (08.00)", "Midt på dagen (12.00)", "Ettermiddag (17.00)", "Kveld (20.00)"],
        "samtalen blir kvar fredag kl. 19.30.",
    ),
    "en": (
        "on Thursday at 18:30,",
        "Your first check-in is Thursday 8 January at 18:30.",
        "Check-in: Thursdays at 18:30.",
        "Thursday 8 January at 18:30",
        ["Morning (08:00)", "Midday (12:00)", "Afternoon (17:00)", "Evening (20:00)"],
        "every Friday at 19:30.",
    ),
}
FRIDAY = {"nb": "fredag", "nn": "fredag", "en": "Friday"}


@pytest.mark.parametrize("locale", ["nb", "nn", "en"])
async def test_every_time_a_participant_sees_follows_the_locale(sqlite_url: str, clock: FakeClock, locale: str) -> None:
    contract, first, plan_line, too_early, buttons, moved = EXPECTED[locale]
    async with running_bot(sqlite_url, clock) as tg:
        user = tg.chat(42, locale)
        await user.send(f"/start {tg.code('depression', 'K-42')}")
        await do_intake(user, locale)  # Monday 5 January; Thursday at 18:30 typed
        texts = [m.text or "" for m in user.user.messages]
        assert any(contract in t for t in texts), texts[-3:]
        assert any(first in t for t in texts), texts[-3:]

        plan = await user.send("/plan")
        assert plan_line in (plan[-1].text or "")
        [early] = await user.send("/checkin")
        assert too_early in (early.text or "")

        await user.send("/schedule")
        asked = await user.press(FRIDAY[locale])
        assert asked[-1].buttons == buttons, "the suggested times on the buttons too"
        done = await user.send("kl. 19.30" if locale != "en" else "at 19:30")
        assert moved in (done[-1].text or "")

        shown = "\n".join(m.text or "" for m in user.user.messages)
        wrong = "18:30" if locale != "en" else "18.30"
        assert wrong not in shown and wrong.replace("18", "19") not in shown
