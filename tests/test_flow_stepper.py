"""The flow stepper says what happened and leaves the acting to the policy."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.app import App
from bot.clock import FakeClock
from bot.dialogs import evidence
from bot.engine import flows
from bot.engine.events import Event
from bot.engine.flows import Act, Asked, Finished, Flagged
from bot.engine.turn import Turn
from bot.storage.db import transaction
from bot.storage.models import Alert, Course
from tests.support import course_script as script
from tests.support.participant import Participant, do_intake, go_to_next_checkin


def _turn(app: App, session: Session, course_id: int) -> Turn:
    """A turn on the course, as the engine makes one, for the stepper alone."""
    loaded = app.dialogs.current
    turn = Turn(session, Event.button(1001, "s"), app.engine.clock.now(), loaded.dialogs, loaded.renderer, app.settings)
    turn.course = session.get(Course, course_id)
    return turn


def test_the_contract_answer_yields_the_action_and_the_end_and_runs_neither(app: App) -> None:
    user = Participant(app)
    user.start_with_new_code("depression", "K-5001")
    user.play(script.intake()[:-1])  # up to the agreement
    course_id = user.course().id
    assert course_id is not None
    with transaction(app.db) as session:
        turn = _turn(app, session, course_id)
        outcomes = list(flows.answer(turn, button=0))
        assert turn.course is not None
        assert outcomes[0] == Act("finish_intake") and outcomes[-1] == Finished("intake")
        assert not any(isinstance(o, Asked) for o in outcomes)
        assert turn.course.state == "intake", "the stepper leaves finish_intake to the policy"


def test_the_time_answer_yields_the_scheduling_action_then_the_next_question(app: App) -> None:
    user = Participant(app)
    user.start_with_new_code("depression", "K-5002")
    user.play(script.intake()[:-2])  # up to the time of day
    course_id = user.course().id
    assert course_id is not None
    with transaction(app.db) as session:
        turn = _turn(app, session, course_id)
        assert list(flows.answer(turn, text="18:30")) == [Act("schedule_checkins"), Asked("contract")]
        assert turn.course is not None and turn.course.checkin_weekday is None, "the action did not run"


def test_a_risk_answer_is_a_flagged_outcome_not_an_alert(app: App, clock: FakeClock) -> None:
    user = Participant(app)
    user.start_with_new_code("depression", "K-5003")
    do_intake(user)
    go_to_next_checkin(app, clock, user)
    for value in [1] * 8:
        user.press_index(value)
    course_id = user.course().id
    assert course_id is not None
    with transaction(app.db) as session:
        turn = _turn(app, session, course_id)
        outcomes = list(flows.answer(turn, button=2))
        assert Flagged("risk_answer", evidence.risk_item("PHQ-9", 9, 2)) in outcomes
        assert session.exec(select(Alert)).all() == []
