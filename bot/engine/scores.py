"""Scores against the thresholds in escalation.yaml: a severe baseline, severe scores, a reliable rise."""

from __future__ import annotations

from sqlmodel import col, select

from bot.dialogs import contract, evidence
from bot.dialogs.model import Instrument
from bot.engine.alerts import raise_signal
from bot.engine.turn import Turn
from bot.storage.models import Alert, Score

# Signals a score raises; the person hears of the first new one in a turn, in plain words.
SCORE_SIGNALS = {
    contract.NEEDS_ASSESSMENT: "followup.needs_assessment_score",
    contract.SEVERE_SCORE: "followup.clinician_told",
    contract.DETERIORATION: "followup.clinician_told",
}


def check_scores(turn: Turn, instrument: Instrument, total: int) -> None:
    """A severe baseline needs a clinician's assessment (loshjelp); later, severe scores and a
    reliable rise from the baseline are signals too."""
    course = turn.course
    assert course is not None
    if course.week <= 1:
        limit = _threshold(turn, contract.NEEDS_ASSESSMENT, instrument)
        if limit is not None and total >= limit:
            _score_signal(turn, contract.NEEDS_ASSESSMENT, evidence.score(instrument.name, total))
        return
    severe = _threshold(turn, contract.SEVERE_SCORE, instrument)
    if severe is not None and total >= severe:
        _score_signal(turn, contract.SEVERE_SCORE, evidence.score(instrument.name, total))
    rise = _threshold(turn, contract.DETERIORATION, instrument)
    if rise is None:
        return
    baseline = turn.session.exec(
        select(Score).where(Score.course_id == course.id, Score.instrument == instrument.id, Score.week == 1)
    ).first()
    if baseline is not None and baseline.total is not None and total - baseline.total >= rise:
        _score_signal(turn, contract.DETERIORATION, evidence.rise(instrument.name, baseline.total, total))


def _threshold(turn: Turn, signal: str, instrument: Instrument) -> int | None:
    rule = turn.dialogs.escalation.signals.get(signal)
    return rule.thresholds.get(instrument.id) if rule is not None else None


def _score_signal(turn: Turn, signal: str, found: evidence.Entry) -> None:
    """Raise a score signal. A new alert is also told to the person, once per turn: no crisis
    contacts (those come with item 9 or risk words), but what happens next."""
    course = turn.course
    assert course is not None
    alert = raise_signal(turn, signal, found)
    if alert is None or len(alert.evidence) > 1 or turn.told_crisis:
        return  # joined an open alert, so they were told; or the crisis message said it
    earlier = turn.session.exec(
        select(Alert.id).where(
            Alert.course_id == course.id,
            Alert.id != alert.id,
            Alert.created_at == turn.now,
            col(Alert.signal).in_(list(SCORE_SIGNALS)),
        )
    ).first()
    if earlier is None:
        turn.say(SCORE_SIGNALS[signal])
