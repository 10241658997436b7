"""Dates as people read them: in the person's own words and time zone ("torsdag 12. mars kl. 18.30"),
and for clinicians in the service's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.dialogs.render import Renderer
from bot.storage.models import Course


def format_when(renderer: Renderer, locale: str, tz: ZoneInfo, when: datetime) -> str:
    local = when.astimezone(tz)
    return renderer.render(
        locale,
        "format.when",
        {
            "weekday": renderer.render(locale, f"weekday.{local.weekday()}", {}),
            "day": local.day,
            "month": renderer.render(locale, f"month.{local.month}", {}),
            "time": renderer.clock(locale, local.strftime("%H:%M")),
        },
    )


def next_checkin_text(renderer: Renderer, locale: str, course: Course) -> str | None:
    """When the next check-in opens, in words; None when no check-in is due."""
    if course.due_at is None or course.due_kind != "checkin":
        return None
    return format_when(renderer, locale, ZoneInfo(course.timezone), course.due_at)


def service_time(tz: ZoneInfo, when: datetime | None) -> str | None:
    """A time as clinicians read it, in the service's time zone: 2026-01-14 18:05."""
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M") if when is not None else None
