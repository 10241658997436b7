"""Property: any sequence of inputs leaves the course in a valid state, and every
message from the user gets an answer."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.app import App, build_app
from bot.clock import FakeClock
from bot.dialogs.store import DialogStore
from bot.engine.events import Event
from bot.storage.db import transaction
from bot.storage.models import Course
from state_machines.course import STATES
from tests.support.participant import Participant, do_intake, run_due_timers
from tests.support.settings import make_settings

WAITING_KINDS = ("ask", "measure")
NEEDS_FLOW = ("intake", "checkin", "closing", "dropout_eval")

texts = st.one_of(
    st.sampled_from(["1", "2", "3", "4", "7", "0", "ja", "Ja", "18:30", "25:99", "", " ", "/", "nei", "kl 8"]),
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=4000, max_size=4100),
)
commands = st.sampled_from(
    [
        "/checkin",
        "/pause",
        "/resume",
        "/plan",
        "/help",
        "/language",
        "/safetyplan",
        "/chart",
        "/start",
        "/start ABC-DEF-GHJ",
        "/nosuch",
        "/delete",
        "/mydata",
    ]
)
actions = st.lists(
    st.one_of(
        st.tuples(st.just("text"), texts),
        st.tuples(st.just("command"), commands),
        st.tuples(st.just("press"), st.integers(min_value=0, max_value=8)),
        st.tuples(st.just("data"), st.sampled_from(["s:1:0", "s:99:1", "s:x", "l:xx", "d:y:0", "a:ack:1", "", "zz"])),
        st.tuples(st.just("time"), st.integers(min_value=1, max_value=24 * 9)),
        st.tuples(st.just("other"), st.sampled_from(["unsupported", "edited"])),
    ),
    max_size=35,
)

_chats = itertools.count(50_000)


def check_invariants(app: App, chat_id: int) -> None:
    dialogs = app.dialogs.current.dialogs
    with transaction(app.db) as session:
        course = session.exec(select(Course).where(Course.chat_id == chat_id)).first()
    if course is None:
        return
    assert course.state in STATES
    assert (course.flow is None) == (course.step is None), (course.flow, course.step)
    if course.flow is not None:
        step = dialogs.flows[course.flow].steps[course.step or ""]
        assert step.kind in WAITING_KINDS, step
    if course.state in NEEDS_FLOW:
        assert course.flow is not None, course.state
    if course.state == "active":
        assert course.flow is None and course.due_at is not None


def apply(app: App, clock: FakeClock, user: Participant, action: tuple[str, object]) -> None:
    kind, value = action
    before = len(user.inbox)
    if kind == "text":
        user.send(str(value))
        assert len(user.inbox) > before, "a typed message got no reply"
    elif kind == "command":
        user.send(str(value))
        assert len(user.inbox) > before, f"{value} got no reply"
    elif kind == "press":
        with_buttons = [m for m in user.inbox if m.buttons]
        if with_buttons and int(str(value)) < len(with_buttons[-1].buttons):
            user.press_data(with_buttons[-1].buttons[int(str(value))]["data"])
    elif kind == "data":
        user.press_data(str(value))
    elif kind == "time":
        clock.advance(hours=int(str(value)))
        run_due_timers(app)
        user.receive()
    else:
        app.handle(Event(kind, user.chat_id, user.chat_id, language="nb"))  # type: ignore[arg-type]
        user.receive()
        assert len(user.inbox) > before


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(after_intake=st.booleans(), sequence=actions)
def test_any_input_sequence_leaves_a_valid_course(
    sqlite_url: str, shipped_dialogs: DialogStore, after_intake: bool, sequence: list[tuple[str, object]]
) -> None:
    clock = FakeClock()
    app = build_app(make_settings(sqlite_url), clock, run_migrations=False, dialogs=shipped_dialogs)
    try:
        user = Participant(app, chat_id=next(_chats))
        user.start_with_new_code("anxiety", f"P-{user.chat_id}")
        if after_intake:
            do_intake(user, "nb", [1] * 9, [1] * 7)
            clock.advance(days=3)  # past the first gap (schedule.yaml: first_checkin_min_days)
            user.send("/checkin")
        check_invariants(app, user.chat_id)
        for action in sequence:
            apply(app, clock, user, action)
            check_invariants(app, user.chat_id)
        clock.advance(days=30)
        run_due_timers(app)
        check_invariants(app, user.chat_id)
    finally:
        app.db.dispose()
