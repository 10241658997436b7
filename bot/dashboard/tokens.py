"""Login links and signed-in sessions for the dashboard, kept in the database only as hashes.

A link is asked for with /dashboard in Telegram: it works once, for ten minutes.
Opening it starts a session, which ends after 30 idle minutes, 8 hours at most, or
at logout. The form token against cross-site requests is derived from the session's
own token, so it needs no column and dies with the session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, or_, select

from bot.config import Settings
from bot.storage.models import Clinician, DashboardLink, DashboardSession

LINK_VALID = timedelta(minutes=10)
IDLE = timedelta(minutes=30)
LONGEST = timedelta(hours=8)
TOKEN_BYTES = 32  # 256 bits, 43 characters in a URL
MAX_TOKEN_CHARS = 64
HANDLE_BYTES = 9


def pepper(settings: Settings) -> bytes:
    """The service's secret key (GUIDEBOT_SECRET_KEY), when it has one; a leaked table then gives
    nothing to test tokens against."""
    return settings.secret_key.encode()


def hash_token(token: str, key: bytes) -> str:
    """SHA-256 of the token, as an HMAC with the service's secret key when one is set."""
    if key:
        return hmac.new(key, f"dashboard-v1:{token}".encode(), hashlib.sha256).hexdigest()
    return hashlib.sha256(f"guidebot-dashboard-v1:{token}".encode()).hexdigest()


URL_SAFE = frozenset(string.ascii_letters + string.digits + "-_")


def well_formed(token: str) -> bool:
    """Only what `secrets.token_urlsafe` makes is looked up at all."""
    return 0 < len(token) <= MAX_TOKEN_CHARS and set(token) <= URL_SAFE


def csrf_token(session_token: str) -> str:
    """The form token of a session: anyone who can read it already holds the session."""
    return hmac.new(session_token.encode(), b"guidebot-dashboard-csrf", hashlib.sha256).hexdigest()


def csrf_ok(session_token: str, given: str) -> bool:
    return bool(session_token) and hmac.compare_digest(csrf_token(session_token), given)


# -- links ---------------------------------------------------------------------


def new_link(session: Session, clinician: Clinician, now: datetime, key: bytes) -> tuple[str, DashboardLink]:
    """A fresh one-time link token (returned once, never stored) and its row. Old rows are cleared."""
    assert clinician.id is not None
    _prune(session, now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = DashboardLink(
        token_hash=hash_token(token, key), clinician_id=clinician.id, created_at=now, expires_at=now + LINK_VALID
    )
    session.add(link)
    session.flush()
    return token, link


def usable_link(session: Session, token: str, now: datetime, key: bytes) -> DashboardLink | None:
    """The unused, unexpired link of an active clinician with this token, locked; None otherwise."""
    if not well_formed(token):
        return None
    query = select(DashboardLink).where(DashboardLink.token_hash == hash_token(token, key)).with_for_update()
    link = session.exec(query).first()
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    clinician = session.get(Clinician, link.clinician_id)
    return link if clinician is not None and clinician.active else None


def _prune(session: Session, now: datetime) -> None:
    """Links and sessions that can no longer be used are of no further use to anyone."""
    session.exec(delete(DashboardLink).where(col(DashboardLink.expires_at) < now - LINK_VALID))
    session.exec(
        delete(DashboardSession).where(
            or_(col(DashboardSession.expires_at) < now, col(DashboardSession.last_seen_at) < now - IDLE)
        )
    )


# -- sessions ------------------------------------------------------------------


def start_session(session: Session, link: DashboardLink, now: datetime, key: bytes) -> str:
    """Use the link up and open a session for its clinician; returns the cookie's token."""
    link.used_at = now
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        DashboardSession(
            token_hash=hash_token(token, key),
            clinician_id=link.clinician_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + LONGEST,
        )
    )
    session.add(link)
    return token


@dataclass
class SignedIn:
    login: DashboardSession
    clinician: Clinician


def signed_in(session: Session, token: str, now: datetime, key: bytes) -> SignedIn | None:
    """The live session with this cookie token, marked as seen now; None when it has ended or idled out."""
    if not well_formed(token):
        return None
    query = select(DashboardSession).where(DashboardSession.token_hash == hash_token(token, key)).with_for_update()
    login = session.exec(query).first()
    if login is None or login.ended_at is not None or login.expires_at <= now or login.last_seen_at + IDLE <= now:
        return None
    clinician = session.get(Clinician, login.clinician_id)
    if clinician is None or not clinician.active:
        return None
    login.last_seen_at = now
    session.add(login)
    return SignedIn(login, clinician)


def end_session(session: Session, login: DashboardSession, now: datetime) -> None:
    login.ended_at = now
    session.add(login)


def handle_for(login: DashboardSession, course_id: int) -> str:
    """The session's opaque name for a course, made on first use."""
    for handle, known in login.handles.items():
        if known == course_id:
            return handle
    handle = secrets.token_urlsafe(HANDLE_BYTES)
    login.handles = {**login.handles, handle: course_id}
    return handle


def course_of_handle(login: DashboardSession, handle: str) -> int | None:
    return login.handles.get(handle) if well_formed(handle) else None
