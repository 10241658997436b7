"""The text rules: how people really write, the look-alikes that stay quiet, and the corpus figures."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.config import DEFAULT_DIALOGS_DIR
from bot.dialogs.learned import LearnedNet
from bot.dialogs.load import load_dialogs
from bot.dialogs.matcher import fold_word
from bot.engine.signals import explain, scan

RULES = load_dialogs(DEFAULT_DIALOGS_DIR).escalation
CORPUS = Path(__file__).parent / "data" / "escalation_corpus"


def action(text: str) -> str:
    return scan(RULES, text).action


def test_folding_meets_the_ways_a_word_is_typed() -> None:
    assert fold_word("Dø") == fold_word("doe") == fold_word("dddø")
    assert fold_word("være") == fold_word("vaere")
    assert fold_word("sjølvmord") == fold_word("sjoelvmord")


@pytest.mark.parametrize(
    "text",
    [
        "ta livet mitt",
        "tar livet mitt snart",
        "tok nesten livet mitt i går",
        "thinking about taking my life",
        "jeg tenker at jeg ikke vil leve lenger",
        "en som ikke vil leve lenger, det er meg",
        "eg vil ikkje leve meir",
        "æ vil itte leve mer",
        "jeg vil ikke vaere her lenger",
        "tenker pa selvmrod",
        "vil bare dddø",
        "onsker a do",
        "kms",
        "unalive meg",
        "gonna self delete",
        "i want to kill myself",
        "jeg har skadet meg selv igjen",
        "i cut myself again last night",
    ],
)
def test_risk_as_people_write_it_alerts(text: str) -> None:
    assert action(text) == "alert", explain(RULES, text)


@pytest.mark.parametrize(
    "text",
    [
        "jeg døde av latter",
        "drepende kjedelig forelesning",
        "I died laughing",
        "this homework is killing me",
        "kuttet meg på kniven når jeg skar løk",
        "cut myself shaving",
        "var på kurs i selvmordsforebygging på jobb",
        "så en dokumentar om selvmord",
        "I'm not suicidal, just tired",
        "jeg er ikke suicidal, bare sliten",
        "jeg sov dårlig i natt",
        "katten min døde i går",
    ],
)
def test_look_alikes_stay_quiet(text: str) -> None:
    assert action(text) == "none", explain(RULES, text)


@pytest.mark.parametrize("text", ["jeg orker ikke mer", "i can't do this anymore", "vil bare forsvinne"])
def test_weaker_evidence_asks(text: str) -> None:
    assert action(text) == "ask", explain(RULES, text)


def test_a_denial_that_still_carries_risk_is_a_signal() -> None:
    assert action("ikke suicidal altså, vil bare forsvinne for godt") == "alert"
    assert action("im not suicidal, i just want to disappear forever") == "alert"


def test_a_negation_in_a_gap_breaks_the_match() -> None:
    assert action("jeg vil ikke dø") == "none"


def test_help_requests_raise_the_contact_signal() -> None:
    result = scan(RULES, "kan noen ringe meg")
    assert result.action == "alert"
    assert [h.signal for h in result.hits] == ["asks_for_person"]


def test_explain_names_the_rule_and_the_exception() -> None:
    rows = [r for r in explain(RULES, "så en dokumentar om selvmord") if r["rule"] != "learned"]
    assert rows and all(str(r["exception"]).startswith("media") for r in rows)


def _load(name: str) -> list[dict[str, str]]:
    return list(yaml.safe_load((CORPUS / name).read_text(encoding="utf-8")))


def _split(kind: str, split: str) -> list[dict[str, str]]:
    return [row for path in sorted(CORPUS.glob(f"{kind}_{split}*.yaml")) for row in _load(path.name)]


def test_the_corpus_is_large_and_split() -> None:
    risk = _split("risk", "tune") + _split("risk", "measure")
    benign = _split("benign", "tune") + _split("benign", "measure")
    assert len(risk) + len(benign) >= 1500
    assert len(benign) >= 0.45 * (len(risk) + len(benign))
    for kind in ("risk", "benign"):
        assert {r["text"].lower() for r in _split(kind, "tune")}.isdisjoint(
            r["text"].lower() for r in _split(kind, "measure")
        )
    for row in risk + benign:
        assert set(row) == {"text", "category", "variety"} and row["text"].strip()


RULES_ONLY = dataclasses.replace(RULES, learned=LearnedNet())


def test_tune_split_figures_hold_for_the_rules_alone() -> None:
    """A regression guard on the split the rules were written against (figures in docs/safety.md)."""
    # the splits the rules were written against (tune D only teaches the learned net)
    risk = [r for name in ("risk_tune.yaml", "risk_tune_b.yaml", "risk_tune_c.yaml") for r in _load(name)]
    benign = _split("benign", "tune")
    caught = sum(scan(RULES_ONLY, r["text"]).action != "none" for r in risk) / len(risk)
    actions = [scan(RULES_ONLY, b["text"]).action for b in benign]
    assert caught >= 0.85
    assert actions.count("alert") / len(benign) <= 0.03
    assert sum(a != "none" for a in actions) / len(benign) <= 0.09


def test_the_learned_net_only_ever_asks_and_only_where_the_rules_are_silent() -> None:
    text = "alt er bare mørkt og jeg vil ut av det hele"
    assert scan(RULES_ONLY, text).action == "none"
    result = scan(RULES, text)
    assert result.action == "ask" and result.hits == ()
    assert explain(RULES, text)[-1]["rule"] == "learned"


def test_the_learned_net_leaves_short_and_ordinary_texts_alone() -> None:
    for text in (
        "Barna mine",
        "kanskje?",
        "ja",
        "Jeg sov godt i natt",
        "Gikk tur med hunden i dag",
        "Del 1 og 2, aktivitetsdagbok",
        "Sove bedre og komme meg ut hver dag",
    ):
        assert action(text) == "none", explain(RULES, text)


def test_the_held_out_ordinary_answers_stay_quiet() -> None:
    rows = _load("ordinary_measure.yaml")
    asked = [r["text"] for r in rows if action(r["text"]) != "none"]
    assert len(asked) / len(rows) <= 0.03, asked


def test_cli_prints_the_action_and_explains(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GUIDEBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'g.db'}")
    result = CliRunner().invoke(cli, ["escalation", "test", "--explain", "jeg vil ta livet mitt", "jeg sov godt"])
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert first["action"] == "alert" and first["explain"][0]["rule"]
    assert second["action"] == "none"
    assert [r["rule"] for r in second["explain"]] == ["learned"]  # read, and below its threshold
