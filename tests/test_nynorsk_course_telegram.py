"""A whole course in nynorsk over Telegram, through the fake Bot API server.

A person whose Telegram speaks nynorsk (`language_code` "nn") goes through the intake,
four weekly check-ins and the closing, and reads nynorsk all the way: the program, the
PHQ-9 and GAD-7, the buttons and the chart. Nothing falls back to a bokmål or English text.
The escalation rules read what the person writes in nynorsk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.config import DEFAULT_DIALOGS_DIR
from bot.dialogs.model import DialogSet
from tests.fakes import SentMessage
from tests.support.clinician import add_clinician
from tests.support.telegram_harness import Chat, answer_measure, course_of, enrol, running_bot

pytestmark = pytest.mark.skipif(
    not (DEFAULT_DIALOGS_DIR / "locales" / "nn" / "texts.yaml").is_file(),
    reason="dialogs/locales/nn/texts.yaml is not there yet: the nynorsk participant texts come with "
    "their own branch, and this test needs them together with the nynorsk programs and instruments",
)

TEAM = -1001
NN_OPTIONS = ["Ikkje i det heile tatt", "Nokre dagar", "Meir enn halvparten av dagane", "Nesten kvar dag"]
CONTACTS = ("113", "116 117", "116 123", "22 40 00 40")
WEEKS = [
    ([2, 2, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1]),
    ([1, 1, 1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 0, 0, 1]),
    ([1, 1, 1, 0, 1, 0, 1, 0, 0], [1, 1, 0, 1, 0, 0, 1]),
    ([1, 1, 0, 0, 1, 0, 0, 0, 0], [1, 0, 0, 1, 0, 0, 0]),
]
# What a nynorsk-writing person types; every line is an ordinary answer for the escalation rules.
GOALS = "Sove betre og kome meg ut kvar dag"
HOMEWORK = (
    "Del 1 og 2, aktivitetsdagboka",
    "Ja, eg kjende meg att",
    "Dagboka",
    "Å finne tid",
    "Det passar godt med jobben",
)
WEEK_GOALS = "Tysdag kveld: del 3"
CLOSING = (
    "Å leggje merke til tankane mine",  # learned
    "Aktivitetsplanen",  # keep working on
    "Trekkjer meg unna og søv dårleg",  # safety plan 1: warning signs
    "Ringje syster mi og bruke dagboka",  # 2: own coping
    "Syster mi",  # 4: people to ask
    "Borna mine",  # 7: reasons for living
)

_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_WORD = re.compile(r"[^\W\d_]{2,}")


def fallback_phrases(dialogs: DialogSet, locale: str = "nn") -> set[str]:
    """Phrases of bokmål and English texts that `locale` words differently.

    For each text whose `locale` version differs, every stretch of literal words (between
    template tags and line breaks) of three words or more that appears nowhere in `locale`'s
    own texts. One of them in a message means a bokmål or English text was sent instead.
    """
    own = dialogs.texts[locale]
    everything = "\n".join(own.values())
    phrases: set[str] = set()
    for other in ("nb", "en"):
        for key, source in dialogs.texts[other].items():
            if own.get(key) == source:
                continue  # the same in both (a name, a number); nothing to tell apart
            for piece in re.split(r"\n|•", _TAG.sub("\n", source)):
                phrase = piece.strip(" \t.,:;!?«»()*_-–")
                if len(_WORD.findall(phrase)) >= 3 and phrase not in everything:
                    phrases.add(phrase)
    return phrases


def buttons_sent(message: SentMessage) -> list[str]:
    """The button labels a message came with (a pressed keyboard is taken away later)."""
    rows = message.params.get("reply_markup", {}).get("inline_keyboard", [])
    return [str(button["text"]) for row in rows for button in row]


def seen(messages: Iterable[SentMessage]) -> str:
    """Every text and button label the person was shown, one per line."""
    lines: list[str] = []
    for message in messages:
        lines.append(message.text or "")
        lines.extend(buttons_sent(message))
    return "\n".join(lines)


async def intake_in_nynorsk(user: Chat, phq: list[int], gad: list[int]) -> None:
    await user.press_index(0)  # consent: yes
    await user.press_index(3)  # 30–49
    await user.press_index(1)  # the problems affect daily life some
    await answer_measure(user, phq)
    await answer_measure(user, gad)
    await user.send(GOALS)
    await user.press_index(3)  # Thursday
    await user.send("18.30")
    await user.press_index(0)  # the agreement


async def checkin_in_nynorsk(user: Chat, phq: list[int], gad: list[int]) -> None:
    await answer_measure(user, phq)
    await answer_measure(user, gad)
    await user.press_index(0)  # did the homework
    await user.send(HOMEWORK[0])
    await user.press_index(1)  # twice
    for text in (*HOMEWORK[1:], WEEK_GOALS):
        await user.send(text)


async def closing_in_nynorsk(user: Chat, phq: list[int], gad: list[int]) -> None:
    await answer_measure(user, phq)
    await answer_measure(user, gad)
    await user.press_index(0)  # did part 6; the chart comes now
    for text in CLOSING:
        await user.send(text)
    await user.press_index(0)  # finished the whole program
    await user.press_index(0)  # better
    await user.send("Øvingane hjelpte")
    await user.press_index(0)  # the homework: 5
    await user.press_index(1)  # the follow-up: 4
    await user.send("Eit fint opplegg")


async def test_a_whole_course_in_nynorsk_over_telegram(sqlite_url: str, clock: FakeClock) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        dialogs, renderer = tg.app.dialogs.current.dialogs, tg.app.dialogs.current.renderer
        phrases = fallback_phrases(dialogs)
        assert len(phrases) > 200, "the check below must have bokmål and English phrases to look for"
        user = tg.chat(4207, language_code="nn")

        # Telegram says nn: the welcome, the program and the buttons are nynorsk.
        welcome = await user.send(f"/start {tg.code('depression', 'K-7301')}")
        assert "«Depresjon og nedstemdheit»" in (welcome[0].text or "")
        await intake_in_nynorsk(user, [2, 2, 2, 1, 1, 2, 1, 1, 0], [2, 1, 2, 1, 1, 1, 1])
        course = course_of(tg.app, 4207)
        assert course is not None and course.locale == "nn"
        assert course.state == "active" and course.week == 2
        assert (course.checkin_weekday, course.checkin_time) == (3, "18:30")

        # PHQ-9 and GAD-7 in nynorsk, with the same four answers on both.
        questions = [m for m in user.user.messages if (m.text or "").startswith(("PHQ-9 (", "GAD-7 ("))]
        assert len(questions) == 16
        assert all(buttons_sent(m) == NN_OPTIONS for m in questions)
        assert "Kor ofte har du vore plaga av eitt eller fleire av dei følgjande problema" in (questions[0].text or "")
        assert (questions[0].text or "").endswith("Lita interesse for eller glede av å gjere ting")
        assert (questions[8].text or "").endswith(
            "Tankar om at det ville vore betre om du var død eller om å skade deg sjølv"
        )
        assert (questions[9].text or "").endswith("Kjent deg nervøs, engsteleg eller veldig stressa")

        # The first check-in comes by itself at the chosen time, the others through /checkin.
        assert course.due_at is not None
        clock.set(course.due_at + timedelta(seconds=30))
        assert await tg.run_timers() == 1
        await checkin_in_nynorsk(user, *WEEKS[0])
        for phq, gad in WEEKS[1:]:
            tg.clock.advance(days=4)  # past the schedule's gap between check-ins
            await user.send("/checkin")
            await checkin_in_nynorsk(user, phq, gad)
        course = course_of(tg.app, 4207)
        assert course is not None and course.state == "active" and course.week == 6

        # The closing, with the chart.
        tg.clock.advance(days=4)
        await user.send("/checkin")
        await closing_in_nynorsk(user, [1, 0, 0, 0, 1, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0])
        course = course_of(tg.app, 4207)
        assert course is not None and course.state == "completed"
        chart = next(m for m in user.user.messages if m.method == "sendPhoto")
        assert chart.text == renderer.render("nn", "chart.caption", {})

        # The parts the check-ins looked back on and forward to, in nynorsk.
        shown = seen(user.user.messages)
        for part in ("Aktivitetar og humør", "Tankar og kjensler", "Å utfordre tankane", "Problemløysing"):
            assert part in shown
        words = set(_WORD.findall(shown.lower()))
        assert {"ikkje", "kva", "korleis", "veka", "òg"} <= words

        # No bokmål or English text instead of the nynorsk one, and no alert: nothing risky was written.
        assert [p for p in phrases if p in shown] == []
        assert tg.server.group(TEAM).messages == []


async def test_what_a_person_writes_in_nynorsk_is_read_for_risk(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        dialogs, renderer = tg.app.dialogs.current.dialogs, tg.app.dialogs.current.renderer
        phrases = fallback_phrases(dialogs)
        add_clinician(tg.app, 501, "Kari")
        team = tg.server.group(TEAM)
        user = await enrol(tg, 4208, "K-7302", "nn")
        await intake_in_nynorsk(user, [1, 1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1])
        tg.clock.advance(days=4)  # past the schedule's first gap
        await user.send("/checkin")
        await answer_measure(user, WEEKS[0][0])
        await answer_measure(user, WEEKS[0][1])
        await user.press_index(0)  # did the homework; now a free-text question
        before = len(user.user.messages)

        # An unclear text: the direct question, in nynorsk.
        replies = await user.send("eg orkar ikkje meir")
        question = replies[-1]
        assert question.text == renderer.render("nn", "asking.question", {})
        assert buttons_sent(question) == [dialogs.text("nn", f"asking.{k}") for k in ("yes", "no", "skip")]
        await user.press_index(1)  # no

        # Clear risk words: the crisis contacts at once, in nynorsk, and the team hears.
        replies = await user.send("eg har tenkt på å ta livet mitt")
        crisis = replies[0].text or ""
        assert crisis.startswith(dialogs.text("nn", "safety.crisis").splitlines()[0])
        assert all(number in crisis for number in CONTACTS)
        assert buttons_sent(replies[-1]) == [
            dialogs.text("nn", "asking.continue_now"),
            dialogs.text("nn", "asking.later"),
        ]
        assert [m for m in team.messages if "K-7302" in (m.text or "")], "the team hears at once"

        assert [p for p in phrases if p in seen(user.user.messages[before:])] == []
