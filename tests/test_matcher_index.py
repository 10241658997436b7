"""The indexed text matcher finds exactly what the plain one finds, and fast; `phrases:` is refused."""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.config import DEFAULT_DIALOGS_DIR
from bot.dialogs import matcher
from bot.dialogs.load import load_dialogs

RULES = load_dialogs(DEFAULT_DIALOGS_DIR).escalation.text
DATA = Path(__file__).parent / "data"


def _texts() -> list[str]:
    phrases = yaml.safe_load((DATA / "escalation_phrases.yaml").read_text(encoding="utf-8"))
    texts = [t for locale in phrases.values() for items in locale.values() for t in items]
    corpus = [
        row["text"]
        for path in sorted((DATA / "escalation_corpus").glob("*.yaml"))
        for row in yaml.safe_load(path.read_text(encoding="utf-8"))
    ]
    texts += random.Random(3).sample(corpus, 150)
    texts += [
        "",
        "🪦🪦",
        "ｊｅｇ ｖｉｌ ｄø!!!",
        "ikke suicidal, men vil forsvinne",
        "«jeg vil dø» sa hun i filmen",
        "kms💀 (haha) - not really",
        "x" * 300,
    ]
    return texts


@pytest.mark.parametrize("window_min", [0, matcher.WINDOW_MIN])
def test_the_index_finds_what_trying_every_pattern_finds(window_min: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matcher, "WINDOW_MIN", window_min)
    for text in _texts():
        assert matcher.find_matches(RULES, text) == matcher.find_matches(RULES, text, indexed=False), text


def test_a_long_text_agrees_and_stays_fast() -> None:
    rnd = random.Random(11)
    texts = _texts()
    long = " ".join(rnd.choice(texts) for _ in range(400))[:4000]  # one long sentence: the slow case
    started = time.perf_counter()
    found = matcher.find_matches(RULES, long)
    elapsed = time.perf_counter() - started
    assert found == matcher.find_matches(RULES, long, indexed=False)
    assert elapsed < 2.0  # about 40 ms here; the plain matcher takes seconds on a slow machine


def test_phrases_in_escalation_are_refused_with_file_and_line(tmp_path: Path) -> None:
    root = tmp_path / "dialogs"
    shutil.copytree(DEFAULT_DIALOGS_DIR, root)
    path = root / "escalation.yaml"
    text = path.read_text(encoding="utf-8")
    assert "\n  risk_answer:\n    level: urgent\n" in text
    path.write_text(
        text.replace(
            "\n  risk_answer:\n    level: urgent\n",
            '\n  risk_answer:\n    level: urgent\n    phrases:\n      nb: ["vil dø"]\n',
            1,
        ),
        encoding="utf-8",
    )
    line = next(
        n for n, row in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if row.strip() == "phrases:"
    )
    result = CliRunner().invoke(cli, ["dialogs", "check", str(root)])
    assert result.exit_code != 0
    assert f"escalation.yaml:{line}: signal 'risk_answer': phrases moved to the `text:` rules" in result.output
