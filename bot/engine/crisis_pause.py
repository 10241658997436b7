"""The pause after the crisis message: the next question waits until the person chooses to go on.

The course remembers the pause in `Course.scratch` ("choice" while the two buttons
are shown, "later" after "later"); `asking.py` takes the buttons.
"""

from __future__ import annotations

from bot.engine.turn import Turn

PAUSE = "safety_pause"  # Course.scratch key
CONTINUE, LATER = "r:c", "r:l"  # the buttons' callback data


def offer_continue(turn: Turn) -> None:
    """After the crisis message: go on now, or later (only when the course is waiting on a step)."""
    if turn.course is None or turn.step() is None:
        return
    turn.set_scratch(PAUSE, "choice")
    buttons = [
        [
            {"text": turn.text("asking.continue_now"), "data": CONTINUE},
            {"text": turn.text("asking.later"), "data": LATER},
        ]
    ]
    turn.say("asking.continue_prompt", buttons=buttons)


def clear_pause(turn: Turn) -> None:
    if turn.course is not None and turn.course.scratch.get(PAUSE):
        turn.set_scratch(PAUSE, None)
