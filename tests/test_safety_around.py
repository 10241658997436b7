"""What happens around a signal: scores and answers that need a clinician, and the safety plan."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import App
from bot.clock import FakeClock
from tests.support.clinician import Colleague
from tests.support.evidence import shown_evidence
from tests.support.participant import Participant, answer_measure, go_to_next_checkin, run_due_timers, team_messages

TEAM = -1001
CRISIS_NB = "Takk for at du sier det. Jeg tar det du skriver på alvor."
CRISIS_EN = "Thank you for telling me. I take what you write seriously."
LOSHJELP_NB = "om dette kurset er den beste hjelpen for deg nå eller om noe annet passer bedre"
TOLD_NB = "Jeg gir beskjed til veilederen din"
PHQ = [1, 1, 1, 1, 1, 1, 1, 1, 0]
GAD = [1, 1, 1, 1, 1, 1, 1]
PHQ_20 = [3, 3, 3, 3, 2, 2, 2, 2, 0]  # severe, item 9 not at all
GAD_15 = [3, 2, 2, 2, 2, 2, 2]
PLAN = (
    "Jeg trekker meg unna og sover dårlig",
    "Gå en tur og høre på musikk",
    "Kafeen på hjørnet, biblioteket",
    "Søsteren min og naboen",
    "Fastlegen min",
    "Be søsteren min ta vare på medisinene",
    "Barna mine og hunden",
)


def do_intake(user: Participant, _locale: str, phq: list[int], gad: list[int]) -> None:
    """The whole intake in any language, with answers that carry no risk signal."""
    user.press_index(0)  # consent
    user.press_index(3)  # 30-49
    user.press_index(1)  # some impact
    answer_measure(user, phq)
    answer_measure(user, gad)
    _finish_intake(user)


def do_checkin(user: Participant, phq: list[int], gad: list[int]) -> None:
    """A whole check-in, with answers that carry no risk signal."""
    answer_measure(user, phq)
    answer_measure(user, gad)
    user.press_index(0)  # did the homework
    user.send("Del 1 og 2, aktivitetsdagbok")
    user.press_index(1)  # twice
    for text in ("Ja, kjente meg igjen", "Dagboken", "Mye på jobb", "Passer bra med jobben", "Tirsdag kveld: del 3"):
        user.send(text)


def _no_crisis(user: Participant) -> None:
    for text in user.texts():
        assert CRISIS_NB not in text and CRISIS_EN not in text, text


def _alerts_to(app: App, chat_id: int, label: str) -> list[str]:
    return [m.text for m in team_messages(app, chat_id) if label in m.text and m.buttons]


def _intake_until_goals(
    user: Participant, phq: list[int], gad: list[int], age: str = "30–49", impact: str = "En del"
) -> None:
    user.press("Ja, vi fortsetter")
    user.press(age)
    user.press(impact)
    answer_measure(user, phq)
    answer_measure(user, gad)


def _finish_intake(user: Participant) -> None:
    user.send("Sove bedre")
    user.press_index(3)
    user.send("18:30")
    user.press_index(0)


# -- scores and eligibility outside the norm ------------------------------------------


def test_a_severe_baseline_needs_assessment_with_loshjelp_and_no_crisis_text(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(4001, "K-4001")
    _intake_until_goals(user, PHQ_20, GAD_15)

    [alert] = user.alerts()
    assert (alert.signal, alert.level, alert.week) == ("needs_assessment", "high", 1)
    assert shown_evidence(app, alert) == ["PHQ-9 = 20", "GAD-7 = 15"], "both scores join one alert"
    told = [t for t in user.texts() if LOSHJELP_NB in t]
    assert len(told) == 1, "the person is told once"
    assert "Veilederen din får beskjed og tar kontakt med deg" in told[0]
    assert "Dette er utgangspunktet ditt" in user.texts()[-2], "the intake goes on"
    _no_crisis(user)
    for chat in (TEAM, 501):
        [message] = _alerts_to(app, chat, "K-4001")
        assert "Trenger vurdering (viktig)" in message and "PHQ-9 = 20" in message
    _finish_intake(user)
    assert user.course().state == "active"


def test_a_later_severe_score_tells_the_person_their_clinician_hears_of_it(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(4002, "K-4002")
    do_intake(user, "nb", PHQ, GAD)
    assert user.alerts() == []
    go_to_next_checkin(app, clock, user)
    answer_measure(user, PHQ_20)
    answer_measure(user, GAD)

    assert [(a.signal, a.level) for a in user.alerts()] == [("severe_score", "high"), ("deterioration", "high")]
    told = [t for t in user.texts() if TOLD_NB in t]
    assert len(told) == 1, "one plain line, not one per signal"
    assert "Svarene dine viser at du har det tyngre nå" in told[0]
    _no_crisis(user)
    assert "Høy skår" in _alerts_to(app, 501, "K-4002")[0]


def test_item_9_still_brings_the_crisis_text_at_baseline(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(4003, "K-4003")
    _intake_until_goals(user, [3, 3, 3, 3, 2, 2, 2, 1, 1], GAD)
    assert sorted(a.signal for a in user.alerts()) == ["needs_assessment", "risk_answer"]
    assert any(t.startswith(CRISIS_NB) for t in user.texts())
    assert any(LOSHJELP_NB in t for t in user.texts())


def test_under_16_needs_assessment_and_the_intake_goes_on(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(4004, "K-4004")
    user.press("Ja, vi fortsetter")
    replies = user.press("Under 16")

    assert "vanligvis for dem som er 16 år eller eldre" in replies[0].text
    assert "Veilederen din får beskjed og tar kontakt med deg" in replies[0].text
    assert replies[-1].text.startswith("Hvor mye påvirker plagene"), "the next question follows"
    [alert] = user.alerts()
    assert (alert.signal, alert.level, shown_evidence(app, alert)) == ("needs_assessment", "high", ["age=under_16"])
    assert "Trenger vurdering" in _alerts_to(app, TEAM, "K-4004")[0]
    _no_crisis(user)

    replies = user.press("Så mye at jeg nesten ikke klarer meg")
    assert replies[0].text == "Takk for at du er ærlig om det. Det får veilederen din også vite."
    [alert] = user.alerts()
    assert shown_evidence(app, alert) == ["age=under_16", "impact=overwhelming"]
    answer_measure(user, PHQ_20)
    answer_measure(user, GAD)
    assert not any(LOSHJELP_NB in t for t in user.texts()), "already told in this intake"
    assert shown_evidence(app, user.alerts()[0])[-1] == "PHQ-9 = 20"
    _no_crisis(user)


def test_overwhelming_problems_alone_get_the_full_loshjelp_text_in_english(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(4005, "K-4005", language="en")
    user.press("Yes, let's go on")
    user.press("30–49")
    replies = user.press_index(3)  # so much that I can hardly cope
    assert "whether this course is right for you now" in replies[0].text
    assert [a.signal for a in user.alerts()] == ["needs_assessment"]
    _no_crisis(user)


# -- "worse" in the evaluations, and a missed check-in ------------------------------


def _to_closing(app: App, clock: FakeClock, user: Participant) -> None:
    for _week in range(2, 6):
        go_to_next_checkin(app, clock, user)
        do_checkin(user, PHQ, GAD)
    go_to_next_checkin(app, clock, user)
    assert user.course().state == "closing"


def test_worse_in_the_closing_raises_a_high_alert_and_tells_the_person(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(4006, "K-4006")
    do_intake(user, "nb", PHQ, GAD)
    _to_closing(app, clock, user)
    answer_measure(user, PHQ)
    answer_measure(user, GAD)
    user.press_index(0)
    for text in (
        "Å se tankene mine",
        "Aktivitetsplanen",
        "Jeg trekker meg unna",
        "Gå tur",
        "Søsteren min",
        "Barna mine",
    ):
        user.send(text)
    user.press("Alt")
    replies = user.press("Verre")

    assert "Jeg gir beskjed til veilederen din" in replies[0].text
    assert replies[-1].text == "Hva tror du er grunnen til det?"
    [alert] = user.alerts()
    assert (alert.signal, alert.level, shown_evidence(app, alert)) == ("worse", "high", ["better_worse=worse"])
    assert "Opplever seg verre (viktig)" in _alerts_to(app, 501, "K-4006")[0]
    _no_crisis(user)
    assert user.answers()["better_worse"] == "worse"


def test_a_first_missed_checkin_leaves_a_notice_and_the_second_is_the_dropout(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(4007, "K-4007")
    do_intake(user, "nb", PHQ, GAD)
    go_to_next_checkin(app, clock, user)
    opened = clock.now()
    clock.set(opened + timedelta(days=7, seconds=1))
    while run_due_timers(app):
        pass

    [alert] = user.alerts()
    assert (alert.signal, alert.level, alert.next_resend_at) == ("missed_checkin", "notice", None)
    [notice] = _alerts_to(app, 501, "K-4007")
    assert "Uteblitt ukesamtale (til orientering)" in notice and "uke 2" in notice
    assert any("ble ikke noe av" in m.text for m in user.receive())
    _no_crisis(user)

    clock.set(opened + timedelta(days=10))
    assert run_due_timers(app) == 1  # the reminder only: a notice is not re-sent
    assert len(_alerts_to(app, 501, "K-4007")) == 1

    clock.set(opened + timedelta(days=14, seconds=2))
    while run_due_timers(app):
        pass
    assert [a.signal for a in user.alerts()] == ["missed_checkin", "disengagement"]
    user.receive()
    user.press("Ja, det går fint")
    user.press("Nesten ingenting")
    answer_measure(user, PHQ)  # the full forms at dropout
    answer_measure(user, GAD)
    user.press("Det hjalp meg ikke")
    replies = user.press("Verre")
    assert "Jeg gir beskjed til veilederen din" in replies[0].text
    assert [a.signal for a in user.alerts()] == ["missed_checkin", "disengagement", "worse"]
    _no_crisis(user)


# -- the safety plan --------------------------------------------------------------------


def _make_plan(user: Participant, answers: tuple[str, ...] = PLAN) -> list[str]:
    replies = user.send("/safetyplan")
    assert "Du har ikke laget en sikkerhetsplan ennå" in replies[-1].text
    questions = [user.press("Ja, la oss lage den")[-1].text]
    for number, text in enumerate(answers, start=1):
        if number == 5:
            assert "legevakten på 116 117" in questions[-1] and "veilederen din" in questions[-1]
            questions.append(user.press("Ja, legg til noen")[-1].text)
        questions.append(user.send(text)[-1].text)
    return questions


def test_safetyplan_walks_the_seven_steps_and_the_case_shows_them(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(4008, "K-4008")
    do_intake(user, "nb", PHQ, GAD)
    questions = _make_plan(user)

    assert "faresignalene dine" in questions[0]
    assert "selv for å få det litt bedre" in questions[1]
    assert "pause fra tankene" in questions[2]
    assert "be om hjelp" in questions[3]
    assert "omgivelsene dine tryggere" in questions[6]
    assert "noe å leve for" in questions[7]
    plan = user.texts()[-2]
    assert user.texts()[-3].startswith("Takk for at du tok deg tid")
    for heading in (
        "1. Faresignalene dine",
        "2. Det du kan gjøre selv",
        "3. Folk og steder som gir deg en pause",
        "4. Folk du kan be om hjelp",
        "5. Fagfolk og hjelpetelefoner",
        "6. Slik gjør du omgivelsene",
        "7. Det du lever for",
    ):
        assert heading in plan
    for text in PLAN:
        assert text in plan
    assert "• Veilederen din\n• Fastlegen min\n• Legevakten: 116 117" in plan
    assert "Del den gjerne med noen du stoler på" in user.last().text
    answers = user.answers()
    assert answers["warning_signs"] == PLAN[0] and answers["worse_plan"] == PLAN[1]
    assert [
        answers[f"safety_{k}"] for k in ("distraction", "people", "professionals", "surroundings", "reasons")
    ] == list(PLAN[2:])
    assert user.course().flow is None and user.course().state == "active"

    case = "\n".join(m.text for m in kari.send("/case K-4008"))
    assert "Sikkerhetsplanen til K-4008 (sist endret i uke 2)" in case
    assert f"1. Faresignaler: {PLAN[0]}" in case and f"2. Egne mestringsstrategier: {PLAN[1]}" in case
    assert f"3. Folk og steder som gir avledning: {PLAN[2]}" in case
    assert f"4. Folk å be om hjelp: {PLAN[3]}" in case
    assert f"hjelpetelefonene, i tillegg: {PLAN[4]}" in case
    assert f"6. Tryggere omgivelser: {PLAN[5]}" in case and f"7. Grunner til å leve: {PLAN[6]}" in case

    # With a plan, /safetyplan shows it and offers to change one step.
    replies = user.send("/safetyplan")
    assert "4. Folk du kan be om hjelp\nSøsteren min og naboen" in replies[0].text
    user.press("Ja, endre noe")
    replies = user.press("4. Folk du kan be om hjelp")
    assert replies[-1].text.startswith("Nå står det: «Søsteren min og naboen»")
    replies = user.send("Søsteren min, naboen og Kari fra jobben")
    assert replies[-1].text.startswith("Hvilket punkt vil du endre?")
    user.press("Ferdig")
    assert "Søsteren min, naboen og Kari fra jobben" in user.texts()[-2]
    assert user.answers()["safety_people"] == "Søsteren min, naboen og Kari fra jobben"
    assert user.answers()["warning_signs"] == PLAN[0]
    _no_crisis(user)


def test_safetyplan_without_a_plan_can_wait(app: App) -> None:
    user = Participant(app, 4009)
    user.start_with_new_code(label="K-4009")
    do_intake(user, "nb", PHQ, GAD)
    user.send("/safetyplan")
    replies = user.press("Ikke nå")
    assert replies[-1].text == "Det er helt i orden. Skriv /safetyplan når du vil lage den."
    assert user.course().flow is None


def test_safetyplan_in_the_middle_of_a_checkin_shows_the_plan_and_the_checkin_goes_on(
    app: App, clock: FakeClock
) -> None:
    user = Participant(app, 4010)
    user.start_with_new_code(label="K-4010")
    do_intake(user, "nb", PHQ, GAD)
    go_to_next_checkin(app, clock, user)
    answer_measure(user, PHQ[:3])
    question = user.last().text

    replies = user.send("/safetyplan")
    assert "Du har ikke laget en sikkerhetsplan ennå" in replies[0].text
    assert "skriv /safetyplan da" in replies[0].text and "116 123" in replies[0].text
    assert replies[-1].text == question and user.course().flow == "checkin"

    do_checkin(user, PHQ[3:], GAD)
    assert user.course().state == "active" and user.course().flow is None
    _make_plan(user)
    go_to_next_checkin(app, clock, user)
    replies = user.send("/safetyplan")
    assert "1. Faresignalene dine\n" + PLAN[0] in replies[0].text
    assert "når vi er ferdige med denne samtalen" in replies[1].text
    assert replies[-1].labels()[0] == "Ikke i det hele tatt", "the check-in question again"
    assert user.course().flow == "checkin"


def test_the_closing_asks_only_the_core_steps_still_missing(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(4011, "K-4011")
    do_intake(user, "nb", PHQ, GAD)
    user.send("/safetyplan")
    user.press("Ja, la oss lage den")
    user.send(PLAN[0])
    user.send(PLAN[1])
    clock.advance(days=3)  # past the first gap (schedule.yaml: first_checkin_min_days)
    user.send("/checkin")  # a new conversation takes over; steps 1 and 2 are kept
    assert user.course().flow == "checkin"
    do_checkin(user, PHQ, GAD)
    for _week in range(3, 6):
        go_to_next_checkin(app, clock, user)
        do_checkin(user, PHQ, GAD)
    go_to_next_checkin(app, clock, user)
    answer_measure(user, PHQ)
    answer_measure(user, GAD)
    user.press_index(0)
    user.send("Å se tankene mine")
    replies = user.send("Aktivitetsplanen")

    assert "Jeg spør bare om det som mangler i planen din" in replies[0].text
    assert "Hvem kan du be om hjelp" in replies[-1].text, "steps 1 and 2 are already there"
    replies = user.send("Søsteren min")
    assert "noe å leve for" in replies[-1].text
    replies = user.send("Barna mine")
    assert "Sikkerhetsplanen din ligger her" in replies[0].text
    assert "fylle ut resten" in replies[0].text, "steps 3 and 6 are still empty"
    assert replies[-1].text == "Hvor mye av programmet kom du gjennom?"
    answers = user.answers()
    assert (answers["warning_signs"], answers["worse_plan"]) == PLAN[:2]
    assert (answers["safety_people"], answers["safety_reasons"]) == ("Søsteren min", "Barna mine")
    assert "safety_distraction" not in answers


@pytest.mark.parametrize("locale", ["nb", "en"])
def test_the_closing_with_a_whole_plan_asks_nothing_more(app: App, clock: FakeClock, locale: str) -> None:
    user = Participant(app, 4012, language=locale)
    user.start_with_new_code(label="K-4012")
    do_intake(user, locale, PHQ, GAD)
    replies = user.send("/safetyplan")
    user.press_index(0)  # yes
    for number, text in enumerate(PLAN, start=1):
        if number == 5:
            user.press_index(1)  # no one to add
            continue
        user.send(text)
    assert "safety_professionals" not in user.answers()
    plan = user.texts()[-2]
    assert ("• Veilederen din\n• Legevakten" if locale == "nb" else "• Your clinician\n• Out-of-hours") in plan
    _to_closing(app, clock, user)
    answer_measure(user, PHQ)
    answer_measure(user, GAD)
    user.press_index(0)
    user.send("Å se tankene mine")
    replies = user.send("Aktivitetsplanen")
    assert (
        "Du har allerede laget en sikkerhetsplan" if locale == "nb" else "You have already made a safety plan"
    ) in replies[0].text
    assert replies[-1].labels() == (
        ["Alt", "Det meste", "Noe av det"] if locale == "nb" else ["All of it", "Most of it", "Some of it"]
    )
    assert replies
