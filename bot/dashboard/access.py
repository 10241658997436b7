"""Who may see which case on the dashboard: the same rule as the clinician commands in Telegram
(`bot.clinicians.access`): a clinician's own cases and the team's unowned ones; admins see all."""

from __future__ import annotations

from bot.clinicians.access import may_view_case

__all__ = ["may_view_case"]
