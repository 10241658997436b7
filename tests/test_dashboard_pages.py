"""The dashboard's building blocks without a server: texts, charts, tokens."""

from __future__ import annotations

import re

import pytest
from markupsafe import Markup

from bot.dashboard import svg
from bot.dashboard.pages import STATIC_TYPES, TEMPLATES, environment, render
from bot.dashboard.tokens import csrf_ok, csrf_token, hash_token, well_formed
from bot.dialogs.dashboard_samples import DASHBOARD_TEXTS
from bot.dialogs.store import DialogStore
from tests.support.settings import make_settings

LITERAL_KEY = re.compile(r"""["'](dashboard\.[a-z0-9_.]*[a-z0-9_])["']""")
KEY_FAMILY = re.compile(r"""["'](dashboard\.[a-z0-9_.]+\.)["']""")
CODE = TEMPLATES.parent


def test_every_text_the_dashboard_names_is_declared_for_the_checker() -> None:
    used: set[str] = set()
    families: set[str] = set()
    sources = [*TEMPLATES.glob("*.html"), *(p for p in CODE.glob("*.py") if p.name != "text_samples.py")]
    for path in sources:
        source = path.read_text()
        used.update(LITERAL_KEY.findall(source))
        families.update(KEY_FAMILY.findall(source))
    assert used, "the templates take their words from the texts"
    assert used - set(DASHBOARD_TEXTS) - set(STATIC_TYPES) == set()
    for family in families:
        assert any(key.startswith(family) for key in DASHBOARD_TEXTS), family


def test_templates_hold_no_words_of_their_own() -> None:
    """Between tags and template code there is only punctuation: every word comes from the dialog texts."""
    for template in TEMPLATES.glob("*.html"):
        source = re.sub(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}|<[^>]*>", " ", template.read_text(), flags=re.S)
        words = re.findall(r"[A-Za-zÆØÅæøå]{2,}", source)
        assert words == [], f"{template.name}: {words}"


@pytest.mark.parametrize("locale", ["nb", "nn", "en"])
def test_every_dashboard_text_renders_in_every_language(shipped_dialogs: DialogStore, locale: str) -> None:
    renderer = shipped_dialogs.current.renderer
    for key, values in DASHBOARD_TEXTS.items():
        assert renderer.render(locale, key, values).strip(), key


def test_text_from_a_case_is_escaped_in_the_page(shipped_dialogs: DialogStore) -> None:
    renderer = shipped_dialogs.current.renderer

    def text(key: str, **values: object) -> str:
        return renderer.render("nb", key, values)

    html = render(environment("nb"), "login.html", text=text, locale="nb", base="/d", name="<b>Kari</b>", token="x")
    assert "&lt;b&gt;Kari&lt;/b&gt;" in html and "<b>Kari</b>" not in html


def _panel(shipped_dialogs: DialogStore, points: list[tuple[int, int]]) -> svg.Panel:
    phq9 = shipped_dialogs.current.dialogs.instruments["phq9"]
    return svg.Panel(phq9, points, [band.label["nb"] for band in phq9.bands])


def test_the_score_chart_draws_bands_points_and_names_itself(shipped_dialogs: DialogStore) -> None:
    texts = {"title": "Skårer for <K-1>", "desc": "PHQ-9: uke 1 14, uke 3 9", "week": "Uke", "total": "Skår"}
    chart = svg.score_chart([_panel(shipped_dialogs, [(1, 14), (3, 9)])], 6, texts)
    assert isinstance(chart, Markup)
    assert chart.startswith("<svg") and 'role="img"' in chart and 'aria-labelledby="score-chart-title' in chart
    assert '<title id="score-chart-title">Skårer for &lt;K-1&gt;</title>' in chart, "text is escaped"
    assert chart.count("<circle") == 2 and chart.count("<polyline") == 1
    assert "0–4 lite eller ingen plager" in chart and "20–27 alvorlige plager" in chart
    bands = re.findall(r'<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)" fill="#', chart)
    assert len(bands) == 5
    top, bottom = min(float(y) for y, _ in bands), max(float(y) + float(h) for y, h in bands)
    assert bottom - top == pytest.approx(170), "the bands fill the panel from 0 to 27"
    dots = [float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', chart)]
    assert dots[0] < dots[1], "14 is drawn higher than 9"


def test_the_rate_chart_shows_missing_figures_as_a_dash() -> None:
    groups = [svg.Bars("Depresjon", [0.5, None, 0.25]), svg.Bars("Alle", [0.5, 0.4, None])]
    texts = {"title": "Rater", "desc": "Søyler", "none": "–"}
    chart = svg.rate_chart(groups, ["A", "B", "C"], texts, lambda n: f"{n} %", chart_id="rates")
    assert chart.count(">50 %<") == 2 and ">25 %<" in chart and ">40 %<" in chart
    assert chart.count(">–<") == 2


def test_tokens_are_hashed_with_the_pepper_when_there_is_one() -> None:
    plain, peppered = hash_token("abc", b""), hash_token("abc", b"secret")
    assert len(plain) == len(peppered) == 64 and plain != peppered != hash_token("abc", b"other")
    assert "abc" not in plain


def test_the_form_token_belongs_to_its_session() -> None:
    token = csrf_token("session-one")
    assert csrf_ok("session-one", token)
    assert not csrf_ok("session-two", token) and not csrf_ok("", csrf_token("")) and not csrf_ok("session-one", "")


@pytest.mark.parametrize(
    ("token", "ok"),
    [("abcDEF-_123", True), ("", False), ("a" * 65, False), ("../etc", False), ("a b", False), ("æøå", False)],
)
def test_only_url_safe_tokens_are_looked_up(token: str, ok: bool) -> None:
    assert well_formed(token) is ok


def test_the_dashboard_needs_its_public_address() -> None:
    with pytest.raises(ValueError, match="GUIDEBOT_DASHBOARD_URL"):
        make_settings("sqlite://", dashboard_listen="127.0.0.1:8080")
    with pytest.raises(ValueError, match="https://"):
        make_settings("sqlite://", dashboard_listen="127.0.0.1:8080", dashboard_url="veileder.example.no")
    with pytest.raises(ValueError, match="host:port"):
        make_settings("sqlite://", dashboard_listen="8080", dashboard_url="https://veileder.example.no")
    settings = make_settings("sqlite://", dashboard_listen="127.0.0.1:8080", dashboard_url="https://v.example.no/p/")
    assert settings.dashboard_url == "https://v.example.no/p"
