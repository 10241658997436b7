"""Clinician commands in Telegram. Anyone else gets 'not available'."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.engine.turn import Turn

if TYPE_CHECKING:
    from bot.engine.core import Engine


class ClinicianCommands:
    """Handles a turn if it is a clinician's; returns False to let the engine go on."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, turn: Turn) -> bool:
        return False
