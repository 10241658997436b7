"""Who looked at a case: the audit lines of every view of it, for `/views LABEL` and
`guidebot audit views LABEL`.

A view is /case or *Vis sak* in Telegram, or the dashboard's case page (`case_viewed`), and
the alert of a chat with no code (`alert_viewed`); a refused try (`case_access_refused`) is
listed too, marked as refused. The person's own /mydata is not a view.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from bot.storage.models import AuditEntry, Clinician

VIEW_ACTIONS = ("case_viewed", "alert_viewed", "case_access_refused")
CLINICIAN = "clinician:"


def case_views(session: Session, label: str) -> list[dict[str, Any]]:
    """Every view of the case with this label (any letter case), oldest first."""
    query = (
        select(AuditEntry)
        .where(func.upper(AuditEntry.subject) == label.strip().upper(), col(AuditEntry.action).in_(VIEW_ACTIONS))
        .order_by(col(AuditEntry.id))
    )
    names: dict[int, str] = {}
    views: list[dict[str, Any]] = []
    for entry in session.exec(query):
        who = _clinician_id(entry.actor)
        if who is not None and who not in names:
            clinician = session.get(Clinician, who)
            names[who] = clinician.name if clinician is not None else ""
        views.append(
            {
                "at": entry.at.isoformat(),
                "when": entry.at,
                "label": entry.subject,
                "actor": entry.actor,
                "clinician_id": who,
                "name": names.get(who, "") if who is not None else "",
                "where": str(entry.detail.get("channel") or "telegram"),
                "refused": entry.action == "case_access_refused",
            }
        )
    return views


def as_json(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if not isinstance(v, datetime)}


def _clinician_id(actor: str) -> int | None:
    rest = actor.removeprefix(CLINICIAN)
    return int(rest) if actor.startswith(CLINICIAN) and rest.isdigit() else None
