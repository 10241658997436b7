"""The garbage collector, paused while a command starts (bot/entry.py) and resumed once it is under way.

Starting builds a couple of hundred thousand objects that live as long as the process
(modules, classes, the database tables, the dialogs and their escalation rules) and almost no
garbage. Python's cyclic collector would still walk all of them again and again while they
are being made: about a fifth of `guidebot run`'s start-up (docs/performance.md, "Start-up").
So `pause()` stops it before anything else is imported, and `started()` resumes it once the
command is under way (for `guidebot run`: once /readyz says ready, or after at most 5 s of a
start that waits, for Telegram or for the learned net to train). `gc.freeze()` then moves
what start-up made out of the collector's sight for good, so that later collections do not
walk it either, and collection goes on as usual for everything made after it. The few
thousand start-up objects that were already garbage by then stay: a few hundred kilobytes.

A process that did not start through `bot.entry.main` (the tests import the commands
directly) is left alone: `started()` only ends a pause that `pause()` made.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    global _paused  # noqa: PLW0603 (one pause per process, made here and ended by started())
    if gc.isenabled():
        gc.disable()
        _paused = True


def started() -> None:
    """The command is under way: keep what start-up made out of the collector's sight, and collect
    as usual from here on. Does nothing without a pause, or after the first call."""
    global _paused  # noqa: PLW0603 (as above)
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def paused() -> bool:
    return _paused
