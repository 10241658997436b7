"""/dashboard in a clinician's private chat: a one-time link to the web dashboard, through the outbox."""

from __future__ import annotations

from bot.clinicians.desk import Desk
from bot.dashboard.tokens import LINK_VALID, new_link, pepper

LOGIN_PATH = "/login/"


def dashboard_command(desk: Desk, _args: str) -> None:
    settings = desk.turn.config
    if not settings.dashboard_url:
        desk.reply("dashboard.link.disabled")
        return
    token, link = new_link(desk.session, desk.clinician, desk.now, pepper(settings))
    desk.audit("dashboard_link_made", None, link_id=link.id)
    until = link.expires_at.astimezone(settings.tz)
    desk.reply(
        "dashboard.link.made",
        link=f"{settings.dashboard_url}{LOGIN_PATH}{token}",
        minutes=int(LINK_VALID.total_seconds() // 60),
        hh=f"{until.hour:02d}",
        mm=f"{until.minute:02d}",
    )
