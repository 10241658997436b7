"""When the next weekly check-in falls, in the user's own time zone, and what is due for a course next."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.dialogs.render import Renderer
from bot.storage.models import Course


def time_words(renderer: Renderer, locale: str) -> tuple[str, ...]:
    """The words that may stand before a time of day in `locale` ("kl."), from the text `format.time_words`."""
    return tuple(renderer.render(locale, "format.time_words", {}).casefold().split())


def parse_time(text: str, words: Iterable[str] = ()) -> str | None:
    """'18', '18.30', '18:30', '1830', 'kl. 18.30' (with "kl." in `words`) -> '18:30';
    None if it is not a time of day."""
    cleaned = text.strip().casefold()
    for word in sorted(words, key=len, reverse=True):
        if cleaned.startswith(word):
            cleaned = cleaned[len(word) :]
            break
    cleaned = cleaned.strip().replace(".", ":").replace(" ", "")
    if cleaned.isdigit() and len(cleaned) in (3, 4):
        cleaned = f"{cleaned[:-2]}:{cleaned[-2:]}"
    hour_text, _, minute_text = cleaned.partition(":")
    if not hour_text.isdigit() or (minute_text and not minute_text.isdigit()):
        return None
    hour, minute = int(hour_text), int(minute_text or 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return f"{hour:02d}:{minute:02d}"


def next_slot(after: datetime, weekday: int, at: str, tz: ZoneInfo) -> datetime:
    """The first weekly slot (weekday 0 = Monday, local time `at`) at or after `after`."""
    hour, minute = (int(x) for x in at.split(":"))
    local = after.astimezone(tz)
    day = local.date() + timedelta(days=(weekday - local.weekday()) % 7)
    for _ in range(3):
        candidate = datetime.combine(day, time(hour, minute), tz)
        if candidate >= local:
            return candidate.astimezone(UTC)
        day += timedelta(days=7)
    raise AssertionError("unreachable")


def in_waking_hours(when: datetime, tz: ZoneInfo, hours: tuple[str, str]) -> datetime:
    """`when`, or the start of the next waking hours (`hours` = local "from", "to") if it falls outside them.

    "from" after "to" (say 22:00 to 14:00) is a waking time that spans midnight.
    """
    start, end = (time(int(t[:2]), int(t[3:5])) for t in hours)
    local = when.astimezone(tz)
    now = local.time()
    awake = start <= now < end if start < end else (now >= start or now < end)
    if awake:
        return when
    day = local.date() if now < start else local.date() + timedelta(days=1)
    return datetime.combine(day, start, tz).astimezone(UTC)


# -- what is due next for a course ---------------------------------------------------

WEEK = timedelta(days=7)
BOOSTER = "booster"  # due_kind of a booster check-in after the closing
BOOSTERS_DONE = "boosters_done"  # Course.scratch: how many boosters have opened
ANCHOR = "due_anchor"  # Course.scratch: when this week's conversation opened, for its reminders


def set_due(course: Course, when: datetime | None, kind: str | None) -> None:
    """The one thing due next for the course (`checkin`, `reminder` or `missed`), or nothing."""
    course.due_at = when
    course.due_kind = kind if when is not None else None


def schedule_checkin(course: Course, now: datetime, min_days: int) -> None:
    """The next check-in: the chosen weekday and time, at least `min_days` from now."""
    earliest = now + timedelta(days=min_days)
    if course.checkin_weekday is None or course.checkin_time is None:
        when = earliest
    else:
        when = next_slot(earliest, course.checkin_weekday, course.checkin_time, ZoneInfo(course.timezone))
    set_due(course, when, "checkin")


def schedule_booster(course: Course, boosters_days: Sequence[int]) -> None:
    """The next booster check-in, `booster_days` after the closing; nothing when all have come."""
    done = int(course.scratch.get(BOOSTERS_DONE, 0))
    if course.finished_at is None or done >= len(boosters_days):
        set_due(course, None, None)
        return
    set_due(course, course.finished_at + timedelta(days=boosters_days[done]), BOOSTER)


def start_reminders(course: Course, anchor: datetime, reminder_hours: Sequence[int]) -> None:
    """A conversation opened at `anchor`: the first reminder is due, or the missed week when there are none."""
    course.reminders_sent = 0
    course.scratch = {**course.scratch, ANCHOR: anchor.isoformat()}
    if reminder_hours:
        set_due(course, anchor + timedelta(hours=reminder_hours[0]), "reminder")
    else:
        set_due(course, anchor + WEEK, "missed")


def due_anchor(course: Course, now: datetime) -> datetime:
    raw = course.scratch.get(ANCHOR)
    return datetime.fromisoformat(raw) if isinstance(raw, str) else now
