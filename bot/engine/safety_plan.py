"""The person's safety plan: Stanley and Brown's six steps, with reasons for living as the seventh.

Each step is one free-text answer (dialogs/flows/safetyplan.yaml asks them; the
closing conversation asks the core steps still empty). Step 2 keeps the key the
closing has always used for "what helps when it gets worse".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.dialogs.contract import SAFETY_PLAN_KEYS, SAFETYPLAN_FLOW

FLOW = SAFETYPLAN_FLOW

# The answer key of each step, in order (step 1 first; step 2 keeps the closing's "worse_plan").
STEP_KEYS = SAFETY_PLAN_KEYS


def filled(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def has_plan(answers: Mapping[str, Any]) -> bool:
    """Whether any step has an answer."""
    return any(filled(answers.get(key)) for key in STEP_KEYS)


def plan_of(answers: Mapping[str, Any]) -> dict[str, str | None]:
    """Each step's answer key with its text, or None where the step is empty."""
    return {key: str(answers[key]) if filled(answers.get(key)) else None for key in STEP_KEYS}
