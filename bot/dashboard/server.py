"""The dashboard's web server, in the `guidebot run` process (aiohttp, as the webhook).

Every request that shows case data needs a live session cookie; without one the
page says how to sign in and shows nothing else. Forms carry the session's CSRF
token, and a POST from another origin is refused. Pages send a strict
Content-Security-Policy (own styles and one own script, nothing inline), are never
cached, and are never framed. There is no access log: a login URL holds a token.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aiohttp import web
from sqlmodel import Session

from bot.app import App
from bot.channels.telegram.database import Database
from bot.clinicians.desk import Desk
from bot.clinicians.report import csv_fields
from bot.config import parse_listen
from bot.dashboard import pages, views
from bot.dashboard.command import LOGIN_PATH
from bot.dashboard.tokens import (
    course_of_handle,
    csrf_ok,
    csrf_token,
    end_session,
    pepper,
    signed_in,
    start_session,
    usable_link,
    well_formed,
)
from bot.engine.codes import audit
from bot.storage.models import Clinician

log = logging.getLogger(__name__)

T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

COOKIE = "guidebot_dashboard"
# A notice on the next page (?notice=...), and its text.
NOTICES = {
    "acknowledged": "dashboard.notice.acknowledged",
    "already": "dashboard.notice.already",
    "missing": "dashboard.notice.missing",
    "sent": "messages.dashboard_sent",
    "empty": "messages.dashboard_empty",
    "cannot": "messages.dashboard_cannot",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # no-referrer would make the browser send "Origin: null" with forms
    "Cache-Control": "no-store",
}
MAX_ALERT_DIGITS = 12


class NotSignedIn(Exception):
    """No live session: the page explains how to sign in, and shows nothing else."""


class NotFound(Exception):
    """No such page, or a case this clinician may not see: both look the same."""


class FormRefused(Exception):
    """A POST without the session's form token, or from another origin."""


