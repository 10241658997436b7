"""When the service is staffed, so the person is told honestly when a clinician will see an alert.

`GUIDEBOT_SERVICE_HOURS` reads like "Mon-Fri 08:00-15:30" or
"Mon-Thu 08:00-15:30, Fri 08:00-14:00": comma-separated entries, each a day or a
day range (Mon..Sun, a range may wrap, as in Sat-Mon) and one or more time ranges.
The hours are in the course's time zone (the service's, for a chat with no course).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the settings import this module; jinja is not needed to read them
    from bot.dialogs.render import Renderer

FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EXAMPLE = "e.g. 'Mon-Fri 08:00-15:30' or 'Mon-Thu 08:00-15:30, Fri 08:00-14:00'"

Window = tuple[int, int]  # minutes after midnight: [start, end)


@dataclass(frozen=True)
class ServiceHours:
    windows: tuple[tuple[Window, ...], ...]  # one tuple per weekday, Monday first

    def is_open(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.windows[local.weekday()])

    def next_open(self, local: datetime) -> datetime:
        """The next time the service opens after `local` (aware, in local's zone)."""
        minute = local.hour * 60 + local.minute
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            for start, _end in self.windows[day.weekday()]:
                if offset > 0 or start > minute:
                    return datetime.combine(day, time(start // 60, start % 60), tzinfo=local.tzinfo)
        raise ValueError("service hours with no opening")  # parse() forbids it


def _day(name: str) -> int:
    word = name.strip().lower()
    for index, full in enumerate(FULL_DAYS):
        if word in (full[:3], full):
            return index
    raise ValueError(f"unknown day '{name.strip()}' (use Mon, Tue, Wed, Thu, Fri, Sat, Sun)")


def _days(spec: str) -> list[int]:
    first, dash, last = spec.partition("-")
    start = _day(first)
    if not dash:
        return [start]
    end = _day(last)
    return [(start + n) % 7 for n in range((end - start) % 7 + 1)]


def _minute(text: str) -> int:
    hours, colon, minutes = text.strip().partition(":")
    if not colon or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"'{text.strip()}' is not a time like 08:00")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > 24 * 60:
        raise ValueError(f"'{text.strip()}' is not a time of day")
    return value


def _window(text: str) -> Window:
    first, dash, last = text.partition("-")
    if not dash:
        raise ValueError(f"'{text}' is not a time range like 08:00-15:30")
    start, end = _minute(first), _minute(last)
    if end <= start:
        raise ValueError(f"'{text}' ends before it starts")
    return start, end


@lru_cache(maxsize=8)
def parse(spec: str) -> ServiceHours:
    """The hours in `spec`; ValueError says what is wrong in one line."""
    days: list[list[Window]] = [[] for _ in FULL_DAYS]
    for entry in spec.split(","):
        words = entry.split()
        if len(words) < 2:
            raise ValueError(f"'{entry.strip()}' needs days and hours, {EXAMPLE}")
        for day in _days(words[0]):
            days[day].extend(_window(word) for word in words[1:])
    for windows in days:
        windows.sort()
        for (_s1, end), (start, _e2) in itertools.pairwise(windows):
            if start < end:
                raise ValueError("two time ranges overlap on the same day")
    return ServiceHours(tuple(tuple(w) for w in days))


# -- for the texts -----------------------------------------------------------------


def service_view(renderer: Renderer, locale: str, spec: str, local_now: datetime) -> dict[str, Any]:
    """`service.open_now` and `service.next_open` ("mandag kl. 08.00") for the person's texts;
    `local_now` is in the course's time zone (the service's for a chat with no course)."""
    hours = parse(spec)
    opens = hours.next_open(local_now)
    days_ahead = (opens.date() - local_now.date()).days
    if days_ahead == 0:
        day = renderer.render(locale, "chain.service_today", {})
    elif days_ahead == 1:
        day = renderer.render(locale, "chain.service_tomorrow", {})
    else:
        day = renderer.render(locale, f"weekday.{opens.weekday()}", {})
    when = renderer.render(
        locale, "chain.service_when", {"day": day, "hh": f"{opens.hour:02d}", "mm": f"{opens.minute:02d}"}
    )
    return {"open_now": hours.is_open(local_now), "next_open": when}
