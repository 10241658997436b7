"""What a dialog template can see. The engine and the checker build it alike."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.dialogs.model import DialogSet, Instrument, Part, Program


class Lazy(Mapping[str, Any]):
    """A mapping computed on first use, so a text that needs no answers costs no query."""

    def __init__(self, make: Callable[[], Mapping[str, Any]]) -> None:
        self._make = make
        self._data: Mapping[str, Any] | None = None

    def _loaded(self) -> Mapping[str, Any]:
        if self._data is None:
            self._data = self._make()
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._loaded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


@dataclass
class CourseFacts:
    """Plain facts about one course, read from storage by the engine."""

    label: str
    program: str
    week: int
    answers: Mapping[str, Any] = field(default_factory=dict)
    week_answers: Mapping[str, Any] = field(default_factory=dict)
    scores: Mapping[str, Mapping[int, int | None]] = field(default_factory=dict)  # instrument -> week -> total
    checkin_day: int | None = None
    checkin_time: str | None = None
    next_checkin: str | None = None
    checkins_done: int = 0
    state: str = "intake"
    part_lag: int = 0  # weeks kept on the same part by the continuity path
    flow: str | None = None  # the conversation going on, if any


def part_view(part: Part, locale: str) -> dict[str, Any]:
    return {
        "number": part.number,
        "title": part.title[locale],
        "about": part.about[locale],
        "homework": part.homework[locale],
        "link": part.link.get(locale),
    }


def program_view(program: Program, locale: str) -> dict[str, Any]:
    return {
        "id": program.id,
        "title": program.title[locale],
        "summary": program.summary[locale],
        "parts": [part_view(p, locale) for p in program.parts],
    }


def score_view(instrument: Instrument, total: int | None, locale: str) -> dict[str, Any] | None:
    if total is None:
        return None
    band = instrument.band(total)
    return {
        "name": instrument.name,
        "total": total,
        "max": instrument.max_total,
        "band": band.key,
        "band_label": band.label[locale],
    }


def outcome(dialogs: DialogSet, scores: Mapping[str, Mapping[int, int | None]]) -> dict[str, Any]:
    """Before/after with the NHS Talking Therapies definitions (see PRACTICE.md)."""
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for name, by_week in scores.items():
        if name in dialogs.instruments and not dialogs.instruments[name].full:
            continue  # PHQ-2 and GAD-2 are no outcome measures: the full forms only
        totals = [(w, t) for w, t in sorted(by_week.items()) if t is not None]
        if len(totals) >= 2:
            first[name], last[name] = totals[0][1], totals[-1][1]
    if not first:
        return {"available": False}
    instruments = {n: dialogs.instruments[n] for n in first if n in dialogs.instruments}
    change = {n: last[n] - first[n] for n in instruments}
    improved = any(-change[n] >= i.reliable_change for n, i in instruments.items())
    worsened = any(change[n] >= i.reliable_change for n, i in instruments.items())
    case_before = any(first[n] >= i.caseness for n, i in instruments.items())
    case_after = any(last[n] >= i.caseness for n, i in instruments.items())
    recovery = case_before and not case_after
    return {
        "available": True,
        "before": first,
        "after": last,
        "change": change,
        "caseness_before": case_before,
        "caseness_after": case_after,
        "recovery": recovery,
        "reliable_improvement": improved and not worsened,
        "reliable_deterioration": worsened,
        "reliable_recovery": recovery and improved and not worsened,
    }


def _parts(program: Program, numbers: Iterable[int], locale: str) -> list[dict[str, Any]]:
    return [part_view(program.parts[n - 1], locale) for n in numbers if 0 < n <= len(program.parts)]


def week_items(dialogs: DialogSet, week: int) -> int:
    """The questionnaire items a check-in in `week` asks (taps): its instruments' items and the
    risk item, which is asked every week (5 in a lighter week, 16 with the full forms)."""
    schedule = dialogs.schedule
    plan = schedule.weeks.get(week) or schedule.weeks[schedule.last_week]
    asked: set[tuple[str, str]] = set()
    for name in plan.instruments:
        instrument_id, _, item_key = name.partition(".")
        instrument = dialogs.instruments.get(instrument_id)
        if instrument is not None:
            keys = [item_key] if item_key else [i.key for i in instrument.items]
            asked.update((instrument_id, key) for key in keys)
    risk_instrument, _, risk_key = schedule.risk_item.partition(".")
    asked.add((risk_instrument, risk_key))
    return len(asked)


def build_context(dialogs: DialogSet, facts: CourseFacts, locale: str, **extra: Any) -> dict[str, Any]:
    program = dialogs.programs[facts.program]
    schedule = dialogs.schedule
    # The parts follow the weeks, held back one week each time the continuity path kept a part.
    content_week = max(facts.week - facts.part_lag, min(schedule.weeks))
    week = schedule.weeks.get(content_week) or schedule.weeks[schedule.last_week]
    review_parts = _parts(program, week.review_parts, locale)
    reached = max(week.review_parts, default=0)
    completed = facts.state == "completed"
    # Between check-ins the course is in the week before the next check-in's.
    weekly_talk = facts.flow in ("checkin", "closing")
    plan_week = facts.week if weekly_talk or completed else max(facts.week - 1, 1)
    weekday = dialogs.text(locale, f"weekday.{facts.checkin_day}") if facts.checkin_day is not None else None

    def scores_at(pick: Callable[[list[tuple[int, int]]], tuple[int, int]]) -> dict[str, Any]:
        views: dict[str, Any] = {}
        for name, instrument in dialogs.instruments.items():
            totals = [(w, t) for w, t in sorted(facts.scores.get(name, {}).items()) if t is not None]
            views[name] = score_view(instrument, pick(totals)[1], locale) if totals else None
        return views

    context: dict[str, Any] = {
        "locale": locale,
        "label": facts.label,
        "week": facts.week,
        "last_week": dialogs.schedule.last_week,
        "state": facts.state,
        "program": program_view(program, locale),
        "review_parts": review_parts,
        "next_parts": _parts(program, week.next_parts, locale),
        "current_parts": review_parts,  # what the person works on until the next check-in
        "parts_left": [part_view(p, locale) for p in program.parts if p.number > reached],
        "plan_week": plan_week,
        "week_items": week_items(dialogs, facts.week),  # questionnaire taps in this week's check-in
        "completed": completed,
        "answers": Lazy(lambda: _all_answers(dialogs, facts.answers)),
        "week_answers": Lazy(lambda: _all_answers(dialogs, facts.week_answers)),
        "scores": Lazy(lambda: scores_at(lambda totals: totals[-1])),
        "baseline": Lazy(lambda: scores_at(lambda totals: totals[0])),
        "week_scores": Lazy(lambda: _week_scores(dialogs, facts, locale)),
        "outcome": Lazy(lambda: outcome(dialogs, facts.scores)),
        "checkin_day": weekday,
        "checkin_time": facts.checkin_time,
        "next_checkin": facts.next_checkin,
        "checkins_done": facts.checkins_done,
    }
    context.update(extra)
    return context


def _week_scores(dialogs: DialogSet, facts: CourseFacts, locale: str) -> dict[str, Any]:
    """The totals of this week's measures only (PHQ-2 in a lighter week, not last PHQ-9)."""
    return {
        name: score_view(instrument, facts.scores.get(name, {}).get(facts.week), locale)
        for name, instrument in dialogs.instruments.items()
    }


