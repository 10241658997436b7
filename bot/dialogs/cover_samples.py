"""The texts of /away, /back and /views (`dialogs/locales/<code>/cover.yaml`), with sample
values for `guidebot dialogs check`. Plain data with no imports from the engine."""

from __future__ import annotations

from typing import Any

_VIEWS = [
    {"time": "2026-01-14 09:05", "name": "Kari", "where": "telegram", "refused": False},
    {"time": "2026-01-15 10:30", "name": "Ola", "where": "dashboard", "refused": False},
    {"time": "2026-01-15 11:00", "name": "Per", "where": "telegram", "refused": True},
]

COVER_TEXTS: dict[str, dict[str, Any]] = {
    "cover.usage": {},
    "cover.bad_date": {"text": "julaften"},
    "cover.date_past": {"date": "01.01.2026"},
    "cover.not_yourself": {},
    "cover.covers_you": {"name": "Ola"},
    "cover.away_done": {"name": "Ola", "date": "24.12.2026"},
    "cover.you_cover": {"name": "Kari", "date": "24.12.2026"},
    "cover.not_away": {},
    "cover.back_done": {"name": "Ola"},
    "cover.cover_over": {"name": "Kari"},
    "views.admins_only": {},
    "views.usage": {},
    "views.none": {"label": "K-1234"},
    "views.list": {"label": "K-1234", "views": _VIEWS, "count": 3},
}
