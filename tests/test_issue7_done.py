"""Issue 7's "done when" bullets that had no test over the fake Telegram server, and the
reviewer's findings: a risk message after an acknowledged alert is a new alert, the crisis
text after risk words says honestly when it is seen, and its lines never run together."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from bot.clock import FakeClock
from bot.dialogs.store import DialogStore
from bot.storage.db import transaction
from bot.storage.models import Alert
from tests.fakes import SentMessage
from tests.support.clinician import add_clinician
from tests.support.telegram_harness import Running, enrol, running_bot

TEAM = -1001
RISK = "jeg vil ta livet mitt"
CRISIS = "Takk for at du sier det."
CONTACTS = ("113", "116 117", "116 123", "22 40 00 40")
FRIDAY_EVENING = datetime(2026, 1, 9, 17, 0, tzinfo=UTC)  # 18.00 in Oslo: closed until Monday
RUN_TOGETHER = re.compile(r"[a-zæøå0-9)][.!?][A-ZÆØÅ]")


_enrol = enrol


def _team_alerts(tg: Running, label: str) -> list[SentMessage]:
    return [m for m in tg.server.group(TEAM).messages if label in (m.text or "") and m.buttons]


def _stored(tg: Running) -> list[Alert]:
    with transaction(tg.app.db) as session:
        return list(session.exec(select(Alert).order_by(col(Alert.id))).all())


def _crisis(replies: list[SentMessage]) -> str:
    [text] = [m.text or "" for m in replies if (m.text or "").startswith(CRISIS)]
    return text


async def test_a_risk_message_after_an_acknowledged_alert_is_a_new_alert(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        add_clinician(tg.app, 501, "Kari")
        team = tg.server.group(TEAM)
        user = await _enrol(tg, 42, "K-42")
        await user.send(RISK)
        await user.press("Fortsett nå")
        [first] = _team_alerts(tg, "K-42")

        await user.send("i want to kill myself")  # before anyone has seen it: joins the open alert
        assert len(_team_alerts(tg, "K-42")) == 1
        assert [len(a.messages) for a in _stored(tg)] == [2]

        await team.press(501, first, "Kvitter")
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        assert _stored(tg)[0].acknowledged_at is not None

        replies = await user.send(RISK)

        assert CRISIS in _crisis(replies), "the person hears the crisis text again"
        second = _team_alerts(tg, "K-42")[-1]
        assert second.message_id != first.message_id and second.buttons == ["Kvitter", "Vis sak"]
        assert "Risikoord" in (second.text or "")
        alerts = _stored(tg)
        assert len(alerts) == 2 and alerts[1].acknowledged_at is None
        assert alerts[1].messages[0]["text"] == RISK


async def test_the_crisis_text_after_risk_words_differs_in_and_out_of_service_hours(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        tg.server.group(TEAM)
        user = await _enrol(tg, 42, "K-42")  # Monday 10.00 in Oslo
        in_hours = _crisis(await user.send(RISK))
        await user.press("Fortsett nå")
        clock.set(FRIDAY_EVENING)
        closed = _crisis(await user.send("i want to kill myself"))

        assert "i dag" in in_hours and "stengt" not in in_hours
        assert "stengt" in closed and "mandag kl. 08.00" in closed
        for text in (in_hours, closed):
            assert not RUN_TOGETHER.search(text), text
            lines = text.splitlines()
            for number in CONTACTS:
                [line] = [line for line in lines if number in line and "•" in line]
                assert line.startswith("•"), f"{number} on its own line: {text}"


@pytest.mark.parametrize("locale", ["nb", "en"])
@pytest.mark.parametrize("key", ["safety.crisis", "safety.contact_requested"])
@pytest.mark.parametrize("open_now", [True, False])
@pytest.mark.parametrize("registered", [True, False])
def test_the_crisis_and_contact_texts_keep_their_lines_apart(
    shipped_dialogs: object, locale: str, key: str, open_now: bool, registered: bool
) -> None:

    assert isinstance(shipped_dialogs, DialogStore)
    context: dict[str, object] = {"service": {"open_now": open_now, "next_open": "mandag kl. 08.00"}}
    if registered:
        context["label"] = "K-42"
    text = shipped_dialogs.current.renderer.render(locale, key, context)
    assert not RUN_TOGETHER.search(text), text
    bullets = [line for line in text.splitlines() if "113" in line]
    assert bullets and all(line.startswith("•") for line in bullets), text
