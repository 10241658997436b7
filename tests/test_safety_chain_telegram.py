"""No signal reaches nobody, over the fake Telegram server and `guidebot run`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from bot.app import App, build_app
from bot.channels.telegram.runtime import SettingsProblem, TelegramBot
from bot.clock import FakeClock
from bot.engine.team_chat import KEY
from bot.storage.db import transaction
from bot.storage.models import Alert, AuditEntry, ServiceState
from tests.fakes import FakeTelegram, SentMessage
from tests.support.clinician import CODE, add_clinician
from tests.support.telegram_harness import FAST, BotProcess, enrol, running_bot, settings_for

TEAM = -1001
CONTACTS = ("113", "116 117", "116 123", "22 40 00 40")
FRIDAY_EVENING = datetime(2026, 1, 9, 17, 0, tzinfo=UTC)  # 18:00 in Oslo: closed until Monday


_enrol = enrol


def _alerts_for(messages: list[SentMessage], words: str) -> list[SentMessage]:
    return [m for m in messages if words in (m.text or "") and m.buttons]


def _stored_alerts(app: App) -> list[Alert]:
    with transaction(app.db) as session:
        return list(session.exec(select(Alert).order_by(col(Alert.id))).all())


def _team_mark(app: App) -> ServiceState | None:
    with transaction(app.db) as session:
        return session.get(ServiceState, KEY)


# -- 1. no start without a team chat that takes the bot's messages -----------------------


async def test_guidebot_run_without_a_team_chat_id_stops_with_one_line(sqlite_url: str) -> None:
    async with FakeTelegram() as server:
        process = BotProcess(server, sqlite_url)
        del process.env["GUIDEBOT_CLINICIAN_CHAT_ID"]
        await process.start()
        assert await process.wait() != 0
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1 and "GUIDEBOT_CLINICIAN_CHAT_ID" in lines[0], process.stderr
    assert "Traceback" not in process.stderr


async def test_guidebot_run_stops_when_the_bot_was_removed_from_the_team_chat(sqlite_url: str) -> None:
    async with FakeTelegram() as server:
        process = BotProcess(server, sqlite_url)
        server.group(TEAM).kick_bot()
        await process.start()
        assert await process.wait() != 0
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1, process.stderr
    assert "GUIDEBOT_CLINICIAN_CHAT_ID=-1001" in lines[0] and "kicked" in lines[0]


async def test_guidebot_run_stops_when_the_team_chat_does_not_exist(sqlite_url: str) -> None:
    async with FakeTelegram() as server:
        process = BotProcess(server, sqlite_url, GUIDEBOT_CLINICIAN_CHAT_ID="-4242")
        del server.chats[-4242]
        await process.start()
        assert await process.wait() != 0
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1 and "GUIDEBOT_CLINICIAN_CHAT_ID=-4242" in lines[0] and "chat not found" in lines[0].lower()


async def test_guidebot_run_stops_naming_the_new_id_when_the_team_chat_became_a_supergroup(sqlite_url: str) -> None:
    """Telegram gives a group a new id when it makes it a supergroup. The start used to take that
    answer for network trouble and wait for ever; now it says which id to set."""
    async with FakeTelegram() as server:
        process = BotProcess(server, sqlite_url)
        server.group(TEAM).upgrade(-1009876543210)
        await process.start()
        assert await process.wait() != 0
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1, process.stderr
    assert "GUIDEBOT_CLINICIAN_CHAT_ID=-1009876543210" in lines[0] and "supergroup" in lines[0]


@pytest.mark.parametrize("muted", ["restricted", "members_muted"])
async def test_the_bot_will_not_start_in_a_team_chat_where_it_may_not_write(sqlite_url: str, muted: str) -> None:
    async with FakeTelegram() as server:
        app = build_app(settings_for(server, sqlite_url), FakeClock(), run_migrations=False)
        team = server.group(TEAM)
        if muted == "restricted":
            team.bot_status, team.bot_can_send = "restricted", False
        else:
            team.members_can_send = False
        try:
            with pytest.raises(SettingsProblem, match="GUIDEBOT_CLINICIAN_CHAT_ID"):
                async with TelegramBot(app, tuning=FAST):
                    pass
            team.bot_status = "administrator"  # an admin may write even where members may not
            async with TelegramBot(app, tuning=FAST):
                pass
        finally:
            app.db.dispose()


# -- 2. a team chat that removed the bot: the admins get every alert ----------------------


async def test_an_alert_to_a_team_chat_telegram_made_a_supergroup_reaches_the_supergroup(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """While the bot runs, Telegram makes the team chat a supergroup with a new id: the alert is
    posted there, later ones go straight there, and the log says which id to set (a restart would
    otherwise stop, see above)."""
    async with running_bot(sqlite_url) as tg:
        add_clinician(tg.app, 501, "Kari")
        user = await _enrol(tg, 42, "K-42")
        supergroup = tg.server.group(-1009876543210, "Veilederteamet")
        tg.server.group(TEAM).upgrade(-1009876543210)
        with caplog.at_level(logging.WARNING):
            await user.send("jeg vil ta livet mitt")
            await tg.settle()
        [alert] = _alerts_for(supergroup.messages, "K-42")
        assert "Risikoord" in (alert.text or "")
        assert any("GUIDEBOT_CLINICIAN_CHAT_ID" in r.getMessage() for r in caplog.records)
        assert not any("livet" in r.getMessage() for r in caplog.records), "no message text in the log"
        await supergroup.press(501, alert, "Kvitter")  # a clinician acknowledges it there
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        [stored] = _stored_alerts(tg.app)
        assert stored.acknowledged_at is not None

        await user.send("trenger hjelp nå")  # the next alert goes straight to the supergroup
        await tg.settle()
        [second] = _alerts_for(supergroup.messages, "K-42")  # the first lost its buttons when acknowledged
        assert second.message_id != alert.message_id
        to_old = [c for c in tg.server.all_calls if c.method == "sendMessage" and c.params.get("chat_id") == TEAM]
        assert len(to_old) == 1, "only the first message met the refusal"


async def test_an_alert_to_a_team_chat_that_removed_the_bot_reaches_the_admins(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(sqlite_url) as tg:
        add_clinician(tg.app, 501, "Kari")
        add_clinician(tg.app, 900, "Sjef", admin=True)
        team = tg.server.group(TEAM)
        boss = tg.chat(900)
        user = await _enrol(tg, 42, "K-42")
        team.kick_bot()

        with caplog.at_level(logging.ERROR):
            await user.send("jeg vil ta livet mitt")
            await tg.settle()
        [copy] = _alerts_for(boss.user.messages, "K-42")
        assert "Risikoord" in (copy.text or "") and "teamchatten" in (copy.text or "")
        assert _team_mark(tg.app) is not None, "the mark is stored"
        assert any("GUIDEBOT_CLINICIAN_CHAT_ID" in r.getMessage() for r in caplog.records)
        assert not any("livet" in r.getMessage() for r in caplog.records), "no message text in the log"

        second = tg.chat(43)
        kari = tg.chat(501)
        reply = await kari.send("/newcode depression K-43")
        code = CODE.search(reply[-1].text or "")
        assert code is not None
        await second.send(f"/start {code.group(0)}")
        await second.send("ring meg")
        await tg.settle()
        assert _alerts_for(boss.user.messages, "K-43"), "later alerts go to the admins too"

        team.bot_status = "member"  # the team adds the bot again
        third = tg.chat(44)
        reply = await kari.send("/newcode depression K-44")
        code = CODE.search(reply[-1].text or "")
        assert code is not None
        await third.send(f"/start {code.group(0)}")
        await third.send("trenger hjelp nå")
        await tg.settle()
        assert _alerts_for(team.messages, "K-44")
        assert _team_mark(tg.app) is None, "a message that reached the team chat clears the mark"
        before = len(_alerts_for(boss.user.messages, "K-44"))
        await third.send("jeg vil ta livet mitt")
        await tg.settle()
        assert len(_alerts_for(team.messages, "K-44")) == 2
        assert len(_alerts_for(boss.user.messages, "K-44")) == before, "fixed: the admins are left alone again"


# -- 3. a high alert is re-sent until someone acknowledges it --------------------------------


async def test_a_high_alert_is_re_sent_until_acknowledged(sqlite_url: str, clock: FakeClock) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        add_clinician(tg.app, 900, "Sjef", admin=True)
        team = tg.server.group(TEAM)
        boss = tg.chat(900)
        user = await _enrol(tg, 42, "K-42")
        replies = await user.send("ring meg")
        assert any("116 123" in (m.text or "") for m in replies)
        [alert] = _alerts_for(team.messages, "K-42")
        assert "Ber om kontakt" in (alert.text or "")
        minutes = tg.app.settings.alert_resend_minutes

        clock.advance(minutes=minutes)
        assert await tg.run_timers() == 1
        assert len(_alerts_for(team.messages, "K-42")) == 2
        assert not _alerts_for(boss.user.messages, "K-42"), "admins only after the second re-send"
        clock.advance(minutes=minutes)
        assert await tg.run_timers() == 1
        assert len(_alerts_for(team.messages, "K-42")) == 3
        [to_boss] = _alerts_for(boss.user.messages, "K-42")
        assert "administratorer" in (to_boss.text or "")

        await team.press(501, team.messages[-1], "Kvitter")
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        assert _stored_alerts(tg.app)[0].acknowledged_at is not None
        delivered = len(team.messages)
        clock.advance(minutes=minutes * 4)
        assert await tg.run_timers() == 0
        assert len(team.messages) == delivered, "no re-sends after the acknowledgement"


# -- 4. someone without a code is heard too -------------------------------------------------------


async def test_risk_words_without_a_code_reach_the_person_and_the_team(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        add_clinician(tg.app, 501, "Kari")
        team = tg.server.group(TEAM)
        stranger = tg.chat(77)
        replies = await stranger.send("jeg vil ta livet mitt")
        assert (replies[0].text or "").startswith("Takk for at du sier det.")
        for number in CONTACTS:
            assert number in (replies[0].text or "")
        [alert] = _alerts_for(team.messages, "chat uten kode")
        assert "Testuser77" not in (alert.text or "") and "77" not in (alert.text or "").split("#")[0]

        await team.press(501, alert, "Vis sak")  # nothing to show; nothing breaks
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        assert not tg.server.unanswered_callback_queries
        listed = await tg.chat(501).send("/alerts")
        assert any("chat uten kode" in (m.text or "") for m in listed)
        await team.press(501, alert, "Kvitter")
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        assert _stored_alerts(tg.app)[0].acknowledged_at is not None
        assert "chat uten kode" in (team.messages[-1].text or "")


async def test_contact_without_a_code_gets_the_numbers_and_an_alert(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        team = tg.server.group(TEAM)
        replies = await tg.chat(78).send("/contact")
        [answer] = [m for m in replies if "116 123" in (m.text or "")]
        assert "tilgangskoden" in (answer.text or "")
        assert _alerts_for(team.messages, "chat uten kode")


# -- 6. /delete keeps an alert nobody has seen ------------------------------------------------------


async def test_delete_with_an_open_alert_keeps_the_alert(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        add_clinician(tg.app, 501, "Kari")
        team = tg.server.group(TEAM)
        user = await _enrol(tg, 42, "K-42")
        await user.send("jeg vil ta livet mitt")
        [confirm] = await user.send("/delete")
        assert "blir liggende til en veileder har sett det" in (confirm.text or "")
        done = await user.press("Ja, slett alt")
        assert any("blir liggende" in (m.text or "") for m in done)

        [stored] = _stored_alerts(tg.app)
        assert stored.label == "K-42" and stored.course_id is None and stored.acknowledged_at is None
        [alert] = _alerts_for(team.messages, "K-42")
        await team.press(501, alert, "Kvitter")
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        # Acknowledged (recorded without the label, the team told), and then erased too.
        with transaction(tg.app.db) as session:
            [acked] = session.exec(select(AuditEntry).where(AuditEntry.action == "alert_acknowledged")).all()
            assert acked.detail["alert_id"] == stored.id and acked.subject is None
        assert _stored_alerts(tg.app) == []
        assert "K-42" in (team.messages[-1].text or "")


# -- 5 and 7. a help request is answered, honestly about when it is seen ---------------------------


async def test_the_answer_to_a_help_request_differs_in_and_out_of_service_hours(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        team = tg.server.group(TEAM)
        user = await _enrol(tg, 42, "K-42")  # Monday 10:00 in Oslo
        [in_hours] = [m.text or "" for m in await user.send("trenger hjelp nå") if "116 123" in (m.text or "")]
        clock.set(FRIDAY_EVENING)
        [closed] = [m.text or "" for m in await user.send("I need help now") if "116 123" in (m.text or "")]
        assert "i dag" in in_hours and "stengt" not in in_hours
        assert "stengt" in closed and "mandag kl. 08.00" in closed
        for text in (in_hours, closed):
            for number in CONTACTS:
                assert number in text
        assert _alerts_for(team.messages, "K-42")
