"""An admin invites a colleague with a one-time link; whoever opens it becomes a clinician, once."""

from __future__ import annotations

import re

from sqlmodel import select

from bot.app import App
from bot.clock import FakeClock
from bot.storage.db import transaction
from bot.storage.models import Clinician, Invite
from tests.support.clinician import Colleague, audit_actions

LINK = re.compile(r"https://t\.me/guidebot_test_bot\?start=(inv_[A-Za-z0-9_-]+)")


def _invite(admin: Colleague, name: str = "Ola Nordmann") -> str:
    found = LINK.search(admin.send(f"/invite {name}")[-1].text)
    assert found is not None, admin.inbox[-1].text
    return found.group(1)


def test_an_invite_link_makes_its_opener_a_clinician_once(app: App) -> None:
    boss = Colleague(app, 900, "Leder", admin=True)
    payload = _invite(boss)
    assert len(payload) <= 64, "Telegram start parameters are at most 64 characters"

    ola = Colleague(app, 4242, register=False)
    welcome = ola.send(f"/start {payload}")
    assert welcome[0].text == "Velkommen, Ola Nordmann! Nå er du registrert som veileder."
    assert welcome[1].text.startswith("Hei! Dette kan du gjøre her som veileder")
    assert ola.send("/cases")[-1].text.startswith("Du har ingen åpne saker")

    someone = Colleague(app, 4343, register=False)
    assert someone.send(f"/start {payload}")[-1].text.startswith("Denne invitasjonen virker ikke")
    assert someone.send("/cases")[-1].text.startswith("Beklager, det er ikke tilgjengelig")

    with transaction(app.db) as session:
        clinician = session.exec(select(Clinician).where(Clinician.telegram_id == 4242)).one()
        invite = session.exec(select(Invite)).one()
    assert clinician.name == "Ola Nordmann" and not clinician.is_admin
    assert payload.removeprefix("inv_") not in invite.token_hash, "only a hash of the token is kept"
    actions = [a.action for a in audit_actions(app)]
    assert actions.count("invite_created") == 1 and actions.count("invite_redeemed") == 1
    assert actions.count("invite_refused") == 1


def test_an_invite_expires_after_a_week(app: App, clock: FakeClock) -> None:
    boss = Colleague(app, 900, "Leder", admin=True)
    payload = _invite(boss)
    clock.advance(days=7, seconds=1)
    ola = Colleague(app, 4242, register=False)
    assert ola.send(f"/start {payload}")[-1].text.startswith("Denne invitasjonen virker ikke")


def test_only_admins_invite(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    assert kari.send("/invite Ola")[-1].text.startswith("Bare administratorer kan invitere")
    boss = Colleague(app, 900, "Leder", admin=True)
    assert boss.send("/invite")[-1].text.startswith("Skriv /invite og navnet til kollegaen")


def test_a_clinician_opening_an_invite_keeps_it_unused(app: App) -> None:
    boss = Colleague(app, 900, "Leder", admin=True)
    payload = _invite(boss)
    kari = Colleague(app, 501, "Kari")
    assert kari.send(f"/start {payload}")[-1].text.startswith("Du er allerede registrert som veileder")
    ola = Colleague(app, 4242, register=False)
    assert ola.send(f"/start {payload}")[0].text.startswith("Velkommen, Ola Nordmann!")


def test_without_a_bot_username_the_invite_is_a_start_command(app: App) -> None:
    app.engine.config = app.engine.config.model_copy(update={"bot_username": ""})
    boss = Colleague(app, 900, "Leder", admin=True)
    text = boss.send("/invite Ola")[-1].text
    command = re.search(r"/start (inv_\S+)", text)
    assert command is not None and "https://" not in text
    ola = Colleague(app, 4242, register=False)
    assert ola.send(f"/start {command.group(1)}")[0].text.startswith("Velkommen, Ola!")
