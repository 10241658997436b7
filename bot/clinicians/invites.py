"""One-time invite links: an admin invites a colleague, who opens the link once.

The token is random (144 bits) and stored only as a hash, so a leaked
database cannot be turned into working links.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlmodel import col, select

from bot.clinicians.desk import Desk
from bot.config import Settings
from bot.engine.codes import audit
from bot.engine.turn import Turn
from bot.storage.models import Clinician, Invite

PREFIX = "inv_"
VALID_DAYS = 7
MAX_NAME = 60


def hash_token(token: str) -> str:
    return hashlib.sha256(f"guidebot-invite-v1:{token}".encode()).hexdigest()


def invite_link(settings: Settings, token: str) -> str | None:
    if not settings.bot_username:
        return None
    return f"https://t.me/{settings.bot_username}?start={PREFIX}{token}"


def invite_command(desk: Desk, args: str) -> None:
    """/invite NAME, for admins: a link that makes its opener a clinician, once."""
    if not desk.clinician.is_admin:
        desk.reply("clinician.invite.admins_only")
        return
    name = " ".join(args.split())
    if not name or len(name) > MAX_NAME:
        desk.reply("clinician.invite.usage", max=MAX_NAME)
        return
    token = secrets.token_urlsafe(18)
    assert desk.clinician.id is not None
    invite = Invite(
        token_hash=hash_token(token),
        created_by=desk.clinician.id,
        name=name,
        created_at=desk.now,
        expires_at=desk.now + timedelta(days=VALID_DAYS),
    )
    desk.session.add(invite)
    desk.session.flush()
    desk.audit("invite_created", None, invite_id=invite.id)
    desk.reply(
        "clinician.invite.made",
        name=name,
        link=invite_link(desk.turn.config, token),
        command=f"/start {PREFIX}{token}",
        expires=desk.format_time(invite.expires_at),
    )


def redeem_invite(turn: Turn, token: str) -> None:
    """Whoever opens a valid invite becomes a clinician; the invite is then used up."""
    session = turn.session
    invite = session.exec(
        select(Invite).where(Invite.token_hash == hash_token(token), col(Invite.used_at).is_(None)).with_for_update()
    ).first()
    if invite is None or invite.expires_at <= turn.now:
        audit(session, turn.now, "anonymous", "invite_refused", None)
        turn.say("clinician.invite.invalid")
        return
    clinician = session.exec(select(Clinician).where(Clinician.telegram_id == turn.event.from_id)).first()
    if clinician is not None and clinician.active:
        Desk(turn, clinician).reply("clinician.invite.already")
        return
    if clinician is None:
        clinician = Clinician(telegram_id=turn.event.from_id, name=invite.name, created_at=turn.now)
    clinician.name, clinician.active, clinician.is_admin = invite.name, True, False
    session.add(clinician)
    invite.used_at = turn.now
    session.flush()
    desk = Desk(turn, clinician)
    desk.audit("invite_redeemed", None, invite_id=invite.id)
    desk.reply("clinician.invite.welcome", name=clinician.name)
    desk.reply("clinician.help")
