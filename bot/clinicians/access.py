"""Who may see which case: need-to-know, the same rule in Telegram and on the dashboard.

- An admin sees every case.
- A clinician sees the cases they own (the course's `clinician_id`: the clinician who made
  the code with /newcode, `guidebot codes new --owner`, or a later /assign).
- A case with no owner (a code made by the command line without --owner) is the team's:
  every active clinician sees it until someone is assigned.
- A clinician covering for an away colleague (/away UNTIL NAME) also sees the colleague's
  cases until the cover ends: `covering` is `Desk.covering()` (bot/engine/cover.py).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session, col, func, select

from bot.storage.models import Clinician, Course


def may_view_case(clinician: Clinician, course: Course, covering: Collection[int] = ()) -> bool:
    """Whether the clinician may open the case; `covering` holds the ids of the colleagues they cover for now."""
    if not clinician.active or course.id is None:
        return False
    if clinician.is_admin or course.clinician_id is None or course.clinician_id == clinician.id:
        return True
    return course.clinician_id in covering


def may_assign(clinician: Clinician, course: Course, covering: Collection[int] = ()) -> bool:
    """An admin may move any case; a clinician may hand on their own (or an unowned one, or one they cover)."""
    return may_view_case(clinician, course, covering)


def clinicians_named(session: Session, name: str) -> list[Clinician]:
    """The active clinicians registered (by /invite) under this name, in any letter case."""
    wanted = " ".join(name.split()).casefold()
    query = select(Clinician).where(col(Clinician.active), func.lower(Clinician.name) == wanted)
    found = list(session.exec(query.order_by(col(Clinician.id))).all())
    # func.lower does not fold every letter (æ, ø, å on SQLite); check in Python as well.
    if not found:
        everyone = session.exec(select(Clinician).where(col(Clinician.active)).order_by(col(Clinician.id))).all()
        found = [c for c in everyone if " ".join(c.name.split()).casefold() == wanted]
    return found
