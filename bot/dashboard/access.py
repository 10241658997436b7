"""Who may see which case on the dashboard: the same rule as the clinician commands in Telegram.

Today every active clinician may open every case (`/case LABEL` finds any label, and
`/cases all` lists the whole team), so this is where a narrower rule, such as a
clinician's own cases and those they cover, is to be put for the web pages too.
"""

from __future__ import annotations

from bot.storage.models import Clinician, Course


def may_view_case(clinician: Clinician, course: Course) -> bool:
    return clinician.active and course.id is not None