class DashboardServer:
    def __init__(self, app: App, db: Database, wake_sender: Callable[[], None]) -> None:
        self.app = app
        self.settings = app.settings
        self.db = db
        self.wake_sender = wake_sender
        address = urlsplit(self.settings.dashboard_url)
        self.base = address.path.rstrip("/")
        self.secure = address.scheme == "https"
        self.origin = f"{address.scheme}://{address.netloc}"
        self.host, self.port = parse_listen(self.settings.dashboard_listen)
        self.key = pepper(self.settings)
        self.env = pages.environment(self.settings.locale)
        self.static = pages.static_files()
        self._runner: web.AppRunner | None = None

    # -- serving ---------------------------------------------------------------------

    async def start(self) -> None:
        site = web.Application(middlewares=[self._guard], client_max_size=64 * 1024)
        base = self.base
        routes = site.router
        routes.add_get(base or "/", self._home)
        if base:
            routes.add_get(base + "/", self._home)
        routes.add_get(base + LOGIN_PATH + "{token}", self._login_page)
        routes.add_post(base + "/login", self._login)
        routes.add_post(base + "/logout", self._logout)
        routes.add_get(base + "/signed-out", self._signed_out)
        routes.add_get(base + "/cases", self._cases)
        routes.add_get(base + "/cases/{handle}", self._case)
        routes.add_post(base + "/cases/{handle}/messages", self._write)
        routes.add_get(base + "/alerts", self._alerts)
        routes.add_post(base + "/alerts/ack", self._acknowledge)
        routes.add_get(base + "/report", self._report)
        routes.add_get(base + "/report.csv", self._report_csv)
        routes.add_get(base + "/static/{name}", self._static)
        self._runner = web.AppRunner(site, access_log=None, shutdown_timeout=5.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = int(self._runner.addresses[0][1])
        log.info("the dashboard is served on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if request.method == "POST" and request.headers.get("Origin", self.origin) != self.origin:
                raise FormRefused
            response = await handler(request)
        except NotSignedIn:
            response = self._message(401, "dashboard.login.title", "dashboard.login.expired")
            response.del_cookie(COOKIE, path=self.cookie_path)
        except (NotFound, web.HTTPNotFound):
            response = self._message(
                404, "dashboard.error.not_found_title", "dashboard.error.not_found", back_link=True
            )
        except FormRefused:
            response = self._message(403, "dashboard.error.form_title", "dashboard.error.form", back_link=True)
        response.headers.update(SECURITY_HEADERS)
        return response

    @property
    def cookie_path(self) -> str:
        return self.base or "/"

    def _redirect(self, path: str) -> web.Response:
        return web.Response(status=303, headers={"Location": self.base + path})

    # -- rendering -------------------------------------------------------------------

    def _anonymous_text(self, key: str, **values: Any) -> str:
        return self.app.dialogs.current.renderer.render(self.settings.locale, key, values)

    def _message(self, status: int, heading: str, body: str, *, back_link: bool = False) -> web.Response:
        """A page with one message and no case data, whoever asks."""
        html = pages.render(
            self.env,
            "message.html",
            text=self._anonymous_text,
            locale=self.settings.locale,
            base=self.base,
            heading=heading,
            body=body,
            back_link=back_link,
        )
        return web.Response(text=html, content_type="text/html", status=status)

    def _page(
        self, request: web.Request, desk: Desk, template: str, values: dict[str, Any], *, section: str | None = None
    ) -> web.Response:
        notice = request.query.get("notice")
        html = pages.render(
            self.env,
            template,
            text=desk.text,
            locale=desk.locale,
            base=self.base,
            clinician=desk.clinician.name,
            csrf=csrf_token(request.cookies.get(COOKIE, "")),
            section=section,
            notice=NOTICES.get(notice or ""),
            **values,
        )
        return web.Response(text=html, content_type="text/html")

    # -- the signed-in clinician -----------------------------------------------------

    async def _visit(self, request: web.Request, work: Callable[[views.Visit], T]) -> tuple[T, Desk]:
        """Run `work` for the signed-in clinician in one transaction; NotSignedIn without a live session."""
        token = request.cookies.get(COOKIE, "")
        if not well_formed(token):
            raise NotSignedIn

        def run(session: Session) -> tuple[T, Desk]:
            now = self.app.engine.clock.now()
            found = signed_in(session, token, now, self.key)
            if found is None:
                raise NotSignedIn
            visit = views.Visit(views.web_desk(self.app.engine, session, found.clinician, now), found.login)
            result = work(visit)
            session.add(found.login)  # seen now, and any new case handles
            return result, visit.desk

        return await self.db.run(run)

    async def _form(self, request: web.Request) -> dict[str, str]:
        """The posted fields, after checking the session's form token."""
        form = await request.post()
        fields = {name: value for name, value in form.items() if isinstance(value, str)}
        token = request.cookies.get(COOKIE, "")
        if not well_formed(token):
            raise NotSignedIn
        if not csrf_ok(token, fields.get("csrf", "")):
            raise FormRefused
        return fields

    # -- signing in and out ----------------------------------------------------------

    async def _home(self, _request: web.Request) -> web.StreamResponse:
        return self._redirect("/cases")

    async def _login_page(self, request: web.Request) -> web.StreamResponse:
        """Opening the link asks for one press: a link preview fetching the URL does not use it up."""
        token = request.match_info["token"]

        def check(session: Session) -> str | None:
            now = self.app.engine.clock.now()
            link = usable_link(session, token, now, self.key)
            if link is None:
                audit(session, now, "anonymous", "dashboard_link_refused", None)
                return None
            clinician = session.get(Clinician, link.clinician_id)
            return clinician.name if clinician is not None else None

        name = await self.db.run(check)
        if name is None:
            return self._message(410, "dashboard.login.refused_title", "dashboard.login.refused")
        html = pages.render(
            self.env,
            "login.html",
            text=self._anonymous_text,
            locale=self.settings.locale,
            base=self.base,
            name=name,
            token=token,
        )
        return web.Response(text=html, content_type="text/html")

    async def _login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        token = form.get("token")
        if not isinstance(token, str):
            return self._message(410, "dashboard.login.refused_title", "dashboard.login.refused")

        def use(session: Session) -> str | None:
            now = self.app.engine.clock.now()
            link = usable_link(session, token, now, self.key)
            if link is None:
                audit(session, now, "anonymous", "dashboard_link_refused", None)
                return None
            cookie = start_session(session, link, now, self.key)
            audit(session, now, f"clinician:{link.clinician_id}", "dashboard_signed_in", None, link_id=link.id)
            return cookie

        cookie = await self.db.run(use)
        if cookie is None:
            return self._message(410, "dashboard.login.refused_title", "dashboard.login.refused")
        response = self._redirect("/cases")
        response.set_cookie(COOKIE, cookie, path=self.cookie_path, httponly=True, samesite="Strict", secure=self.secure)
        return response

    async def _logout(self, request: web.Request) -> web.StreamResponse:
        await self._form(request)

        def sign_out(visit: views.Visit) -> None:
            end_session(visit.desk.session, visit.login, visit.desk.now)
            visit.audit("dashboard_signed_out")

        await self._visit(request, sign_out)
        response = self._redirect("/signed-out")
        response.del_cookie(COOKIE, path=self.cookie_path)
        return response

    async def _signed_out(self, _request: web.Request) -> web.StreamResponse:
        return self._message(200, "dashboard.login.title", "dashboard.login.logged_out")

    # -- the pages -------------------------------------------------------------------

    async def _cases(self, request: web.Request) -> web.StreamResponse:
        everyone = request.query.get("scope") == "all"
        values, desk = await self._visit(request, lambda visit: views.caseload_view(visit, everyone))
        return self._page(request, desk, "cases.html", values, section="cases")

    async def _case(self, request: web.Request) -> web.StreamResponse:
        handle = request.match_info["handle"]

        def show(visit: views.Visit) -> dict[str, Any]:
            course = views.find_case(visit, course_of_handle(visit.login, handle))
            if course is None:
                raise NotFound
            return views.case_view(visit, course)

        values, desk = await self._visit(request, show)
        return self._page(request, desk, "case.html", values, section="cases")

    async def _write(self, request: web.Request) -> web.StreamResponse:
        """The case page's form: a message to the participant, through the outbox like /msg."""
        handle = request.match_info["handle"]
        form = await self._form(request)
        text = form.get("text", "").strip()[: self.settings.max_text_chars]

        def write(visit: views.Visit) -> str:
            course = views.find_case(visit, course_of_handle(visit.login, handle))
            if course is None:
                raise NotFound
            return views.write_message(visit, course, text)

        notice, _desk = await self._visit(request, write)
        self.wake_sender()
        return self._redirect(f"/cases/{handle}?notice={notice}#message-thread")

    async def _alerts(self, request: web.Request) -> web.StreamResponse:
        values, desk = await self._visit(request, views.alerts_view)
        return self._page(request, desk, "alerts.html", values, section="alerts")

    async def _acknowledge(self, request: web.Request) -> web.StreamResponse:
        form = await self._form(request)
        alert_text = form.get("alert", "")
        if not alert_text.isdigit() or len(alert_text) > MAX_ALERT_DIGITS:
            raise NotFound
        back = form.get("back", "")
        handle = back.removeprefix("case:") if back.startswith("case:") else ""
        target = f"/cases/{handle}" if well_formed(handle) else "/alerts"
        notice, _desk = await self._visit(request, lambda visit: views.acknowledge(visit, int(alert_text)))
        self.wake_sender()
        return self._redirect(f"{target}?notice={notice}")

    async def _report(self, request: web.Request) -> web.StreamResponse:
        values, desk = await self._visit(request, views.report_view)
        return self._page(request, desk, "report.html", values, section="report")

    async def _report_csv(self, request: web.Request) -> web.StreamResponse:
        rows, desk = await self._visit(request, views.report_csv)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=csv_fields(rows))
        writer.writeheader()
        writer.writerows(rows)
        day = desk.now.astimezone(self.settings.tz).date().isoformat()
        return web.Response(
            text=buffer.getvalue(),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="guidebot-report-{day}.csv"'},
        )

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in self.static:
            raise NotFound
        return web.Response(body=self.static[name], content_type=pages.STATIC_TYPES[name], charset="utf-8")
