"""/cases and /case: the caseload at a glance, and one case in full."""

from __future__ import annotations

from bot.charts import score_chart
from bot.clinicians.access import may_view_case
from bot.clinicians.caseload import ScoreSeries, caseload, summarize
from bot.clinicians.desk import Desk
from bot.clinicians.facts import case_facts, instrument_order, safety_plan_facts, shown_answers
from bot.clinicians.notes import draft_note
from bot.engine.alerts import alert_view
from bot.engine.messages import thread
from bot.storage.models import Alert, Course


def show_cases(desk: Desk, args: str) -> None:
    """The clinician's own open cases, or the whole team's with `/cases all` (the word in any locale)."""
    everyone = _means_everyone(desk, args)
    covering = desk.covering()
    summaries = caseload(desk.session, None if everyone else desk.clinician.id, covering)
    if everyone:
        summaries = [s for s in summaries if may_view_case(desk.clinician, s.course, covering)]
    desk.audit("cases_viewed", None, scope="all" if everyone else "own", count=len(summaries))
    if not summaries:
        desk.reply("clinician.cases.none_all" if everyone else "clinician.cases.none")
        return
    rows = [desk.text("clinician.cases.row", case=case_facts(desk, s)) for s in summaries]
    header = desk.text("clinician.cases.header", count=len(rows), everyone=everyone)
    desk.send("\n\n".join([header, *rows]))


def show_case(desk: Desk, course: Course, *, chat_id: int | None = None, alert: Alert | None = None) -> None:
    """Everything about one case: the course so far, a chart, the answers and a draft note.

    The open alerts (and `alert`, the one whose button was pressed, even if acknowledged)
    come with the whole messages that raised them. Only ever sent to a private chat.
    """
    summary = summarize(desk.session, [course])[0]
    target = desk.chat_id if chat_id is None else chat_id
    facts = case_facts(desk, summary)
    shown = list(summary.open_alerts)
    if alert is not None and alert.id not in {a.id for a in shown}:
        shown.append(alert)
    alerts = [alert_view(desk.turn, a, private=True) for a in shown]
    about = course.id  # every message of the view goes with the course on /delete
    desk.send(desk.text("clinician.case.summary", case=facts, alerts=alerts), chat_id=target, about=about)
    chart = _chart(desk, course, summary.scores)
    if chart is not None:
        desk.turn.out.photo(target, chart, desk.text("clinician.case.chart_caption", case=facts), course_id=about)
    answers = shown_answers(desk, course)
    if answers:
        desk.send(desk.text("clinician.case.answers", case=facts, answers=answers), chat_id=target, about=about)
    messages = thread(desk.turn, course, desk.turn.config.tz)
    if messages:
        desk.send(desk.text("messages.case_thread", case=facts, messages=messages), chat_id=target, about=about)
    plan = safety_plan_facts(desk, course)
    if plan is not None:
        desk.send(desk.text("clinician.case.safety_plan", case=facts, plan=plan), chat_id=target, about=about)
    note = draft_note(desk, summary)
    desk.send(note, chat_id=target, about=about)
    desk.audit("case_viewed", course.label, channel="telegram")


def _means_everyone(desk: Desk, args: str) -> bool:
    word = args.strip().casefold()
    words = {desk.turn.renderer.render(locale, "clinician.cases.everyone", {}) for locale in desk.turn.dialogs.locales}
    return bool(word) and word in {w.casefold() for w in words}


def _chart(desk: Desk, course: Course, scores: dict[str, ScoreSeries]) -> bytes | None:
    by_week = {name: dict(scores[name].points) for name in instrument_order(desk.turn.dialogs) if name in scores}
    texts = {
        "title": desk.text("clinician.case.chart_title", label=course.label),
        "week": desk.text("chart.week"),
        "total": desk.text("chart.total"),
    }
    return score_chart(desk.turn.dialogs, by_week, desk.locale, texts)


def case_of_alert(desk: Desk, alert_id: int) -> Course | None:
    alert = desk.session.get(Alert, alert_id)
    if alert is None or alert.course_id is None:
        return None
    return desk.session.get(Course, alert.course_id)


def show_alert_case(desk: Desk, alert_id: int, *, chat_id: int) -> bool:
    """The "Show case" button: the case of the alert, or for an alert from a chat with no
    course, the alert itself with its whole messages. False if there is no such alert."""
    alert = desk.session.get(Alert, alert_id)
    if alert is None:
        return False
    course = desk.session.get(Course, alert.course_id) if alert.course_id is not None else None
    if course is not None and not may_view_case(desk.clinician, course, desk.covering()):
        desk.audit("case_access_refused", course.label, command="alert_button")
        desk.send(desk.text("owners.not_yours", label=course.label), chat_id=chat_id)
        return True
    if course is not None:
        show_case(desk, course, chat_id=chat_id, alert=alert)
        return True
    desk.send(desk.text("clinician.case.alert_only", alert=alert_view(desk.turn, alert, private=True)), chat_id=chat_id)
    desk.audit("alert_viewed", alert.label, alert_id=alert.id, channel="telegram")
    return True
