"""The texts of messages between clinician and participant and of the daily digest
(`dialogs/locales/<code>/messages.yaml`), with sample values for `guidebot dialogs check`.

Plain data with no imports from the engine, like the other sample files.
"""

from __future__ import annotations

from typing import Any

_CASE = {"label": "K-1234"}
_THREAD = [
    {"from_participant": False, "at": "14.01.2026 09.05", "text": "Takk for svarene dine denne uka!"},
    {"from_participant": True, "at": "14.01.2026 18.30", "text": "Takk, det hjalp å skrive det ned."},
]
_DIGEST_ALERT = {"id": 7, "label": "K-1234", "signal_name": "Risikosvar", "level_name": "haster"}

MESSAGES_TEXTS: dict[str, dict[str, Any]] = {
    "messages.from_clinician": {"text": "Takk for svarene dine denne uka!"},
    "messages.reply_button": {},
    "messages.reply_prompt": {},
    "messages.reply_cancel": {},
    "messages.reply_cancelled": {},
    "messages.reply_sent": {},
    "messages.expect_feedback": {"expect": True},
    "messages.msg_usage": {},
    "messages.cannot_send": _CASE,
    "messages.sent": {**_CASE, "unreachable": True},
    "messages.seen_done": _CASE,
    "messages.seen_nothing_due": _CASE,
    "messages.seen_button": _CASE,
    "messages.reply_to_clinician": {**_CASE, "text": "Takk, det hjalp å skrive det ned."},
    "messages.case_thread": {"case": _CASE, "messages": _THREAD},
    "messages.digest": {
        "feedback_due": [{"label": "K-1234", "week": 2}],
        "alerts": [_DIGEST_ALERT],
        "missed": [
            {"label": "K-2345", "missed_weeks": 1, "state": "active"},
            {"label": "K-3456", "missed_weeks": 2, "state": "dropped_out"},
        ],
    },
    "messages.dashboard_none": {},
    "messages.dashboard_from_participant": {},
    "messages.dashboard_from_clinician": {},
    "messages.dashboard_write": {},
    "messages.dashboard_send": {},
    "messages.dashboard_sent": {},
    "messages.dashboard_empty": {},
    "messages.dashboard_cannot": {},
}
