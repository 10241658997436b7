"""The policy that drives a course: it feeds a turn's input to the flow stepper and carries out
what the stepper returns.

The stepper (`flows.py`) sends the questions and stores the answers; everything
else it yields as an outcome, and this module acts on each one as it comes: an
action from the flow's `do:` step (`actions.py`), a completed instrument checked
against the thresholds (`scores.py`), a signal raised as an alert (`alerts.py`),
or the pause after the crisis message (`crisis_pause.py`).
"""

from __future__ import annotations

from bot.engine import flows
from bot.engine.actions import ACTIONS
from bot.engine.alerts import raise_signal
from bot.engine.crisis_pause import offer_continue
from bot.engine.flows import Act, Flagged, Paused, Scored, Steps
from bot.engine.scores import check_scores
from bot.engine.turn import Turn


def start_flow(turn: Turn, flow_id: str, *, one_message: bool = False) -> None:
    """Begin a flow at its first step and run it up to its first question; with `one_message`,
    its opening texts and first question go out as one message."""
    carry_out(turn, flows.start(turn, flow_id, one_message=one_message))


def answer(turn: Turn, *, text: str | None = None, button: int | None = None) -> None:
    """The person's answer to the question the course waits for."""
    carry_out(turn, flows.answer(turn, text=text, button=button))


def reask(turn: Turn) -> None:
    """Repeat whatever the course is waiting for, with its buttons; nothing while the course is
    paused (/resume asks it again)."""
    if turn.course is not None and turn.course.state == "paused":
        return
    carry_out(turn, flows.reask(turn))


def carry_out(turn: Turn, steps: Steps) -> None:
    """Act on each outcome as the stepper yields it; the stepper goes on after each."""
    for outcome in steps:
        if isinstance(outcome, Act):
            ACTIONS[outcome.action](turn)
        elif isinstance(outcome, Scored):
            check_scores(turn, outcome.instrument, outcome.total)
        elif isinstance(outcome, Flagged):
            raise_signal(turn, outcome.signal, outcome.evidence)
        elif isinstance(outcome, Paused):
            offer_continue(turn)
