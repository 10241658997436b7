"""How fast the escalation text rules scan a text: short chat messages and long texts.

    python bench/escalation_speed.py              # indexed matcher against the plain reference
    python bench/escalation_speed.py --no-reference   # only the indexed matcher (quick)

Every text a person writes goes through `scan()`, so this is on the path of every
message. Short texts are the labelled corpus (tests/data/escalation_corpus); long texts
are 4,000 characters of corpus sentences joined three ways: with full stops (many short
sentences), with spaces (one long sentence, the slow case) and as one word repeated (a
pasted wall of text). The reference is `find_matches(..., indexed=False)`: every pattern
tried at every word, as the matcher did before the index.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import DEFAULT_DIALOGS_DIR  # noqa: E402
from bot.dialogs.load import load_dialogs  # noqa: E402
from bot.dialogs.matcher import TextRules, find_matches  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "escalation_corpus"
LONG = 4000


def corpus() -> list[str]:
    return [
        row["text"]
        for path in sorted(CORPUS.glob("*.yaml"))
        for row in yaml.safe_load(path.read_text(encoding="utf-8"))
    ]


def long_texts(short: list[str]) -> dict[str, str]:
    rnd = random.Random(4000)
    picked = rnd.sample(short, 200)
    return {
        "4,000 chars, sentences": ". ".join(picked)[:LONG],
        "4,000 chars, one sentence": " ".join(picked)[:LONG],
        "4,000 chars, 'meg kutter ' repeated": ("meg kutter " * LONG)[:LONG],
    }


def per_text_ms(rules: TextRules, texts: list[str], indexed: bool, rounds: int = 1) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for text in texts:
            find_matches(rules, text, indexed=indexed)
        best = min(best, time.perf_counter() - started)
    return 1000 * best / len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-reference", action="store_true", help="skip the slow plain reference")
    parser.add_argument("--dialogs", type=Path, default=DEFAULT_DIALOGS_DIR)
    args = parser.parse_args()
    rules = load_dialogs(args.dialogs).escalation.text
    short = corpus()
    for text in short:  # warm the per-word caches alike for both paths
        find_matches(rules, text)
    rows: list[tuple[str, Callable[[bool], float]]] = [
        (f"short chat texts (corpus, {len(short)})", lambda indexed: per_text_ms(rules, short, indexed, 3)),
    ]
    for label, text in long_texts(short).items():
        rows.append((label, lambda indexed, text=text: per_text_ms(rules, [text], indexed, 3)))
    print(f"{'text':40s} {'indexed ms':>11s} {'reference ms':>13s} {'ratio':>7s}")
    for label, measure in rows:
        fast = measure(True)
        if args.no_reference:
            print(f"{label:40s} {fast:11.3f}")
            continue
        slow = measure(False)
        print(f"{label:40s} {fast:11.3f} {slow:13.3f} {slow / fast:6.1f}x")


if __name__ == "__main__":
    main()
