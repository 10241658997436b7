"""Cover: while a clinician is away (/away UNTIL NAME), a colleague takes their alerts,
feedback queue and participants' replies, and may open their cases (bot/clinicians/access.py).

A cover holds from /away until `Cover.until` (midnight after the UNTIL day, service time
zone) or until /back. A colleague who is away themselves passes it on to their own cover;
a ring of covers ends where it started, with the clinician themselves.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot.storage.models import Clinician, Cover

# How far a chain of covers is followed (Kari covers for Ola, who covers for Liv, ...).
MAX_CHAIN = 5


def current_cover(session: Session, clinician_id: int, now: datetime) -> Cover | None:
    """The clinician's cover in force now, the newest if there were several."""
    query = (
        select(Cover)
        .where(Cover.clinician_id == clinician_id, col(Cover.ended_at).is_(None), col(Cover.until) > now)
        .order_by(col(Cover.id).desc())
    )
    return session.exec(query).first()


def stand_in(session: Session, clinician: Clinician, now: datetime) -> Clinician:
    """Who takes the clinician's alerts, queue and replies now: the clinician, or who covers for them."""
    seen = {clinician.id}
    current = clinician
    for _ in range(MAX_CHAIN):
        if current.id is None:
            break
        cover = current_cover(session, current.id, now)
        if cover is None or cover.colleague_id in seen:
            break
        colleague = session.get(Clinician, cover.colleague_id)
        if colleague is None or not colleague.active:
            break
        seen.add(colleague.id)
        current = colleague
    return current


def is_away(session: Session, clinician: Clinician, now: datetime) -> bool:
    """Whether someone else takes the clinician's things now."""
    return stand_in(session, clinician, now).id != clinician.id


def covered_by(session: Session, clinician: Clinician, now: datetime) -> frozenset[int]:
    """The ids of the clinicians whose things go to `clinician` now (directly or along a chain)."""
    if clinician.id is None:
        return frozenset()
    query = select(Cover.clinician_id).where(col(Cover.ended_at).is_(None), col(Cover.until) > now)
    found: set[int] = set()
    for clinician_id in set(session.exec(query).all()):
        if clinician_id == clinician.id:
            continue
        away = session.get(Clinician, clinician_id)
        if away is not None and stand_in(session, away, now).id == clinician.id:
            found.add(clinician_id)
    return frozenset(found)
