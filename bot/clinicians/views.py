"""/views LABEL, for admins: who looked at a case, when and where (Telegram or the dashboard)."""

from __future__ import annotations

from bot.clinicians.desk import Desk
from bot.ops.audit_views import case_views

# /views shows at most the newest this many; `guidebot audit views` shows them all.
MAX_SHOWN = 30


def views_command(desk: Desk, args: str) -> None:
    if not desk.clinician.is_admin:
        desk.audit("views_refused", None)
        desk.reply("views.admins_only")
        return
    label = args.split(maxsplit=1)[0] if args.strip() else ""
    if not label:
        desk.reply("views.usage")
        return
    course = desk.course(label)
    label = course.label if course is not None else label
    found = case_views(desk.session, label)
    desk.audit("views_listed", label, count=len(found))
    if not found:
        desk.reply("views.none", label=label)
        return
    shown = [
        {"time": desk.format_time(v["when"]), "name": _who(v), "where": v["where"], "refused": v["refused"]}
        for v in found[-MAX_SHOWN:]
    ]
    desk.reply("views.list", label=label, views=shown, count=len(found))


def _who(view: dict[str, object]) -> str:
    return str(view["name"] or view["actor"])
