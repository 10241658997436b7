"""The flow stepper: runs a dialog flow's steps (say, ask, measure, do, branch) and says what happened.

It sends the flow's texts and questions, stores the answers and the scores, and
hands everything else back as outcomes: an action to run, a score to check, a
signal to raise, the pause after the crisis message. It never calls up into the
engine; `bot/engine/policy.py` carries the outcomes out, one by one, as the
stepper yields them, so an action runs exactly where its step stands.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlmodel import select

from bot.dialogs import contract, evidence
from bot.dialogs.evidence import Entry
from bot.dialogs.model import Choice, Instrument, Step
from bot.engine.outgoing import Buttons
from bot.engine.schedule import parse_time, time_words
from bot.engine.turn import Turn
from bot.storage.models import Score

MAX_STEPS_PER_TURN = 200

_Option = TypeVar("_Option")


# -- what the stepper returns --------------------------------------------------


@dataclass(frozen=True)
class Asked:
    """A question was sent; the course waits for its answer."""

    step: str


@dataclass(frozen=True)
class Finished:
    """The flow ran to its end."""

    flow: str


@dataclass(frozen=True)
class Act:
    """A `do:` step (or a chart in a `say:` step): run the named action, then step on."""

    action: str


@dataclass(frozen=True)
class Scored:
    """An instrument was completed and its total stored: check it against the thresholds."""

    instrument: Instrument
    total: int


@dataclass(frozen=True)
class Flagged:
    """An answer raises an escalation signal (a flagged choice, a risk answer)."""

    signal: str
    evidence: Entry


@dataclass(frozen=True)
class Paused:
    """The crisis message was shown after a risk answer: the next question waits for the person."""


Outcome = Asked | Finished | Act | Scored | Flagged | Paused
Steps = Generator[Outcome, None, None]


# -- running a flow --------------------------------------------------------------


def start(turn: Turn, flow_id: str, *, one_message: bool = False) -> Steps:
    """Begin a flow. With `one_message`, its opening texts go out with its first question, as one
    message with the question's buttons (a weekly check-in opens with one message)."""
    assert turn.course is not None
    flow = turn.dialogs.flows[flow_id]
    turn.course.flow = flow_id
    turn.course.step = flow.start
    turn.set_scratch("measure", None)
    turn.held = [] if one_message else None
    try:
        yield from run(turn)
    finally:
        _release(turn)


def _release(turn: Turn) -> None:
    """Send the opening texts held for the first question as they are (no question came)."""
    held, turn.held = turn.held, None
    for text in held or ():
        turn.send(text)


def _with_opening(turn: Turn, text: str) -> str:
    """The question's text, after the opening texts held for it; nothing is held after it."""
    held, turn.held = turn.held, None
    return "\n\n".join([*(held or ()), text])


def run(turn: Turn) -> Steps:
    """Advance through steps that need no answer, then ask the next question."""
    running = turn.course.flow if turn.course is not None else None
    for _ in range(MAX_STEPS_PER_TURN):
        step = turn.step()
        if step is None:
            _release(turn)
            if running is not None:
                yield Finished(running)
            return
        running = turn.course.flow if turn.course is not None else None
        if step.kind == "say":
            yield from _say(turn, step)
            advance(turn, step)
        elif step.kind == "ask":
            ask(turn, step)
            yield Asked(step.id)
            return
        elif step.kind == "measure":
            if (yield from _measure_next(turn, step)):
                yield Asked(step.id)
                return
        elif step.kind == "do":
            _release(turn)
            yield Act(step.action or "")
            if turn.course is None or turn.course.flow != running or turn.course.step != step.id:
                continue  # the action moved the course on itself
            advance(turn, step)
        elif step.kind == "branch":
            context = turn.context()
            target = next((b.next for b in step.branches if turn.renderer.condition(b.when, context)), None)
            flow = turn.flow()
            assert flow is not None
            goto(turn, target or flow.following(step))
    raise RuntimeError("a flow ran too many steps in one turn")


