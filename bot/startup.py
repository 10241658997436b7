"""Starting a command: the settings and the app, or one line that says what to fix.

`guidebot` (bot/cli.py), its clinician commands (bot/clinicians/cli.py) and the
Telegram runner all start this way.
"""

from __future__ import annotations

import typer
from pydantic import ValidationError

from bot.app import App, build_app
from bot.clock import Clock
from bot.config import Settings
from bot.dialogs.load import DialogsInvalid


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def settings_or_exit() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"GUIDEBOT_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors())
        raise fail(f"guidebot: bad setting: {problems}") from None


def load_app(settings: Settings, clock: Clock | None = None) -> App:
    try:
        return build_app(settings, clock)
    except DialogsInvalid as exc:
        raise fail(f"guidebot: the dialog files have problems, so nothing was started:\n{exc}") from None
