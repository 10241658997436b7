"""Asking directly, and the pause after the crisis message, over the fake Telegram server."""

from __future__ import annotations

import copy

from bot.clock import FakeClock
from tests.fakes import SentMessage
from tests.support.clinician import CODE, add_clinician
from tests.support.telegram_harness import Chat, Running, answer_measure, do_intake, running_bot

TEAM = -1001
UNCLEAR = "jeg orker ikke mer"
CLEAR = "jeg vil ta livet mitt"
QUESTION = "Har du tanker om å ta livet ditt?"
CRISIS = "Takk for at du sier det."
CONTACTS = ("113", "116 117", "116 123", "22 40 00 40")
WHAT = "Hva jobbet du med?"
TIMES = "Hvor mange ganger øvde du?"
STALE = "Den knappen er ikke i bruk lenger."


async def _at_what(tg: Running, user_id: int = 42, label: str = "K-42") -> Chat:
    """Kari's user, in the week 2 check-in, just asked what they worked on (a free-text question)."""
    kari = tg.chat(501)
    reply = await kari.send(f"/newcode depression {label}")
    code = CODE.search(reply[-1].text or "")
    assert code is not None, reply
    user = tg.chat(user_id)
    await user.send(f"/start {code.group(0)}")
    await do_intake(user)
    tg.clock.advance(days=3)  # past the first gap (schedule.yaml: first_checkin_min_days)
    await user.send("/checkin")
    await answer_measure(user, [1, 1, 1, 1, 1, 1, 1, 1, 0])
    await answer_measure(user, [1, 1, 1, 1, 1, 1, 1])
    replies = await user.press("Ja")
    assert WHAT in (replies[-1].text or "")
    return user


def _team_alerts(tg: Running, label: str) -> list[SentMessage]:
    return [m for m in tg.server.group(TEAM).messages if label in (m.text or "")]


def _texts(messages: list[SentMessage]) -> str:
    return "\n".join(m.text or "" for m in messages)


async def _press_again(tg: Running, chat: Chat, pressed: SentMessage, label: str) -> None:
    """A second tap on a button, as Telegram delivers it when the first tap's edit has not arrived yet."""
    raw = copy.deepcopy(pressed.raw)
    data = pressed.callback_data(label)
    query_id = tg.server.open_callback_query(chat.user)
    await tg.server.deliver(
        {
            "callback_query": {
                "id": query_id,
                "from": chat.user.raw_user,
                "message": raw,
                "chat_instance": f"instance{chat.user.chat_id}",
                "data": data,
            }
        }
    )
    await tg.settle(int(tg.server.updates[-1]["update_id"]))


async def test_an_ask_answered_yes_alerts_the_team_and_gives_the_contacts(sqlite_url: str, clock: FakeClock) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        tg.server.group(TEAM, "Veilederteamet")
        user = await _at_what(tg)

        replies = await user.send(UNCLEAR)

        [question] = replies
        assert QUESTION in (question.text or "") and question.buttons == ["Ja", "Nei", "Vil ikke svare"]
        assert not _team_alerts(tg, "K-42"), "held while the person is asked"
        asked = copy.deepcopy(question)

        replies = await user.press("Ja")

        assert (replies[0].text or "").startswith(CRISIS)
        for number in CONTACTS:
            assert number in (replies[0].text or "")
        assert replies[-1].buttons == ["Fortsett nå", "Senere"]
        assert TIMES not in _texts(replies)
        [alert] = _team_alerts(tg, "K-42")
        assert "svarte ja" in (alert.text or "") and "Risikoord (haster)" in (alert.text or "")
        assert alert.buttons == ["Kvitter", "Vis sak"]
        assert [m for m in tg.chat(501).user.messages if "svarte ja" in (m.text or "")], "the owner has it too"
        edited = user.user.bot_message(question.message_id)
        assert edited is not None and not edited.buttons and (edited.text or "").endswith("Ja")

        await _press_again(tg, user, asked, "Ja")
        assert user.user.callback_answers[-1].text == STALE
        assert len(_team_alerts(tg, "K-42")) == 1, "a double tap changes nothing"


async def test_an_ask_left_unanswered_for_30_minutes_alerts_the_team(sqlite_url: str, clock: FakeClock) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        tg.server.group(TEAM)
        user = await _at_what(tg)
        await user.send(UNCLEAR)

        clock.advance(minutes=29)
        await tg.run_timers()
        assert not _team_alerts(tg, "K-42")
        clock.advance(minutes=2)
        await tg.run_timers()

        [alert] = _team_alerts(tg, "K-42")
        assert "ikke besvart" in (alert.text or "") and alert.buttons == ["Kvitter", "Vis sak"]


async def test_rather_not_say_alerts_and_no_leaves_a_notice(sqlite_url: str, clock: FakeClock) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        tg.server.group(TEAM)
        skipper = await _at_what(tg, 42, "K-42")
        await skipper.send(UNCLEAR)
        replies = await skipper.press("Vil ikke svare")
        assert (replies[0].text or "").startswith(CRISIS)
        [alert] = _team_alerts(tg, "K-42")
        assert "ville ikke svare" in (alert.text or "")

        denier = await _at_what(tg, 43, "K-43")
        await denier.send(UNCLEAR)
        owner = tg.chat(501).user
        before = len(owner.messages)
        replies = await denier.press("Nei")

        assert CRISIS not in _texts(replies) and "113" not in _texts(replies)
        assert WHAT in (replies[-1].text or ""), "the conversation goes on"
        [note] = [m for m in owner.messages[before:] if "K-43" in (m.text or "")]
        assert "svarte nei" in (note.text or "") and "Grunnlag: «" in (note.text or "")
        assert not [m for m in _team_alerts(tg, "K-43") if "haster" in (m.text or "")]

        replies = await denier.send("Del 1 og 2")
        assert TIMES in (replies[-1].text or "")


async def test_after_a_risk_text_the_next_question_waits_for_continue_now(sqlite_url: str, clock: FakeClock) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        tg.server.group(TEAM)
        user = await _at_what(tg, 42, "K-42")

        replies = await user.send(CLEAR)

        assert (replies[0].text or "").startswith(CRISIS)
        assert replies[-1].buttons == ["Fortsett nå", "Senere"]
        assert TIMES not in _texts(replies) and WHAT not in _texts(replies)
        replies = await user.press("Fortsett nå")
        assert "/safetyplan" in (replies[0].text or "")
        assert WHAT in (replies[-1].text or "")

        later = await _at_what(tg, 43, "K-43")
        await later.send(CLEAR)
        replies = await later.press("Senere")
        assert "/checkin" in _texts(replies) and WHAT not in _texts(replies) and TIMES not in _texts(replies)
        assert replies[-1].buttons == ["Fortsett nå"]
        replies = await later.send("/checkin")
        assert WHAT in (replies[-1].text or "")
