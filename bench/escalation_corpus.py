"""Recall and false alarms of the escalation text rules on the labelled corpus.

    python bench/escalation_corpus.py            # both splits, per category and variety
    python bench/escalation_corpus.py --split tune --misses   # what the tune split misses
    python bench/escalation_corpus.py --cv       # the tune split, 5-fold cross-validated

The learned net is trained on the tune split (dialogs/examples/ is the same files), so
its figures on the tune split say nothing; `--cv` trains it on four fifths and measures
on the fifth it has not seen, five times over, with the rules as they are.

The corpus is in tests/data/escalation_corpus/: risk_*.yaml and benign_*.yaml, each
split into `tune` (risk_tune.yaml and risk_tune_b.yaml: the rules were written
against them) and `measure` (risk_measure.yaml: held out, written by another hand
and only measured). A risk phrase is caught when the action is alert or ask.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import DEFAULT_DIALOGS_DIR  # noqa: E402
from bot.dialogs.learned import LearnedNet  # noqa: E402
from bot.dialogs.load import load_dialogs  # noqa: E402
from bot.dialogs.model import EscalationRules  # noqa: E402
from bot.engine.signals import scan  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "escalation_corpus"


def load(kind: str, split: str) -> list[dict[str, str]]:
    """All files of a kind and split: `risk_tune.yaml` and `risk_tune_b.yaml` are both tune."""
    rows: list[dict[str, str]] = []
    for path in sorted(CORPUS.glob(f"{kind}_{split}*.yaml")):
        rows.extend(yaml.safe_load(path.read_text(encoding="utf-8")))
    return rows


def pct(n: int, d: int) -> str:
    return f"{100 * n / d:5.1f}%" if d else "    -"


def report(split: str, show_misses: bool) -> dict[str, float]:
    rules = load_dialogs(DEFAULT_DIALOGS_DIR).escalation
    risk, benign = load("risk", split), load("benign", split)
    started = time.perf_counter()
    risk_actions = [scan(rules, e["text"]).action for e in risk]
    benign_actions = [scan(rules, e["text"]).action for e in benign]
    elapsed = time.perf_counter() - started
    caught = sum(a != "none" for a in risk_actions)
    alerts = sum(a == "alert" for a in benign_actions)
    any_action = sum(a != "none" for a in benign_actions)
    print(
        f"\n## {split}: {len(risk)} risk, {len(benign)} benign "
        f"({1000 * elapsed / (len(risk) + len(benign)):.2f} ms a text)"
    )
    print(
        f"risk caught (alert or ask): {pct(caught, len(risk))}  "
        f"(alert {pct(sum(a == 'alert' for a in risk_actions), len(risk))})"
    )
    print(f"benign with an alert:       {pct(alerts, len(benign))}")
    print(f"benign with any action:     {pct(any_action, len(benign))}")
    for label, rows, actions, good in (
        ("risk caught by category", risk, risk_actions, "caught"),
        ("benign quiet by category", benign, benign_actions, "quiet"),
    ):
        print(f"\n{label}:")
        by: dict[str, list[bool]] = defaultdict(list)
        for row, action in zip(rows, actions, strict=True):
            by[row["category"]].append(action != "none" if good == "caught" else action == "none")
        for name, flags in sorted(by.items()):
            print(f"  {name:18s} {pct(sum(flags), len(flags))} of {len(flags)}")
    print("\nrisk caught by variety / benign quiet by variety:")
    varieties = sorted({r["variety"] for r in risk + benign})
    for variety in varieties:
        r = [a != "none" for row, a in zip(risk, risk_actions, strict=True) if row["variety"] == variety]
        b = [a == "none" for row, a in zip(benign, benign_actions, strict=True) if row["variety"] == variety]
        print(f"  {variety:10s} {pct(sum(r), len(r))} of {len(r):3d}   {pct(sum(b), len(b))} of {len(b):3d}")
    if show_misses:
        print("\nmissed risk:")
        for row, action in zip(risk, risk_actions, strict=True):
            if action == "none":
                print(f"  [{row['category']}/{row['variety']}] {row['text']}")
        print("\nbenign with an action:")
        for row, action in zip(benign, benign_actions, strict=True):
            if action != "none":
                print(f"  {action:5s} [{row['category']}/{row['variety']}] {row['text']}")
    return {"caught": caught / len(risk), "alert": alerts / len(benign), "any": any_action / len(benign)}


def cross_validated(folds: int = 5) -> None:
    """The tune split, each phrase read by a learned net that was not trained on it."""
    rules = load_dialogs(DEFAULT_DIALOGS_DIR).escalation
    risk, benign = load("risk", "tune"), load("benign", "tune")
    rows = [(r, 1) for r in risk] + [(b, 0) for b in benign]
    actions: list[str] = [""] * len(rows)
    for fold in range(folds):
        train_risk = [r["text"] for i, (r, label) in enumerate(rows) if label and i % folds != fold]
        train_benign = [r["text"] for i, (r, label) in enumerate(rows) if not label and i % folds != fold]
        net = LearnedNet.of(
            train_risk, train_benign, rules.learned.threshold, rules.learned.signal, rules.learned.min_words
        )
        fold_rules: EscalationRules = dataclasses.replace(rules, learned=net)
        for i, (row, _label) in enumerate(rows):
            if i % folds == fold:
                actions[i] = scan(fold_rules, row["text"]).action
    risk_actions = actions[: len(risk)]
    benign_actions = actions[len(risk) :]
    print(f"\n## tune, {folds}-fold cross-validated: {len(risk)} risk, {len(benign)} benign")
    print(f"risk caught (alert or ask): {pct(sum(a != 'none' for a in risk_actions), len(risk))}")
    print(f"benign with an alert:       {pct(sum(a == 'alert' for a in benign_actions), len(benign))}")
    print(f"benign with any action:     {pct(sum(a != 'none' for a in benign_actions), len(benign))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("tune", "measure", "both"), default="both")
    parser.add_argument("--misses", action="store_true", help="list the misses and false alarms")
    parser.add_argument("--cv", action="store_true", help="the tune split, cross-validated for the learned net")
    args = parser.parse_args()
    if args.cv:
        cross_validated()
        return
    for split in ("tune", "measure") if args.split == "both" else (args.split,):
        report(split, args.misses)


if __name__ == "__main__":
    main()
