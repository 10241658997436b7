"""The dashboard in a real browser (Debian's Chromium, driven by Playwright), against the running bot.

With GUIDEBOT_SCREENSHOTS=1 the tests also save the pictures in docs/clinicians.md
to docs/img/.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.dialogs.store import DialogStore
from tests.conftest import IN_CI
from tests.support.dashboard import KARI, dashboard_bot, login_link
from tests.support.telegram_harness import Running

try:
    from playwright.async_api import Page, expect
except ImportError:
    if IN_CI:
        raise
    pytest.skip("Playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "img"
LABELS = ("K-A", "K-B", "K-C")


async def screenshot(page: Page, name: str) -> None:
    if os.environ.get("GUIDEBOT_SCREENSHOTS") == "1":
        await page.screenshot(path=str(SCREENSHOTS / f"dashboard-{name}.png"), full_page=True)


async def new_page(browser: Any) -> Page:
    context = await browser.new_context(viewport={"width": 1200, "height": 860}, locale="nb-NO")
    page: Page = await context.new_page()
    return page


async def sign_in(tg: Running, page: Page) -> str:
    link = await login_link(tg, KARI)
    await page.goto(link)
    await page.get_by_role("button", name="Logg inn").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sakene dine")
    return link


async def test_a_clinician_signs_in_by_the_link_and_it_is_refused_a_second_time(
    caseload_url: str, clock: FakeClock, shipped_dialogs: DialogStore, browser: Any
) -> None:
    async with dashboard_bot(caseload_url, clock, shipped_dialogs) as tg:
        page = await new_page(browser)
        link = await login_link(tg, KARI)
        await page.goto(link)
        await expect(page.get_by_text("Du er i ferd med å logge inn på veilederpanelet som Kari.")).to_be_visible()
        await screenshot(page, "login")
        await page.get_by_role("button", name="Logg inn").click()
        await expect(page).to_have_url(re.compile(r"/dashboard/cases$"))
        await expect(page.get_by_text("Logget inn som Kari")).to_be_visible()

        other = await new_page(browser)
        response = await other.goto(link)
        assert response is not None and response.status == 410
        await expect(other.get_by_role("heading", level=1)).to_have_text("Lenken virker ikke lenger")


async def test_the_caseload_lists_open_alerts_first_and_opens_by_keyboard(
    caseload_url: str, clock: FakeClock, shipped_dialogs: DialogStore, browser: Any
) -> None:
    async with dashboard_bot(caseload_url, clock, shipped_dialogs) as tg:
        page = await new_page(browser)
        await sign_in(tg, page)
        rows = page.locator("table.caseload tbody tr")
        await expect(rows).to_have_count(2)
        await expect(rows.nth(0).locator("th")).to_have_text("K-B")
        await expect(rows.nth(1)).to_contain_text("3 av 6")
        await expect(rows.nth(1)).to_contain_text("sunket siden forrige måling")
        await screenshot(page, "caseload")

        await page.get_by_role("link", name="Vis hele teamets saker").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Alle åpne saker i teamet")
        # Need to know: the team's list holds her own cases and the unowned ones, not a colleague's.
        await expect(page.locator("table.caseload tbody tr")).to_have_count(2)

        await page.get_by_role("link", name="K-A").focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Sak K-A")
        assert not any(label in page.url for label in LABELS)


async def test_the_case_page_draws_the_chart_with_a_text_alternative(
    caseload_url: str, clock: FakeClock, shipped_dialogs: DialogStore, browser: Any
) -> None:
    async with dashboard_bot(caseload_url, clock, shipped_dialogs) as tg:
        page = await new_page(browser)
        await sign_in(tg, page)
        await page.get_by_role("link", name="K-A").click()
        chart = page.get_by_role("img", name="Skårene til K-A uke for uke")
        await expect(chart).to_be_visible()
        box = await chart.bounding_box()
        assert box is not None and box["width"] > 400 and box["height"] > 300
        await expect(chart.locator("circle")).to_have_count(4)
        description = await chart.locator("desc").text_content()
        assert description is not None and "PHQ-9: uke 1 12, uke 2 10" in description
        scores = page.get_by_role("table", name="Skårene i tall, med alvorlighetsgrad")
        await expect(scores.locator("tbody tr")).to_have_count(2)
        await expect(page.get_by_role("heading", name="Uke 2")).to_be_visible()
        await expect(page.locator("#draft-note")).to_contain_text("AKTUELT")
        await expect(page.get_by_role("button", name="Kopier notatet")).to_be_visible()
        await expect(page.get_by_role("heading", name="Meldinger")).to_be_visible()
        await screenshot(page, "case")


async def test_writing_to_the_participant_from_the_case_page(
    caseload_url: str, clock: FakeClock, shipped_dialogs: DialogStore, browser: Any
) -> None:
    async with dashboard_bot(caseload_url, clock, shipped_dialogs) as tg:
        page = await new_page(browser)
        await sign_in(tg, page)
        participant = tg.server.user(1001)  # K-A's chat, made before the bot writes to it
        await page.get_by_role("link", name="K-A").click()
        await page.get_by_label("Skriv til brukeren").fill("Takk for svarene dine, du er godt i gang!")
        await page.get_by_role("button", name="Send", exact=True).click()
        await expect(page.locator("p.notice")).to_have_text("Meldingen er sendt.")
        await expect(page.locator("#message-thread blockquote")).to_contain_text("du er godt i gang")
        got = await participant.wait_for_message(lambda m: "du er godt i gang" in (m.text or ""))
        assert (got.text or "").startswith("💬 Melding fra veilederen din") and got.buttons == ["Svar veilederen"]


async def test_acknowledging_an_alert_in_the_browser(
    caseload_url: str, clock: FakeClock, shipped_dialogs: DialogStore, browser: Any
) -> None:
    async with dashboard_bot(caseload_url, clock, shipped_dialogs) as tg:
        page = await new_page(browser)
        await sign_in(tg, page)
        await page.get_by_role("link", name="Varsler").click()
        await expect(page.get_by_role("heading", level=2)).to_contain_text("Ber om kontakt")
        await screenshot(page, "alerts")
        await page.get_by_role("button", name=re.compile(r"^Kvitter varsel #\d+$")).click()
        await expect(page.get_by_role("status")).to_have_text("Varselet er kvittert. Teamet har fått beskjed.")
        await expect(page.get_by_text("Ingen åpne varsler nå.")).to_be_visible()
        team = tg.server.group(-1001)
        await team.wait_for_message(lambda m: "er kvittert av Kari" in (m.text or ""))

        await page.get_by_role("link", name="Saker").click()
        await page.get_by_role("link", name="K-B").click()
        await expect(page.get_by_text(re.compile(r"^Kvittert av Kari "))).to_be_visible()


async def test_the_report_page_shows_tables_and_a_chart(
    caseload_url: str, clock: FakeClock, shipped_dialogs: DialogStore, browser: Any
) -> None:
    async with dashboard_bot(caseload_url, clock, shipped_dialogs) as tg:
        page = await new_page(browser)
        await sign_in(tg, page)
        await page.get_by_role("link", name="Resultater").click()
        await expect(page.get_by_role("img", name="Tilfriskning og bedring per program")).to_be_visible()
        table = page.get_by_role("table", name="Resultater per program")
        await expect(table.locator("thead th").last).to_have_text("Alle programmer")
        started = table.get_by_role("row", name=re.compile("^Startet"))
        await expect(started.locator("td").last).to_have_text("3")
        owners = page.get_by_role("table", name=re.compile("^Resultater per veileder"))
        await expect(owners.locator("thead th")).to_have_text(["Tall", "Kari", "Per"])
        await expect(owners.get_by_role("row", name=re.compile("^Startet")).locator("td")).to_have_text(["2", "1"])
        async with page.expect_download() as waiting:
            await page.get_by_role("link", name="Last ned tallene som CSV").click()
        download = await waiting.value
        assert download.suggested_filename.startswith("guidebot-report-")
        await screenshot(page, "report")


async def test_an_anonymous_browser_sees_nothing(
    caseload_url: str, clock: FakeClock, shipped_dialogs: DialogStore, browser: Any
) -> None:
    async with dashboard_bot(caseload_url, clock, shipped_dialogs) as tg:
        kari = await new_page(browser)
        await sign_in(tg, kari)
        await kari.get_by_role("link", name="K-B").click()
        case_url = kari.url

        stranger = await new_page(browser)
        base = tg.app.settings.dashboard_url
        for url in (base, f"{base}/cases?scope=all", f"{base}/alerts", f"{base}/report", case_url):
            response = await stranger.goto(url)
            assert response is not None and response.status == 401, url
            await expect(stranger.get_by_role("heading", level=1)).to_have_text("Logg inn")
            await expect(stranger.get_by_text("skriv /dashboard til boten")).to_be_visible()
            body = await stranger.locator("body").inner_text()
            assert not any(label in body for label in LABELS), url
            await expect(stranger.get_by_role("navigation")).to_have_count(0)