def store_keys(dialogs: DialogSet) -> dict[str, str]:
    """Every answer key a flow stores, with the input kind that fills it."""
    keys: dict[str, str] = {}
    for flow in dialogs.flows.values():
        for step in flow.steps.values():
            if step.store:
                keys[step.store] = step.input
    return keys


def _all_answers(dialogs: DialogSet, answers: Mapping[str, Any]) -> dict[str, Any]:
    known: dict[str, Any] = dict.fromkeys(store_keys(dialogs))
    known.update(answers)
    return known


def sample_facts(dialogs: DialogSet, program: str) -> CourseFacts:
    """Made-up data that fills every field a template may use."""
    samples: dict[str, Any] = {}
    for flow in dialogs.flows.values():
        for step in flow.steps.values():
            if not step.store:
                continue
            if step.choices:
                samples[step.store] = step.choices[0].value
            elif step.input == "number":
                samples[step.store] = step.minimum or 0
            elif step.input == "time":
                samples[step.store] = "18:00"
            else:
                samples[step.store] = "Eksempeltekst / sample text"
    scores: dict[str, dict[int, int | None]] = {name: {1: 14, 2: 11, 6: 6} for name in dialogs.instruments}
    return CourseFacts(
        label="DEMO-1",
        program=program,
        week=2,
        answers=samples,
        week_answers=samples,
        scores=scores,
        checkin_day=3,
        checkin_time="18:00",
        next_checkin="torsdag 15. januar kl. 18.00",
        checkins_done=2,
        state="checkin",
    )