def goto(turn: Turn, step_id: str | None) -> None:
    assert turn.course is not None
    turn.course.step = step_id
    if step_id is None:
        turn.course.flow = None


def advance(turn: Turn, step: Step, choice: Choice | None = None) -> None:
    flow = turn.flow()
    assert flow is not None
    target = choice.next if choice is not None and choice.next else flow.following(step)
    goto(turn, target)


def _say(turn: Turn, step: Step) -> Steps:
    assert step.text is not None
    if turn.held is not None and step.image is None:
        turn.held.append(turn.text(step.text))  # goes out with the first question
        return
    _release(turn)
    turn.say(step.text)
    if step.image == "chart":
        yield Act("send_chart")


# -- questions -----------------------------------------------------------------


def choice_buttons(turn: Turn, labels: list[str]) -> Buttons:
    assert turn.course is not None
    seq = turn.course.ask_seq
    return [[{"text": label, "data": f"s:{seq}:{index}"}] for index, label in enumerate(labels)]


def _choice_labels(turn: Turn, step: Step) -> list[str]:
    return [turn.text(c.text) for c in step.choices]


def ask(turn: Turn, step: Step, *, again: bool = False) -> None:
    """Send the question of an `ask` step; a new question invalidates old buttons."""
    assert turn.course is not None and step.text is not None
    if not again:
        turn.course.ask_seq += 1
    buttons = choice_buttons(turn, _choice_labels(turn, step)) if step.choices else None
    turn.send(_with_opening(turn, turn.text(step.text)), buttons=buttons)


def reask(turn: Turn) -> Steps:
    """Repeat whatever the course is waiting for, with its buttons."""
    step = turn.step()
    if step is None:
        return
    if step.kind == "ask":
        ask(turn, step, again=True)
    elif step.kind == "measure":
        if _measure_state(turn) is not None and _current_item(turn) is None:
            yield from run(turn)  # paused after its last answer (the risk item): the flow goes on from here
        else:
            _ask_item(turn, again=True)


def answer(turn: Turn, *, text: str | None = None, button: int | None = None) -> Steps:
    """Apply an answer to the current step and go on; an answer that does not fit is asked again."""
    step = turn.step()
    if step is None:
        return
    if step.kind == "measure":
        yield from _answer_item(turn, text=text, button=button)
        return
    if step.kind != "ask":
        return
    if step.choices:
        choice = _pick(turn, step.choices, text, button)
        if choice is None and step.input == "time" and text is not None:
            typed = parse_time(text, time_words(turn.renderer, turn.locale))
            choice = Choice(value=typed, text="") if typed else None
        if choice is None:
            _reask_choice(turn, _choice_labels(turn, step))
            ask(turn, step, again=True)
            return
        value: Any = choice.value
    else:
        chosen = _typed_value(turn, step, text)
        if chosen is None:
            return
        value = chosen
        choice = None
    if step.store:
        turn.store(step.store, value)
    if choice is not None and choice.flag:
        yield Flagged(choice.flag, evidence.choice(step.id, choice.value))
    advance(turn, step, choice)
    yield from run(turn)


def keep_text(turn: Turn, text: str) -> None:
    """Store a free-text answer as written, without going on (the conversation is paused)."""
    step = turn.step()
    if step is None or step.kind != "ask" or step.choices or step.input != "text" or not step.store:
        return
    if text.strip():
        turn.store(step.store, clean_text(turn, text))


