"""An alert's evidence as a reader sees it: rendered through the dialog texts (`evidence.<kind>`)."""

from __future__ import annotations

from bot.app import App
from bot.dialogs.evidence import render_all
from bot.storage.models import Alert


def shown_evidence(app: App, alert: Alert, locale: str = "en") -> list[str]:
    return render_all(app.dialogs.current.renderer, locale, alert.evidence)
