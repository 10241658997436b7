"""Every name the code expects to find in `dialogs/`, in one place.

The dialog files are the admins' to tune, but some of their names are read by the
code: the answers it acts on (a store key and the kind of value it holds), the
actions a `do:` step may name, the commands, the flows and signals it starts or
raises, the risk item, and the system texts (`bot/dialogs/system.py` gives each its
sample values). The code uses these constants instead of string literals, and
`guidebot dialogs check` (`bot/dialogs/contract_check.py`) holds the dialogs to
them, so a renamed key fails the check with its file and line instead of being
silently lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """The kind of value an answer holds, as the step that asks it must produce."""

    WEEKDAY = "weekday"  # a choice with the values "0" (Monday) to "6" (Sunday)
    TIME = "time"  # `input: time`: "HH:MM"
    TEXT = "text"  # free text (no choices)
    CHOICE = "choice"  # one of the step's choices; `values` are the ones the code reads


@dataclass(frozen=True)
class StoreKey:
    name: str
    kind: Kind
    flow: str  # the flow expected to ask it (where a missing key is reported)
    values: tuple[str, ...] = ()  # for a choice: values the code reads, which the choices must offer


# Flows the code starts by name.
INTAKE_FLOW = "intake"
CHECKIN_FLOW = "checkin"
CLOSING_FLOW = "closing"
DROPOUT_FLOW = "dropout"
SAFETYPLAN_FLOW = "safetyplan"
RESCHEDULE_FLOW = "reschedule"
BOOSTER_FLOW = "booster"
REQUIRED_FLOWS = (DROPOUT_FLOW, SAFETYPLAN_FLOW, RESCHEDULE_FLOW, BOOSTER_FLOW)

# The instrument item whose answer is a risk answer (schedule.yaml may name another).
RISK_ITEM = "phq9.self_harm"

# Answers the code reads.
CHECKIN_DAY = "checkin_day"
CHECKIN_TIME = "checkin_time"
GOALS = "goals"
WEEK_GOALS = "week_goals"
HOMEWORK_DONE = "homework_done"
HOMEWORK_WHAT = "homework_what"
HOMEWORK_TIMES = "homework_times"
HOMEWORK_RELEVANT = "homework_relevant"
HOMEWORK_USEFUL = "homework_useful"
HOMEWORK_HARD = "homework_hard"
HOMEWORK_OWN = "homework_own"
HOMEWORK_MANAGED = "homework_managed"
WANTS_CALL = "wants_call"
# The safety plan's steps (Stanley and Brown's six, reasons for living as the seventh), in order.
WARNING_SIGNS = "warning_signs"
WORSE_PLAN = "worse_plan"
SAFETY_DISTRACTION = "safety_distraction"
SAFETY_PEOPLE = "safety_people"
SAFETY_PROFESSIONALS = "safety_professionals"
SAFETY_SURROUNDINGS = "safety_surroundings"
SAFETY_REASONS = "safety_reasons"
SAFETY_PLAN_KEYS = (
    WARNING_SIGNS,
    WORSE_PLAN,
    SAFETY_DISTRACTION,
    SAFETY_PEOPLE,
    SAFETY_PROFESSIONALS,
    SAFETY_SURROUNDINGS,
    SAFETY_REASONS,
)
# Answers to "did you do the homework?" that count as doing it.
HOMEWORK_DONE_VALUES = ("yes", "partly")

STORE_KEYS: dict[str, StoreKey] = {
    key.name: key
    for key in (
        StoreKey(CHECKIN_DAY, Kind.WEEKDAY, INTAKE_FLOW),
        StoreKey(CHECKIN_TIME, Kind.TIME, INTAKE_FLOW),
        StoreKey(GOALS, Kind.TEXT, INTAKE_FLOW),
        StoreKey(WEEK_GOALS, Kind.TEXT, CHECKIN_FLOW),
        StoreKey(HOMEWORK_DONE, Kind.CHOICE, CHECKIN_FLOW, HOMEWORK_DONE_VALUES),
        StoreKey(HOMEWORK_WHAT, Kind.TEXT, CHECKIN_FLOW),
        StoreKey(HOMEWORK_TIMES, Kind.CHOICE, CHECKIN_FLOW),
        StoreKey(HOMEWORK_RELEVANT, Kind.TEXT, CHECKIN_FLOW),
        StoreKey(HOMEWORK_USEFUL, Kind.TEXT, CHECKIN_FLOW),
        StoreKey(HOMEWORK_HARD, Kind.TEXT, CHECKIN_FLOW),
        StoreKey(HOMEWORK_OWN, Kind.TEXT, CHECKIN_FLOW),
        StoreKey(HOMEWORK_MANAGED, Kind.TEXT, CHECKIN_FLOW),
        StoreKey(WANTS_CALL, Kind.CHOICE, CHECKIN_FLOW),
        *(StoreKey(key, Kind.TEXT, SAFETYPLAN_FLOW) for key in SAFETY_PLAN_KEYS),
    )
}

# The actions a `do:` step may name (bot/engine/actions.py carries them out).
SCHEDULE_CHECKINS = "schedule_checkins"
FINISH_INTAKE = "finish_intake"
FINISH_CHECKIN = "finish_checkin"
FINISH_CLOSING = "finish_closing"
FINISH_DROPOUT_EVAL = "finish_dropout_eval"
SEND_CHART = "send_chart"
REQUEST_CONTACT = "request_contact"
APPLY_NEW_SLOT = "apply_new_slot"
FINISH_BOOSTER = "finish_booster"
ACTIONS = (
    SCHEDULE_CHECKINS,
    FINISH_INTAKE,
    FINISH_CHECKIN,
    FINISH_CLOSING,
    FINISH_DROPOUT_EVAL,
    SEND_CHART,
    REQUEST_CONTACT,
    APPLY_NEW_SLOT,
    FINISH_BOOSTER,
)
# Actions a flow must run, or the course never moves on (a flow the dialogs do not have is not checked here).
REQUIRED_ACTIONS = {
    INTAKE_FLOW: (SCHEDULE_CHECKINS, FINISH_INTAKE),
    CHECKIN_FLOW: (FINISH_CHECKIN,),
    CLOSING_FLOW: (FINISH_CLOSING,),
    DROPOUT_FLOW: (FINISH_DROPOUT_EVAL,),
}

# The person's commands (each also has the text `commands.<name>`, its description in Telegram's menu).
USER_COMMANDS = (
    "start",
    "checkin",
    "schedule",
    "plan",
    "safetyplan",
    "chart",
    "contact",
    "pause",
    "resume",
    "language",
    "mydata",
    "delete",
    "help",
)

# Signals the code raises by name; escalation.yaml must define each.
RISK_ANSWER = "risk_answer"
RISK_WORDS = "risk_words"
ASKS_FOR_PERSON = "asks_for_person"
SEVERE_SCORE = "severe_score"
DETERIORATION = "deterioration"
DISENGAGEMENT = "disengagement"
UNREACHABLE = "unreachable"
ELIGIBILITY = "eligibility"
NEEDS_ASSESSMENT = "needs_assessment"
WORSE = "worse"
MISSED_CHECKIN = "missed_checkin"
REQUIRED_SIGNALS = (
    RISK_ANSWER,
    RISK_WORDS,
    ASKS_FOR_PERSON,
    SEVERE_SCORE,
    DETERIORATION,
    DISENGAGEMENT,
    UNREACHABLE,
    ELIGIBILITY,
    NEEDS_ASSESSMENT,
    WORSE,
    MISSED_CHECKIN,
)