def clean_text(turn: Turn, text: str) -> str:
    """Store-safe text: normalized, no control characters, within the limit (the person is told if cut)."""
    cleaned = unicodedata.normalize("NFC", text)
    cleaned = "".join(ch for ch in cleaned if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs"))
    limit = turn.config.max_text_chars
    if len(cleaned) > limit:
        turn.say("common.too_long", limit=limit)
        cleaned = cleaned[:limit]
    return cleaned.strip()


def _pick(turn: Turn, choices: tuple[Choice, ...], text: str | None, button: int | None) -> Choice | None:
    if button is not None:
        return choices[button] if 0 <= button < len(choices) else None
    if text is None:
        return None
    typed = text.strip().casefold()
    if typed.isdecimal():
        return _at_position(choices, typed)
    for choice in choices:
        if turn.text(choice.text).casefold() == typed or choice.value.casefold() == typed:
            return choice
    return None


def _at_position(options: tuple[_Option, ...], typed: str) -> _Option | None:
    """A typed digit is the option's position, as the re-ask numbers them: 1 is the first option.

    Never its stored value: on a symptom scale "1" is "Not at all" (score 0). Outside 1..N it is None.
    """
    position = int(typed) if len(typed) <= 6 else 0
    return options[position - 1] if 1 <= position <= len(options) else None


def _reask_choice(turn: Turn, labels: list[str]) -> None:
    """Say the answer did not fit; not after the crisis message, where it would jar."""
    if not turn.told_crisis:
        turn.say("common.reask_choice", options=labels)


def _typed_value(turn: Turn, step: Step, text: str | None) -> Any:
    if text is None or not text.strip():
        ask(turn, step, again=True)
        return None
    if step.input == "number":
        cleaned = text.strip()
        low, high = step.minimum or 0, step.maximum if step.maximum is not None else 10**6
        if cleaned.lstrip("-").isdecimal() and len(cleaned) <= 12 and low <= int(cleaned) <= high:
            return int(cleaned)
        turn.say("common.reask_number", min=low, max=high)
        return None
    if step.input == "time":
        parsed = parse_time(text, time_words(turn.renderer, turn.locale))
        if parsed is None:
            turn.say("common.reask_time")
        return parsed
    return clean_text(turn, text)


# -- instruments -------------------------------------------------------------


def _queue_for(turn: Turn, step: Step) -> list[list[str]]:
    assert turn.course is not None
    schedule = turn.dialogs.schedule
    if step.measure is not None:
        names = list(step.measure)
    else:
        week = schedule.weeks.get(turn.course.week) or schedule.weeks[schedule.last_week]
        names = list(week.instruments)
    queue: list[list[str]] = []
    for name in names:
        instrument_id, _, item_key = name.partition(".")  # "phq9.interest": that one item
        keys = [item_key] if item_key else [i.key for i in turn.dialogs.instruments[instrument_id].items]
        queue.extend([instrument_id, key] for key in keys if [instrument_id, key] not in queue)
    risk_instrument, _, risk_key = schedule.risk_item.partition(".")
    if [risk_instrument, risk_key] not in queue:
        queue.append([risk_instrument, risk_key])
    return queue


def _measure_state(turn: Turn) -> dict[str, Any] | None:
    assert turn.course is not None
    state = turn.course.scratch.get("measure")
    return dict(state) if isinstance(state, dict) else None


def _measure_next(turn: Turn, step: Step) -> Generator[Outcome, None, bool]:
    """Ask the next item; True if waiting for an answer, False when finished."""
    state = _measure_state(turn)
    if state is None:
        state = {"step": step.id, "queue": _queue_for(turn, step), "pos": 0, "values": {}}
        turn.set_scratch("measure", state)
    if state["pos"] < len(state["queue"]):
        _ask_item(turn)
        return True
    if not state.get("scored"):  # scored already when the pause after the risk item came at the end
        yield from _finish_measure(turn, state)
    turn.set_scratch("measure", None)
    advance(turn, step)
    return False


def _current_item(turn: Turn) -> tuple[Instrument, str, int, int] | None:
    state = _measure_state(turn)
    if state is None or state["pos"] >= len(state["queue"]):
        return None
    name, key = state["queue"][state["pos"]]
    of_instrument = [q for q in state["queue"] if q[0] == name]
    return turn.dialogs.instruments[name], key, of_instrument.index([name, key]) + 1, len(of_instrument)


def _ask_item(turn: Turn, *, again: bool = False) -> None:
    current = _current_item(turn)
    if current is None:
        return
    instrument, key, number, count = current
    assert turn.course is not None
    if not again:
        turn.course.ask_seq += 1
    state = _measure_state(turn)
    if state is not None and state.pop("unasked", None):
        turn.set_scratch("measure", state)  # the question held back by the pause is asked now
    locale = turn.locale
    labels = [o.label[locale] for o in instrument.options]
    buttons = choice_buttons(turn, labels)
    item = instrument.item(key)
    values = {
        "stem": instrument.stem[locale],
        "item": item.text[locale],
        "instrument": instrument.name,
        "number": number,
        "count": count,
    }
    only_risk = count == 1 and len(instrument.items) > 1
    question = turn.text("measure.risk_only" if only_risk else "measure.item", **values)
    turn.send(_with_opening(turn, question), buttons=buttons)


def _answer_item(turn: Turn, *, text: str | None, button: int | None) -> Steps:
    held = _measure_state(turn)
    if held is not None and held.get("unasked"):
        yield from reask(turn)  # paused after the risk item: the next question was never shown, so show it
        return
    current = _current_item(turn)
    if current is None:
        return
    instrument, key, _number, _count = current
    locale = turn.locale
    option = None
    if button is not None and 0 <= button < len(instrument.options):
        option = instrument.options[button]
    elif text is not None:
        typed = text.strip().casefold()
        if typed.isdecimal():
            option = _at_position(instrument.options, typed)
        else:
            option = next((o for o in instrument.options if o.label[locale].casefold() == typed), None)
    if option is None:
        _reask_choice(turn, [o.label[locale] for o in instrument.options])
        _ask_item(turn, again=True)
        return
    state = _measure_state(turn)
    assert state is not None
    values = dict(state["values"])
    values[instrument.id] = {**values.get(instrument.id, {}), key: option.value}
    state["values"] = values
    state["pos"] += 1
    turn.set_scratch("measure", state)
    item = instrument.item(key)
    if item.risk and option.value >= 1:
        number = [i.key for i in instrument.items].index(key) + 1
        yield Flagged(contract.RISK_ANSWER, evidence.risk_item(instrument.name, number, option.value))
        if turn.told_crisis:
            yield from _pause_after_crisis(turn, state)
            return
    yield from run(turn)


def _pause_after_crisis(turn: Turn, state: dict[str, Any]) -> Steps:
    """The crisis message is shown: the next question waits until the person chooses to go on."""
    assert turn.course is not None
    turn.course.ask_seq += 1  # the risk item's buttons can no longer answer a question not yet shown
    state = {**state, "unasked": True}
    if state["pos"] >= len(state["queue"]):
        yield from _finish_measure(turn, state)  # it was the last answer: scored now, as without the pause
        state["scored"] = True
    turn.set_scratch("measure", state)
    yield Paused()


def _finish_measure(turn: Turn, state: dict[str, Any]) -> Steps:
    assert turn.course is not None and turn.course.id is not None
    for name, values in state["values"].items():
        instrument = turn.dialogs.instruments[name]
        complete = len(values) == len(instrument.items)
        total = sum(values.values()) if complete else None
        existing = turn.session.exec(
            select(Score).where(
                Score.course_id == turn.course.id, Score.week == turn.course.week, Score.instrument == name
            )
        ).first()
        score = existing or Score(course_id=turn.course.id, week=turn.course.week, instrument=name)
        score.items = dict(values)
        score.total = total
        score.band = instrument.band(total).key if total is not None else None
        score.created_at = turn.now
        turn.session.add(score)
        if total is not None:
            turn.forget_facts()
            yield Scored(instrument, total)
