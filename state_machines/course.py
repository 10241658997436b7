"""The course life cycle: one machine definition for every user.

The state is a database column (`Course.state`). A trigger runs the shared
machine against the row itself; no machine is ever built per user or update.
"""

from __future__ import annotations

from typing import Any, Protocol

from transitions import EventData, Machine, MachineError
from transitions.extensions.diagrams import GraphMachine

STATES = [
    "intake",
    "active",
    "checkin",
    "closing",
    "completed",
    "paused",
    "dropped_out",
    "dropout_eval",
    "closed",
]

RUNNING = ("intake", "active", "checkin", "closing")
FINAL = ("completed", "closed")


def _paused_from(state: str) -> Any:
    def check(event: EventData) -> bool:
        return bool(getattr(event.model, "paused_from", None) == state)

    check.__name__ = f"paused_from_{state}"
    return check


TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "finish_intake", "source": "intake", "dest": "active"},
    {"trigger": "start_checkin", "source": "active", "dest": "checkin"},
    {"trigger": "finish_checkin", "source": "checkin", "dest": "active"},
    {"trigger": "start_closing", "source": "active", "dest": "closing"},
    {"trigger": "finish_closing", "source": "closing", "dest": "completed"},
    {"trigger": "drop_out", "source": ["active", "checkin", "closing"], "dest": "dropped_out"},
    {"trigger": "start_dropout_eval", "source": "dropped_out", "dest": "dropout_eval"},
    {"trigger": "finish_dropout_eval", "source": "dropout_eval", "dest": "dropped_out"},
    {"trigger": "pause", "source": list(RUNNING), "dest": "paused"},
    *[
        {"trigger": "resume", "source": "paused", "dest": state, "conditions": [_paused_from(state)]}
        for state in RUNNING
    ],
    {"trigger": "reengage", "source": ["dropped_out", "dropout_eval"], "dest": "active"},
    {
        "trigger": "close",
        "source": [s for s in STATES if s != "closed"],
        "dest": "closed",
    },
]


class HasState(Protocol):
    state: str


MACHINE = Machine(
    model=None,
    states=STATES,
    transitions=TRANSITIONS,
    initial="intake",
    auto_transitions=False,
    send_event=True,
)


def can(model: HasState, trigger: str) -> bool:
    """Whether `trigger` is allowed from the model's current state."""
    return trigger in MACHINE.get_triggers(model.state)


def fire(model: HasState, trigger: str) -> bool:
    """Run `trigger` on the model; False if the state does not allow it."""
    if not can(model, trigger):
        return False
    try:
        return bool(MACHINE.events[trigger].trigger(model))
    except MachineError:
        return False


def mermaid() -> str:
    """The life cycle as a Mermaid state diagram, drawn by transitions."""

    class _Diagram:
        state = "intake"

    diagram = _Diagram()
    GraphMachine(
        model=diagram,
        states=STATES,
        transitions=[{k: v for k, v in t.items() if k != "conditions"} for t in TRANSITIONS],
        initial="intake",
        auto_transitions=False,
        graph_engine="mermaid",
        title="Course life cycle",
    )
    return str(diagram.get_graph().draw(None))  # type: ignore[attr-defined]
