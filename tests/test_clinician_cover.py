"""Cover (/away UNTIL NAME, /back) against the engine: clear replies for bad input, the digest goes
to the cover, the cover ends by itself after UNTIL; and `guidebot audit views` (issue 10)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import App, build_app
from bot.clinicians.cover import parse_until
from bot.clock import FakeClock
from bot.storage.db import transaction
from bot.storage.models import Course, Cover
from tests.support.cli import guidebot, use_database
from tests.support.clinician import Colleague, audit_actions
from tests.support.participant import Participant, do_intake
from tests.support.settings import make_settings

NOT_YOURS = "Sak K-1001 følges av en kollega"


def test_dates_are_read_as_written() -> None:
    today = date(2026, 11, 30)
    assert parse_until("2026-12-24", today) == date(2026, 12, 24)
    assert parse_until("24.12.2026", today) == date(2026, 12, 24)
    assert parse_until("24.12", today) == date(2026, 12, 24)
    assert parse_until("3.1", today) == date(2027, 1, 3), "a day and month already past this year is next year's"
    assert parse_until("30.11", today) == today
    for bad in ("julaften", "31.02", "2026-13-01", "24/12", ""):
        assert parse_until(bad, today) is None, bad


def test_away_bad_input_gets_a_clear_reply_and_nothing_is_stored(app: App, clock: FakeClock) -> None:
    kari, ola = Colleague(app, 501, "Kari"), Colleague(app, 502, "Ola")
    assert kari.send("/away")[-1].text.startswith("Skriv /away DATO NAVN")
    assert kari.send("/away 24.12")[-1].text.startswith("Skriv /away DATO NAVN")
    assert kari.send("/away julaften Ola")[-1].text.startswith("Jeg forstår ikke datoen «julaften»")
    past = date(clock.now().year - 1, 1, 1)
    assert kari.send(f"/away {past.isoformat()} Ola")[-1].text == (
        f"{past:%d.%m.%Y} er allerede passert. Skriv den siste dagen du er borte."
    )
    assert kari.send("/away 24.12 Nils")[-1].text.startswith("Jeg finner ingen aktiv kollega som heter Nils.")
    assert kari.send("/away 24.12 kari")[-1].text.startswith("Du kan ikke dekke for deg selv.")
    assert kari.send("/back")[-1].text == "Du står ikke som borte, så alt kommer til deg som vanlig."
    stranger = Colleague(app, 777, "Nils", register=False)
    assert "ikke tilgjengelig" in stranger.send("/away 24.12 Kari")[-1].text
    with transaction(app.db) as session:
        assert session.exec(select(Cover)).all() == []

    # Ola is away with Kari covering, so Kari cannot at the same time hand her own things to Ola.
    ola.send("/away 24.12 Kari")
    assert kari.send("/away 24.12 Ola")[-1].text.startswith("Ola er borte, og du dekker for Ola nå.")
    with transaction(app.db) as session:
        assert len(session.exec(select(Cover)).all()) == 1


def test_a_new_away_replaces_the_old_one_and_covering_ends_after_until(app: App, clock: FakeClock) -> None:
    kari, ola, per = Colleague(app, 501, "Kari"), Colleague(app, 502, "Ola"), Colleague(app, 503, "Per")
    kari.enrol(1001, "K-1001")
    assert kari.send("/away 2.12 Ola")[-1].text.startswith("Greit. Ola dekker for deg til og med 02.12.2026")
    kari.send("/away 3.12 Per")
    with transaction(app.db) as session:
        covers = session.exec(select(Cover)).all()
    assert [c.ended_at is not None for c in covers] == [True, False], "the first cover ended when the second began"
    assert ola.send("/case K-1001")[-1].text.startswith(NOT_YOURS)
    assert any(m.text.startswith("Sak K-1001") for m in per.send("/case K-1001"))
    clock.set(datetime(2026, 12, 3, 22, 59, tzinfo=UTC))  # 23.59 on 3.12 in Oslo: still covering
    assert any(m.text.startswith("Sak K-1001") for m in per.send("/case K-1001"))
    clock.set(datetime(2026, 12, 3, 23, 0, tzinfo=UTC))  # midnight in Oslo: Kari is back by herself
    assert per.send("/case K-1001")[-1].text.startswith(NOT_YOURS)
    actions = [a.action for a in audit_actions(app)]
    assert actions.count("cover_started") == 2


@pytest.fixture
def digest_app(sqlite_url: str) -> Iterator[tuple[App, FakeClock]]:
    clock = FakeClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    application = build_app(make_settings(sqlite_url, digest_time="08.00"), clock, run_migrations=False)
    yield application, clock
    application.db.dispose()


def test_the_feedback_queue_goes_to_the_cover(digest_app: tuple[App, FakeClock]) -> None:
    app, clock = digest_app
    kari, ola = Colleague(app, 501, "Kari"), Colleague(app, 502, "Ola")
    user = kari.enrol(3004, "K-3004")
    do_intake(user)
    with transaction(app.db) as session:
        course = session.exec(select(Course).where(Course.label == "K-3004")).one()
        course.feedback_due_at = clock.now()  # as a finished check-in leaves it
    kari.send("/away 2026-01-09 Ola")
    ola.receive()
    app.run_due()  # 10.00 in Oslo: today's digest
    assert kari.receive() == [], "no digest to the clinician who is away"
    digest = ola.receive()
    assert len(digest) == 1 and "K-3004" in digest[0].text
    assert digest[0].labels() == ["✓ K-3004: sett, ingen melding"]
    ola.press("✓ K-3004: sett, ingen melding", digest[0])
    assert ola.callbacks[-1].startswith("K-3004 er merket som sett.")

    kari.send("/back")
    with transaction(app.db) as session:
        course = session.exec(select(Course).where(Course.label == "K-3004")).one()
        course.feedback_due_at = clock.now()
    clock.set(datetime(2026, 1, 6, 7, 1, tzinfo=UTC))  # the next morning
    app.run_due()
    assert "K-3004" in "".join(m.text for m in kari.receive())
    assert "K-3004" not in "".join(m.text for m in ola.receive() if "Dagens oversikt" in m.text)


def test_audit_views_lists_who_looked_at_a_case(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, app: App, clock: FakeClock
) -> None:
    kari, per = Colleague(app, 501, "Kari"), Colleague(app, 502, "Per")
    boss = Colleague(app, 509, "Liv Leder", admin=True)
    user: Participant = kari.enrol(1001, "K-1001")
    do_intake(user)
    kari.send("/case K-1001")
    per.send("/case k-1001")  # refused: not his
    boss.send("/case K-1001")
    user.send("/mydata")  # the person's own, not a view
    listed = boss.send("/views k-1001")[-1].text
    assert listed.startswith("Hvem som har åpnet sak K-1001 (3 ganger)")
    assert [line.split(" · ", 1)[1] for line in listed.splitlines()[1:]] == [
        "Kari · Telegram",
        "Per · Telegram · avvist, saken ble ikke vist",
        "Liv Leder · Telegram",
    ]
    assert boss.send("/views K-9999")[-1].text == "Ingen har åpnet sak K-9999."
    assert boss.send("/views")[-1].text.startswith("Skriv /views MERKELAPP")

    use_database(monkeypatch, tmp_path, app.settings.database_url)
    result = guidebot("audit", "views", "K-1001", "--json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["name"], r["where"], r["refused"]) for r in rows] == [
        ("Kari", "telegram", False),
        ("Per", "telegram", True),
        ("Liv Leder", "telegram", False),
    ]
    assert all(r["label"] == "K-1001" and r["actor"].startswith("clinician:") for r in rows)
    plain = guidebot("audit", "views", "K-1001").output.splitlines()
    assert len(plain) == 3 and plain[1].endswith("K-1001  Per  telegram  refused")
    assert guidebot("audit", "views", "K-9999").output.strip() == "Nobody has opened case K-9999."
    actions = [a.action for a in audit_actions(app)]
    assert actions.count("views_listed") == 5, "each listing is itself audited (2 in Telegram, 3 on the command line)"
