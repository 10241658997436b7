"""Languages as data: each locale is a folder, found by the checker, the bot and the reports."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from bot.app import App, build_app
from bot.cli import app as cli
from bot.clinicians.report import ReportWords
from bot.clinicians.report_chart import report_figure
from bot.config import DEFAULT_DIALOGS_DIR, Settings
from bot.dialogs.load import load_dialogs
from bot.dialogs.locales import worth_checking
from bot.engine.schedule import parse_time
from tests.support.cli import guidebot, use_database
from tests.support.course_script import INTAKE_ANSWERS
from tests.support.locales import NN_WELCOME, dialogs_copy, with_placeholder_nynorsk, without_nynorsk
from tests.support.participant import Participant, answer_measure
from tests.support.settings import make_settings
from tests.support.telegram_harness import course_of, running_bot
from tests.test_report import _seed

runner = CliRunner()
SWEDISH = "name: Svenska\ntelegram: [sv]\ntranslated_from: en\n"


def _remove(path: Path, line: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert line in text, f"{line!r} not in {path}"
    path.write_text(text.replace(line, "", 1), encoding="utf-8")


@pytest.fixture
def swedish(tmp_path: Path) -> Path:
    """dialogs/locales/en copied to sv, its locale.yaml made Swedish, three texts removed."""
    root = dialogs_copy(tmp_path / "dialogs")
    sv = root / "locales" / "sv"
    shutil.copytree(root / "locales" / "en", sv)
    (sv / "locale.yaml").write_text(SWEDISH, encoding="utf-8")
    _remove(sv / "texts.yaml", '  useful: "What was most useful?"\n')
    _remove(sv / "clinician.yaml", '    none_all: "The team has no open cases right now."\n')
    _remove(sv / "instruments" / "phq9.yaml", '      mood: "Feeling down, depressed, or hopeless"\n')
    return root


def test_a_copied_locale_with_three_texts_removed_fails_naming_the_locale_and_the_texts(swedish: Path) -> None:
    result = runner.invoke(cli, ["dialogs", "check", str(swedish)])
    assert result.exit_code != 0
    missing = [line for line in result.output.splitlines() if "has no 'sv' version" in line]
    named = {key: line for line in missing for key in re.findall(r"text '([^']+)'", line)}
    assert sorted(named) == ["checkin.useful", "clinician.cases.none_all", "instrument.phq9.items.mood"]
    assert re.match(r"\S+/locales/sv/texts\.yaml:\d+: ", named["checkin.useful"])
    assert re.match(r"\S+/locales/sv/clinician\.yaml:\d+: ", named["clinician.cases.none_all"])
    assert re.match(r"\S+/locales/sv/instruments/phq9\.yaml:\d+: ", named["instrument.phq9.items.mood"])
    assert "en has it: en/texts.yaml:" in named["checkin.useful"]
    assert "locale 'sv' is incomplete: 3 text(s) missing" in result.output


def test_texts_still_in_the_language_copied_from_are_named_in_the_copy_only(swedish: Path) -> None:
    result = runner.invoke(cli, ["dialogs", "check", str(swedish)])
    untranslated = [line for line in result.output.splitlines() if "is not translated into" in line]
    assert any("locales/sv/texts.yaml" in line and "text 'checkin.hard'" in line for line in untranslated)
    assert all("into 'sv'" in line and "the same as in 'en'" in line for line in untranslated)
    # Short texts (age bands, names, template-only texts) are rightly the same.
    assert not any("'intake.age_30_49'" in line or "'measure.item'" in line for line in untranslated)


def test_same_on_purpose_lets_a_text_stand(swedish: Path) -> None:
    sv = swedish / "locales" / "sv"
    (sv / "locale.yaml").write_text(SWEDISH + "same_on_purpose: [checkin.hard, instrument.*]\n", encoding="utf-8")
    result = runner.invoke(cli, ["dialogs", "check", str(swedish)])
    untranslated = [line for line in result.output.splitlines() if "is not translated into" in line]
    assert untranslated and not any("'checkin.hard'" in line or "'instrument." in line for line in untranslated)


def test_a_copy_that_still_claims_to_be_the_original_or_its_telegram_code_is_refused(tmp_path: Path) -> None:
    root = dialogs_copy(tmp_path / "dialogs")
    shutil.copytree(root / "locales" / "nb", root / "locales" / "sv")
    result = runner.invoke(cli, ["dialogs", "check", str(root)])
    assert result.exit_code != 0
    assert "only one locale is the original; nb, sv all say 'original: true'" in result.output
    assert "Telegram language 'no' is claimed by both 'nb' and 'sv'" in result.output


def test_which_texts_are_checked_for_being_untranslated() -> None:
    assert worth_checking("What was most useful?")
    assert not worth_checking("Under 16")
    assert not worth_checking("{{ stem }}\n\n{{ item }}")
    assert not worth_checking("{{ weekday }} {{ day }} {{ month }} at {{ time }}")


def test_the_shipped_locales_come_from_the_folders() -> None:
    dialogs = load_dialogs(DEFAULT_DIALOGS_DIR)
    assert set(dialogs.locales) == {p.name for p in (DEFAULT_DIALOGS_DIR / "locales").iterdir()}
    assert next(iter(dialogs.locales)) == "nb" and dialogs.locales["nb"].original
    assert dialogs.locales["nb"].name == "Norsk (bokmål)" and dialogs.locales["en"].name == "English"
    title = dialogs.programs["depression"].title
    assert (title["nb"], title["en"]) == ("Depresjon og nedstemthet", "Depression and low mood")
    assert dialogs.instruments["phq9"].items[-1].text["en"].startswith("Thoughts that you would be better off dead")


def test_a_new_locale_is_used_everywhere_the_old_ones_are(tmp_path: Path) -> None:
    dialogs = load_dialogs(with_placeholder_nynorsk(dialogs_copy(tmp_path / "dialogs")))
    assert list(dialogs.locales) == ["nb", "nn", "en"]
    assert dialogs.programs["sleep"].parts[0].title["nn"] == dialogs.programs["sleep"].parts[0].title["nb"]
    assert dialogs.texts["nn"]["intake.welcome"].startswith(NN_WELCOME)


@pytest.mark.parametrize(
    ("language_code", "locale"),
    [("nn", "nn"), ("nn-NO", "nn"), ("nb", "nb"), ("no", "nb"), ("en-GB", "en"), ("sv", "nb"), (None, "nb")],
)
def test_telegram_language_codes_pick_a_locale(tmp_path: Path, language_code: str | None, locale: str) -> None:
    dialogs = load_dialogs(with_placeholder_nynorsk(dialogs_copy(tmp_path / "dialogs")))
    assert dialogs.locale_for(language_code, "nb") == locale


def test_nynorsk_speakers_get_nynorsk_and_bokmal_where_a_service_ships_no_nynorsk(tmp_path: Path) -> None:
    assert load_dialogs(dialogs_copy(tmp_path / "shipped")).locale_for("nn", "en") == "nn"
    root = without_nynorsk(dialogs_copy(tmp_path / "dialogs"))
    nb = root / "locales" / "nb" / "locale.yaml"
    nb.write_text(
        nb.read_text(encoding="utf-8").replace("telegram: [nb, no]", "telegram: [nb, no, nn]"), encoding="utf-8"
    )
    dialogs = load_dialogs(root)
    assert "nn" not in dialogs.locales
    assert dialogs.locale_for("nn", "en") == "nb"


def test_guidebot_locale_accepts_any_locale_folder(tmp_path: Path) -> None:
    root = with_placeholder_nynorsk(dialogs_copy(tmp_path / "dialogs"))
    assert Settings(_env_file=None, dialogs_dir=root, locale="nn").locale == "nn"
    with pytest.raises(ValidationError, match="GUIDEBOT_LOCALE must be one of the locale folders"):
        Settings(_env_file=None, locale="sv")


@pytest.fixture
def nynorsk_app(tmp_path: Path, sqlite_url: str) -> App:
    root = with_placeholder_nynorsk(dialogs_copy(tmp_path / "dialogs"))
    return build_app(make_settings(sqlite_url, dialogs_dir=root), run_migrations=False)


def test_a_telegram_language_of_nn_starts_the_course_in_nynorsk(nynorsk_app: App) -> None:
    user = Participant(nynorsk_app, language="nn")
    replies = user.start_with_new_code()
    assert user.course().locale == "nn"
    assert replies[0].text.startswith(NN_WELCOME)


def test_language_offers_every_locale_by_its_own_name(nynorsk_app: App) -> None:
    user = Participant(nynorsk_app)
    user.start_with_new_code()
    user.send("/language")
    assert user.last().labels() == ["Norsk (bokmål)", "Norsk (nynorsk)", "English"]
    user.press("Norsk (nynorsk)")
    assert user.course().locale == "nn"
    user.send("/language")
    user.press("English")
    assert user.course().locale == "en"


def test_guidebot_locale_nn_is_the_language_before_anyone_chooses(tmp_path: Path, sqlite_url: str) -> None:
    root = with_placeholder_nynorsk(dialogs_copy(tmp_path / "dialogs"))
    app = build_app(make_settings(sqlite_url, dialogs_dir=root, locale="nn"), run_migrations=False)
    user = Participant(app, language=None)
    user.start_with_new_code()
    assert user.course().locale == "nn"


def test_the_words_before_a_time_of_day_come_from_the_texts() -> None:
    assert parse_time("kl. 18.30", ("kl.", "kl", "klokka")) == "18:30"
    assert parse_time("klokka 7", ("kl.", "kl", "klokka")) == "07:00"
    assert parse_time("at 9", ("at",)) == "09:00"
    assert parse_time("kl. 18.30", ("at",)) is None
    dialogs = load_dialogs(DEFAULT_DIALOGS_DIR)
    assert "kl." in dialogs.texts["nb"]["format.time_words"].split()


@pytest.mark.parametrize(("locale", "typed"), [("nb", "kl. 19.30"), ("en", "at 19:30")])
def test_a_typed_time_with_the_locales_word_before_it_is_understood(app: App, locale: str, typed: str) -> None:
    user = Participant(app, language=locale)
    user.start_with_new_code()
    consent, age, impact = INTAKE_ANSWERS[locale]
    for label in (consent, age, impact):
        user.press(label)
    answer_measure(user, [0] * 9)
    answer_measure(user, [0] * 7)
    user.send("Sove bedre" if locale == "nb" else "Sleep better")
    user.press_index(3)
    assert user.course().step == "checkin_time"
    user.send(typed)
    assert user.answers()["checkin_time"] == "19:30"


def test_dialogs_import_nothing_from_the_clinician_code() -> None:
    probe = (
        "import sys, bot.dialogs.load, bot.dialogs.system;"
        "print(sorted(m for m in sys.modules if m.startswith('bot.clinicians')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _report_words(app: App, locale: str) -> ReportWords:
    current = app.dialogs.current
    return ReportWords(current.dialogs, current.renderer, locale)


def test_the_report_table_speaks_the_readers_language(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_url: str
) -> None:
    use_database(monkeypatch, tmp_path, sqlite_url)
    _seed(sqlite_url)
    norwegian = guidebot("report", "--since", "2026-01-01")
    assert norwegian.exit_code == 0, norwegian.output
    lines = norwegian.stdout.splitlines()
    assert lines[0].split()[:4] == ["program", "startet", "fullført", "frafall"]
    assert any(line.startswith("alle programmer") for line in lines)
    assert "Kurs som startet 2026-01-01 eller senere." in norwegian.stdout
    english = guidebot("report", "--locale", "en")
    assert english.stdout.splitlines()[0].split()[:3] == ["program", "started", "completed"]
    unknown = guidebot("report", "--locale", "xx")
    assert unknown.exit_code == 1
    known = ", ".join(load_dialogs(DEFAULT_DIALOGS_DIR).locales)
    assert unknown.output.strip().splitlines()[-1] == f"guidebot: unknown locale 'xx' (known: {known})"


@pytest.mark.parametrize(
    ("locale", "title", "legend", "program"),
    [
        ("nb", "Utfall per program", "Tilfriskning", "Depresjon og nedstemthet"),
        ("en", "Outcomes per program", "Recovery", "Depression and low mood"),
    ],
)
def test_the_report_chart_speaks_the_readers_language(
    app: App, locale: str, title: str, legend: str, program: str
) -> None:
    rows = [
        {"program": "depression", "finished_treatment": 4, "recovery_rate": 0.33, "reliable_improvement_rate": 0.5}
        | {"reliable_recovery_rate": 0.33},
        {"program": "all", "finished_treatment": 5, "recovery_rate": 0.5, "reliable_improvement_rate": 0.6}
        | {"reliable_recovery_rate": None},
    ]
    axes = report_figure(rows, _report_words(app, locale)).axes[0]
    assert axes.get_title().startswith(title)
    legend_box = axes.get_legend()
    assert legend_box is not None and legend_box.get_texts()[0].get_text() == legend
    ticks = [tick.get_text() for tick in axes.get_xticklabels()]
    assert ticks[0].startswith(program) and ticks[1].startswith(_report_words(app, locale)("chart.all_programs"))
    assert "%" in axes.get_ylabel()


async def test_over_telegram_a_nynorsk_user_gets_the_nynorsk_course_and_menu(tmp_path: Path, sqlite_url: str) -> None:
    root = with_placeholder_nynorsk(dialogs_copy(tmp_path / "dialogs"))
    async with running_bot(sqlite_url, dialogs_dir=root) as tg:
        user = tg.chat(42, language_code="nn")
        welcome = await user.send(f"/start {tg.code('depression', 'K-7002')}")
        assert welcome[0].text is not None and welcome[0].text.startswith(NN_WELCOME)
        course = course_of(tg.app, 42)
        assert course is not None and course.locale == "nn"
        renderer = tg.app.dialogs.current.renderer
        await tg.server.wait_until(lambda: all(tg.server.menu(code) for code in ("nn", "no", "nb", "en")))
        for language, locale in (("nn", "nn"), ("no", "nb"), ("nb", "nb"), ("en", "en")):
            assert tg.server.menu(language)[0]["description"] == renderer.render(locale, "commands.start", {})
