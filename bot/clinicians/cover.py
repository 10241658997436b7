"""/away UNTIL NAME and /back: a colleague covers while a clinician is away.

While the cover holds, the clinician's alerts, feedback queue (the digest) and
participants' replies go to the colleague (bot/engine/cover.py), who may open the
clinician's cases (bot/clinicians/access.py). It ends at midnight after UNTIL (service
time zone) or at /back. Both are audited, and both clinicians are told, through the outbox.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from bot.clinicians.access import clinicians_named
from bot.clinicians.desk import Desk
from bot.engine.cover import current_cover, stand_in
from bot.storage.models import Clinician, Cover

_DAY_MONTH = re.compile(r"^(\d{1,2})\.(\d{1,2})\.?(?:(\d{4}))?$")


def parse_until(text: str, today: date) -> date | None:
    """2026-12-24, 24.12.2026 or 24.12 (the next 24 December from today); None if it is no date."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    found = _DAY_MONTH.match(text)
    if found is None:
        return None
    day, month, year = int(found.group(1)), int(found.group(2)), found.group(3)
    try:
        if year is not None:
            return date(int(year), month, day)
        this_year = date(today.year, month, day)
        return this_year if this_year >= today else date(today.year + 1, month, day)
    except ValueError:
        return None


def shown_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def away_command(desk: Desk, args: str) -> None:
    words = args.split(maxsplit=1)
    if len(words) < 2:
        desk.reply("cover.usage")
        return
    tz = desk.turn.config.tz
    today = desk.now.astimezone(tz).date()
    until = parse_until(words[0], today)
    if until is None:
        desk.reply("cover.bad_date", text=words[0])
        return
    if until < today:
        desk.reply("cover.date_past", date=shown_date(until))
        return
    name = words[1].strip()
    found = clinicians_named(desk.session, name)
    if not found:
        desk.reply("owners.assign_unknown", name=name)
        return
    if len(found) > 1:
        desk.reply("owners.assign_ambiguous", name=name)
        return
    colleague = found[0]
    if colleague.id == desk.clinician.id:
        desk.reply("cover.not_yourself")
        return
    if stand_in(desk.session, colleague, desk.now).id == desk.clinician.id:
        desk.reply("cover.covers_you", name=colleague.name)  # they are away, and you cover for them
        return
    assert desk.clinician.id is not None and colleague.id is not None
    _end_covers(desk)
    ends = datetime.combine(until + timedelta(days=1), time(0), tz)
    desk.session.add(Cover(clinician_id=desk.clinician.id, colleague_id=colleague.id, created_at=desk.now, until=ends))
    desk.audit("cover_started", None, clinician=desk.clinician.id, colleague=colleague.id, until=until.isoformat())
    shown = shown_date(until)
    desk.reply("cover.away_done", name=colleague.name, date=shown)
    desk.send(desk.text("cover.you_cover", name=desk.clinician.name, date=shown), chat_id=colleague.telegram_id)


def back_command(desk: Desk, _args: str) -> None:
    assert desk.clinician.id is not None
    cover = current_cover(desk.session, desk.clinician.id, desk.now)
    if cover is None:
        desk.reply("cover.not_away")
        return
    colleague = desk.session.get(Clinician, cover.colleague_id)
    _end_covers(desk)
    desk.audit("cover_ended", None, clinician=desk.clinician.id, colleague=cover.colleague_id, early=True)
    desk.reply("cover.back_done", name=colleague.name if colleague is not None else "")
    if colleague is not None and colleague.active:
        desk.send(desk.text("cover.cover_over", name=desk.clinician.name), chat_id=colleague.telegram_id)


def _end_covers(desk: Desk) -> None:
    """End every cover of the clinician that still holds (a new /away replaces the old one)."""
    assert desk.clinician.id is not None
    while (cover := current_cover(desk.session, desk.clinician.id, desk.now)) is not None:
        cover.ended_at = desk.now
        desk.session.add(cover)
        desk.session.flush()
