"""When the next weekly check-in falls, in the user's own time zone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.dialogs.render import Renderer


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
