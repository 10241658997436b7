"""The `guidebot` command's entry point: the garbage collector waits while a command starts
(bot/collector.py), so it is paused before the commands and their libraries are imported."""

from __future__ import annotations

from bot import collector


def main() -> None:
    collector.pause()
    from bot.cli import main as command  # noqa: PLC0415 (imported with the collector paused: the point of this module)

    command()
