"""A course as a script: what a participant does, step by step, as data.

The same script is played by `Participant.play` (the engine directly, with an injected
clock) and by `Chat.play` (over the fake Telegram server), so the engine tests and the
Telegram tests walk one course, not two copies of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Press:
    """Press the button with this label on the newest question."""

    label: str


@dataclass(frozen=True)
class Choose:
    """Press the newest question's button at this position (0 is the first)."""

    index: int


@dataclass(frozen=True)
class Type:
    """Send this text."""

    text: str


@dataclass(frozen=True)
class Measure:
    """Answer an instrument's items by value; after a risk answer the questionnaire pauses,
    and the participant presses "continue now"."""

    values: tuple[int, ...]


Step = Press | Choose | Type | Measure

INTAKE_ANSWERS = {
    "nb": ("Ja, vi fortsetter", "30–49", "En del"),
    "nn": ("Ja, vi held fram", "30–49", "Ein del"),
    "en": ("Yes, let's go on", "30–49", "Quite a bit"),
}
INTAKE_AGREE = {"nb": "Jeg er med på det", "nn": "Eg er med på det", "en": "I agree"}
GOALS = {
    "nb": "Sove bedre og komme meg ut hver dag",
    "nn": "Sove betre og kome meg ut kvar dag",
    "en": "Sleep better and get out every day",
}
BASELINE_PHQ = (2, 2, 2, 1, 1, 2, 1, 1, 0)
BASELINE_GAD = (2, 1, 2, 1, 1, 1, 1)
WEEK_GOALS = "Tirsdag kveld: del 3"


def intake(locale: str = "nb", phq: Sequence[int] = BASELINE_PHQ, gad: Sequence[int] = BASELINE_GAD) -> list[Step]:
    """Consent, age, impact, the baseline PHQ-9 and GAD-7, goals, Thursday at 18:30, and the agreement."""
    consent, age, impact = INTAKE_ANSWERS[locale]
    return [
        Press(consent),
        Press(age),
        Press(impact),
        Measure(tuple(phq)),
        Measure(tuple(gad)),
        Type(GOALS[locale]),
        Choose(3),  # Thursday
        Type("18:30"),
        Choose(0),  # agree
    ]


def checkin(phq: Sequence[int], gad: Sequence[int], *, did_homework: bool = True) -> list[Step]:
    """A weekly check-in: the measures, the homework review (or the continuity path), next week's goals."""
    steps: list[Step] = [Measure(tuple(phq)), Measure(tuple(gad))]
    if did_homework:
        steps += [
            Choose(0),  # did the homework
            Type("Del 1 og 2, aktivitetsdagbok"),
            Choose(1),  # twice
            Type("Ja, kjente meg igjen"),
            Type("Dagboken"),
            Type("Å finne tid"),
            Type("Passer bra med jobben"),
        ]
    else:
        steps += [Choose(2), Type("Jeg leste litt"), Type("Mye på jobb"), Choose(1)]  # no call
    return [*steps, Type(WEEK_GOALS)]


def closing(phq: Sequence[int], gad: Sequence[int]) -> list[Step]:
    """The closing conversation: measures, part 6 (the chart comes), what was learned, the safety plan
    steps still empty (1, 2, 4, 7), and the evaluation."""
    return [
        Measure(tuple(phq)),
        Measure(tuple(gad)),
        Choose(0),  # did part 6
        Type("Å legge merke til tankene"),
        Type("Aktivitetsplan"),
        Type("Trekker meg unna, sover dårlig"),
        Type("Ringe søsteren min og bruke dagboken"),
        Type("Søsteren min"),
        Type("Barna mine"),
        Choose(0),  # finished all
        Choose(0),  # better
        Type("Øvelsene hjalp"),
        Choose(0),  # eval homework 5
        Choose(1),  # eval follow-up 4
        Type("Fint opplegg"),
    ]
