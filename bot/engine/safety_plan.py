"""The person's safety plan: Stanley and Brown's six steps, with reasons for living as the seventh.

Each step is one free-text answer (dialogs/flows/safetyplan.yaml asks them; the
closing conversation asks the core steps still empty). Step 2 keeps the key the
closing has always used for "what helps when it gets worse".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FLOW = "safetyplan"

# The answer key of each step, in order (step 1 first).
STEP_KEYS = (
    "warning_signs",  # 1 warning signs
    "worse_plan",  # 2 own coping strategies
    "safety_distraction",  # 3 people and places that give a break
    "safety_people",  # 4 people to ask for help
    "safety_professionals",  # 5 who the person adds to their clinician and the 24/7 lines
    "safety_surroundings",  # 6 making the surroundings safer
    "safety_reasons",  # 7 reasons for living
)


def filled(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def has_plan(answers: Mapping[str, Any]) -> bool:
    """Whether any step has an answer."""
    return any(filled(answers.get(key)) for key in STEP_KEYS)


def plan_of(answers: Mapping[str, Any]) -> dict[str, str | None]:
    """Each step's answer key with its text, or None where the step is empty."""
    return {key: str(answers[key]) if filled(answers.get(key)) else None for key in STEP_KEYS}
