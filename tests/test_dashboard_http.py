"""The web dashboard over HTTP, in the `guidebot run` process, with the link from /dashboard in Telegram."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import aiohttp
from sqlmodel import col, select
from yarl import URL

from bot.app import build_app
from bot.clinicians.report import outcome_rows
from bot.clock import FakeClock
from bot.dashboard.tokens import handle_for
from bot.dialogs.store import DialogStore
from bot.ops.audit_views import case_views
from bot.storage.db import transaction
from bot.storage.models import Alert, AuditEntry, Clinician, Course, DashboardLink, DashboardSession
from tests.fakes import FakeTelegram
from tests.support.clinician import add_clinician
from tests.support.dashboard import KARI, LINK, PER, WebClient, dashboard_bot, login_link
from tests.support.settings import make_settings
from tests.support.telegram_harness import BotProcess, Running, free_port, running_bot

PAGES = ("/dashboard/cases", "/dashboard/cases?scope=all", "/dashboard/alerts", "/dashboard/report")
LABELS = ("K-A", "K-B", "K-C")


async def test_dashboard_sends_a_one_time_link_that_names_nobody(
    database_url: str, clock: FakeClock, shipped_dialogs: DialogStore
) -> None:
    async with dashboard_bot(database_url, clock, shipped_dialogs) as tg:
        add_clinician(tg.app, KARI, "Kari")
        link = await login_link(tg)
        assert link.startswith(tg.app.settings.dashboard_url + "/login/")
        token = link.rsplit("/", 1)[1]
        assert len(token) >= 40 and "Kari" not in link
        reply = tg.chat(KARI).texts()[-1] or ""
        until = (clock.now() + timedelta(minutes=10)).astimezone(ZoneInfo("Europe/Oslo"))
        assert f"10 minutter, til kl. {until:%H.%M}." in reply, reply
        with transaction(tg.app.db) as session:
            stored = session.exec(select(DashboardLink)).one()
        assert token not in stored.token_hash and len(stored.token_hash) == 64
        async with WebClient(tg) as web:
            first = await web.sign_in_with(link)
            assert first.status == 200 and first.url.endswith("/dashboard/cases")
            again = await web.post("/dashboard/login", {"token": token})
            assert again.status == 410 and "allerede brukt" in again.text
            reopened = await web.get(link)
            assert reopened.status == 410


async def test_opening_the_link_uses_nothing_up_and_the_press_sets_a_strict_cookie(
    sqlite_url: str, clock: FakeClock, shipped_dialogs: DialogStore
) -> None:
    async with dashboard_bot(sqlite_url, clock, shipped_dialogs) as tg, WebClient(tg) as web:
        add_clinician(tg.app, KARI, "Kari")
        link = await login_link(tg)
        for _ in range(2):  # a link preview, then the clinician
            opened = await web.get(link)
            assert opened.status == 200 and "Logg inn" in opened.text and "som Kari" in opened.text
        async with web.session.post(
            web.url("/dashboard/login"), data={"token": link.rsplit("/", 1)[1]}, allow_redirects=False
        ) as response:
            assert response.status == 303 and response.headers["Location"] == "/dashboard/cases"
            cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/dashboard" in cookie
        assert "Secure" not in cookie, "plain http on a closed network: a Secure cookie would never come back"


async def test_the_cookie_is_secure_behind_https(
    sqlite_url: str, clock: FakeClock, shipped_dialogs: DialogStore
) -> None:
    public = "https://veileder.example.no/panel"
    async with dashboard_bot(sqlite_url, clock, shipped_dialogs, dashboard_url=public) as tg:
        add_clinician(tg.app, KARI, "Kari")
        link = await login_link(tg)
        assert link.startswith("https://veileder.example.no/panel/login/")
        port = tg.bot.dashboard.port if tg.bot.dashboard else 0
        async with WebClient(tg) as web:
            local = f"http://127.0.0.1:{port}/panel/login"
            async with web.session.post(
                local,
                data={"token": link.rsplit("/", 1)[1]},
                headers={"Origin": "https://veileder.example.no"},
                allow_redirects=False,
            ) as response:
                assert response.status == 303 and response.headers["Location"] == "/panel/cases"
                assert "Secure" in response.headers["Set-Cookie"]


async def test_a_link_expires_after_ten_minutes(
    sqlite_url: str, clock: FakeClock, shipped_dialogs: DialogStore
) -> None:
    async with dashboard_bot(sqlite_url, clock, shipped_dialogs) as tg, WebClient(tg) as web:
        add_clinician(tg.app, KARI, "Kari")
        link = await login_link(tg)
        clock.advance(minutes=10, seconds=1)
        assert (await web.get(link)).status == 410
        assert (await web.post("/dashboard/login", {"token": link.rsplit("/", 1)[1]})).status == 410
        assert (await web.get("/dashboard/cases")).status == 401


async def test_an_anonymous_browser_sees_no_case_data(
    caseload_url: str, clock: FakeClock, shipped_dialogs: DialogStore
) -> None:
    async with dashboard_bot(caseload_url, clock, shipped_dialogs) as tg, WebClient(tg) as web, WebClient(tg) as kari:
        case_path = (await kari.sign_in()).case_links()["K-B"]
        for path in (*PAGES, "/dashboard/report.csv", case_path, "/dashboard/"):
            page = await web.get(path)
            assert page.status == 401, path
            assert not any(label in page.text for label in LABELS), path
            assert "/dashboard" in page.text, "it says how to sign in"
        web.session.cookie_jar.update_cookies({"guidebot_dashboard": "made-up-token"})
        assert (await web.get("/dashboard/cases")).status == 401
        alert_id = _open_alert_ids(tg)[0]
        refused = await web.post("/dashboard/alerts/ack", {"csrf": "0" * 64, "alert": str(alert_id), "back": "alerts"})
        assert refused.status in (401, 403)
        assert _open_alert_ids(tg) == [alert_id]


async def test_pages_send_a_strict_content_security_policy(
    sqlite_url: str, clock: FakeClock, shipped_dialogs: DialogStore
) -> None:
    async with dashboard_bot(sqlite_url, clock, shipped_dialogs) as tg, WebClient(tg) as web:
        add_clinician(tg.app, KARI, "Kari")
        for page in (await web.get("/dashboard/cases"), await web.sign_in(), await web.get("/dashboard/nothing")):
            policy = page.headers["Content-Security-Policy"]
            assert (
                "default-src 'none'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
            )
            assert page.headers["Cache-Control"] == "no-store" and page.headers["X-Content-Type-Options"] == "nosniff"
            assert "<script>" not in page.text and " style=" not in page.text and " onclick" not in page.text


async def test_the_caseload_shows_own_cases_with_open_alerts_first(
    caseload_url: str, clock: FakeClock, shipped_dialogs: DialogStore
) -> None:
    async with dashboard_bot(caseload_url, clock, shipped_dialogs) as tg, WebClient(tg) as web:
        page = await web.sign_in()
        assert page.status == 200 and "<h1>Sakene dine</h1>" in page.text
        links = page.case_links()
        assert list(links) == ["K-B", "K-A"], "the open alert first; Per's case is not in Kari's list"
        row = _row(page.text, "K-A")
        assert "Depresjon og nedstemthet" in row and "3 av 6" in row
        assert '10 <span aria-hidden="true">↓</span>' in row and "sunket siden forrige måling" in row
        assert '7 <span aria-hidden="true">↓</span>' in row and "1 av 1" in row
        assert "Ber om kontakt" in _row(page.text, "K-B")
        for label, path in links.items():
            assert label not in path
        everyone = await web.get("/dashboard/cases?scope=all")
        assert set(everyone.case_links()) == {"K-A", "K-B"}, "need-to-know: Per's K-C is not Kari's to see"


async def test_a_clinician_cannot_open_a_colleagues_case_and_an_admin_sees_all(
    caseload_url: str, clock: FakeClock, shipped_dialogs: DialogStore
) -> None:
    async with dashboard_bot(caseload_url, clock, shipped_dialogs) as tg, WebClient(tg) as kari, WebClient(tg) as per:
        await kari.sign_in()
        assert "K-C" not in (await kari.get("/dashboard/cases?scope=all")).case_links()
        per_page = await per.sign_in(PER)
        assert set(per_page.case_links()) == {"K-C"}
        # Kari cannot see K-C even with a handle minted for her own session.
        with transaction(tg.app.db) as session:
            course = session.exec(select(Course).where(Course.label == "K-C")).one()
            kari_login = session.exec(select(DashboardSession).order_by(col(DashboardSession.id))).first()
            assert kari_login is not None and course.id is not None
            forged = f"/dashboard/cases/{handle_for(kari_login, course.id)}"
        refused = await kari.get(forged)
        assert refused.status == 404 and "K-C" not in refused.text
        with transaction(tg.app.db) as session:
            boss = session.exec(select(Clinician).where(Clinician.telegram_id == KARI)).one()
            boss.is_admin = True
        assert (await kari.get(forged)).status == 200, "an admin sees every case"
        assert "K-C" in (await kari.get("/dashboard/cases?scope=all")).case_links()


async def test_the_case_page_shows_the_whole_case_and_every_view_is_audited(
    caseload_url: str, clock: FakeClock, shipped_dialogs: DialogStore
) -> None:
    async with dashboard_bot(caseload_url, clock, shipped_dialogs) as tg, WebClient(tg) as web:
        caseload = await web.sign_in()
        case = await web.get(caseload.case_links()["K-A"])
        assert case.status == 200 and "<h1>Sak K-A</h1>" in case.text
        svg = re.search(r"<svg .*?</svg>", case.text, re.S)
        assert svg is not None
        chart = svg.group(0)
        assert 'role="img"' in chart and "<title" in chart and "PHQ-9: uke 1 12, uke 2 10" in chart
        assert chart.count("<circle") == 4, "two weeks of PHQ-9 and GAD-7"
        assert "lite eller ingen plager" in chart, "the severity bands are named"
        assert "<caption" in case.text and "Uke 2" in case.text and "Del 1 og 2, aktivitetsdagbok" in case.text
        assert "Sove bedre og komme meg ut hver dag" in case.text, "the goals"
        assert "AKTUELT" in case.text and "VURDERING" in case.text and "TILTAK" in case.text
        assert 'id="message-thread"' in case.text
        await web.get(caseload.case_links()["K-A"])
        with transaction(tg.app.db) as session:
            views = session.exec(
                select(AuditEntry).where(AuditEntry.action == "case_viewed").order_by(col(AuditEntry.id))
            ).all()
            listed = case_views(session, "k-a")
        assert [(v.subject, v.detail.get("channel")) for v in views] == [("K-A", "dashboard")] * 2
        assert all(v.actor.startswith("clinician:") for v in views)
        assert [(v["name"], v["where"]) for v in listed] == [("Kari", "dashboard")] * 2, "what /views lists"


async def test_a_case_link_works_only_in_its_own_session(
    caseload_url: str, clock: FakeClock, shipped_dialogs: DialogStore
) -> None:
    async with dashboard_bot(caseload_url, clock, shipped_dialogs) as tg, WebClient(tg) as kari, WebClient(tg) as per:
        path = (await kari.sign_in()).case_links()["K-A"]
        await per.sign_in(PER)
        assert (await per.get(path)).status == 404
        assert (await kari.get("/dashboard/cases/AAAAAAAAAAAA")).status == 404
        assert (await kari.get(path)).status == 200


async def test_acknowledging_an_alert_from_the_page_tells_the_team(
    caseload_url: str, clock: FakeClock, shipped_dialogs: DialogStore
) -> None:
    async with dashboard_bot(caseload_url, clock, shipped_dialogs) as tg, WebClient(tg) as web:
        await web.sign_in()
        alerts = await web.get("/dashboard/alerts")
        alert_id = _open_alert_ids(tg)[0]
        assert f"#{alert_id} Ber om kontakt" in alerts.text
        forged = await web.post("/dashboard/alerts/ack", {"csrf": "0" * 64, "alert": str(alert_id), "back": "alerts"})
        assert forged.status == 403 and _open_alert_ids(tg) == [alert_id]
        elsewhere = await web.post(
            "/dashboard/alerts/ack",
            {"csrf": alerts.csrf, "alert": str(alert_id), "back": "alerts"},
            headers={"Origin": "https://evil.example"},
        )
        assert elsewhere.status == 403 and _open_alert_ids(tg) == [alert_id]
        done = await web.post("/dashboard/alerts/ack", {"csrf": alerts.csrf, "alert": str(alert_id), "back": "alerts"})
        assert done.status == 200 and "Varselet er kvittert" in done.text and "Ingen åpne varsler" in done.text
        assert _open_alert_ids(tg) == []
        team = tg.server.group(-1001)
        await team.wait_for_message(lambda m: "er kvittert av Kari" in (m.text or ""))
        again = await web.post("/dashboard/alerts/ack", {"csrf": alerts.csrf, "alert": str(alert_id), "back": "alerts"})
        assert "allerede kvittert" in again.text


async def test_a_session_ends_when_idle_after_eight_hours_or_at_logout(
    sqlite_url: str, clock: FakeClock, shipped_dialogs: DialogStore
) -> None:
    async with dashboard_bot(sqlite_url, clock, shipped_dialogs) as tg, WebClient(tg) as web:
        add_clinician(tg.app, KARI, "Kari")
        page = await web.sign_in()
        for _ in range(3):
            clock.advance(minutes=29)
            assert (await web.get("/dashboard/cases")).status == 200, "still in use"
        clock.advance(minutes=30)
        assert (await web.get("/dashboard/cases")).status == 401, "30 idle minutes"

        page = await web.sign_in()
        for _ in range(16):
            clock.advance(minutes=29)
            assert (await web.get("/dashboard/alerts")).status == 200
        clock.advance(minutes=29)
        assert (await web.get("/dashboard/alerts")).status == 401, "8 hours at most"

        page = await web.sign_in()
        cookie = web.session.cookie_jar.filter_cookies(URL(web.url("/dashboard/cases")))["guidebot_dashboard"].value
        out = await web.post("/dashboard/logout", {"csrf": page.csrf})
        assert out.status == 200 and "logget ut" in out.text
        web.session.cookie_jar.update_cookies({"guidebot_dashboard": cookie})
        assert (await web.get("/dashboard/cases")).status == 401, "the old cookie is dead"
        with transaction(tg.app.db) as session:
            assert all(cookie not in s.token_hash for s in session.exec(select(DashboardSession)).all())


async def test_a_colleague_covering_sees_the_cases_on_the_dashboard_until_the_owner_is_back(
    caseload_url: str, clock: FakeClock, shipped_dialogs: DialogStore
) -> None:
    async with dashboard_bot(caseload_url, clock, shipped_dialogs) as tg, WebClient(tg) as per:
        assert sorted((await per.sign_in(PER)).case_links()) == ["K-C"]
        until = (clock.now() + timedelta(days=3)).date().isoformat()
        await tg.chat(KARI).send(f"/away {until} Per")
        covering = await per.get("/dashboard/cases")
        assert sorted(covering.case_links()) == ["K-A", "K-B", "K-C"]
        path = covering.case_links()["K-A"]
        assert (await per.get(path)).status == 200
        await tg.chat(KARI).send("/back")
        assert sorted((await per.get("/dashboard/cases")).case_links()) == ["K-C"]
        assert (await per.get(path)).status == 404, "the case is Kari's again"


async def test_report_page_and_csv_show_the_same_figures_as_the_cli(
    caseload_url: str, clock: FakeClock, shipped_dialogs: DialogStore
) -> None:
    async with dashboard_bot(caseload_url, clock, shipped_dialogs) as tg, WebClient(tg) as web:
        await web.sign_in()
        page = await web.get("/dashboard/report")
        assert page.status == 200 and "<table" in page.text and 'id="rate-chart"' in page.text
        assert "Alle programmer" in page.text and "Depresjon og nedstemthet" in page.text
        download = await web.get("/dashboard/report.csv")
        assert download.status == 200 and "attachment" in download.headers["Content-Disposition"]
        with transaction(tg.app.db) as session:
            expected = outcome_rows(session, tg.app.dialogs.current.dialogs, by_clinician=True)  # as the CLI
        rows = list(csv.DictReader(io.StringIO(download.text)))
        assert [(r["program"], r["clinician"]) for r in rows] == [
            (r["program"], r.get("clinician") or "") for r in expected
        ]
        assert [r["clinician"] for r in rows[-2:]] == ["Kari", "Per"]  # Kari owns K-A and K-B, Per K-C
        assert [r["started"] for r in rows[-3:]] == [str(e["started"]) for e in expected[-3:]] == ["3", "2", "1"]
        # The page's second table: one column per clinician, the same figures.
        per_clinician = page.text.split('id="clinician-caption"', 1)[1]
        assert "Resultater per veileder" in per_clinician
        heads = re.findall(r'<th scope="col" class="figure">([^<]+)</th>', per_clinician)
        assert heads == ["Kari", "Per"]
        started = re.search(r"<th scope=\"row\">Startet</th>\s*(.*?)</tr>", per_clinician, re.S)
        assert started is not None and re.findall(r">(\d+)</td>", started.group(1)) == ["2", "1"]


async def test_dashboard_without_the_setting_says_it_is_off_and_strangers_are_refused(
    sqlite_url: str, clock: FakeClock, shipped_dialogs: DialogStore
) -> None:
    async with running_bot(sqlite_url, clock, dialogs=shipped_dialogs) as tg:
        add_clinician(tg.app, KARI, "Kari")
        assert tg.bot.dashboard is None
        reply = await tg.chat(KARI).send("/dashboard")
        assert "ikke slått på" in (reply[-1].text or "")
        stranger = await tg.chat(777).send("/dashboard")
        assert (stranger[-1].text or "").startswith("Beklager, det er ikke tilgjengelig")


def _open_alert_ids(tg: Running) -> list[int]:
    with transaction(tg.app.db) as session:
        query = select(Alert.id).where(col(Alert.acknowledged_at).is_(None)).order_by(col(Alert.id))
        return [int(i) for i in session.exec(query).all() if i is not None]


def _row(html: str, label: str) -> str:
    found = re.search(rf"<tr[^>]*>\s*<th scope=\"row\"><a [^>]*>{re.escape(label)}</a>.*?</tr>", html, re.S)
    assert found is not None, label
    return found.group(0)


async def test_guidebot_run_serves_the_dashboard_from_its_settings(sqlite_url: str, clock: FakeClock) -> None:
    setup = build_app(make_settings(sqlite_url), clock, run_migrations=False)
    try:
        add_clinician(setup, KARI, "Kari")
    finally:
        setup.db.dispose()
    port = free_port()
    async with FakeTelegram() as server:
        process = BotProcess(
            server,
            sqlite_url,
            GUIDEBOT_DASHBOARD_LISTEN=f"127.0.0.1:{port}",
            GUIDEBOT_DASHBOARD_URL=f"http://127.0.0.1:{port}/dashboard",
        )
        await process.start()
        try:
            kari = server.user(KARI)
            await kari.send("/dashboard")
            reply = await kari.wait_for_message(lambda m: "/login/" in (m.text or ""), timeout=30)
            link = LINK.search(reply.text or "")
            assert link is not None
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
                async with browser.get(link.group(0)) as opened:
                    assert opened.status == 200
                token = link.group(0).rsplit("/", 1)[1]
                async with browser.post(f"http://127.0.0.1:{port}/dashboard/login", data={"token": token}) as page:
                    assert page.status == 200 and "Sakene dine" in await page.text()
        finally:
            assert await process.stop() == 0
        assert "Traceback" not in process.stderr and token not in process.stderr
