"""Train the learned net for guidebot's own example files, and ship it in `bot/dialogs/shipped/`.

    .venv/bin/python -m bot.dialogs.ship [DIALOGS_DIR]

A first start on a new machine then reads this scorer instead of training for several seconds
before it is ready (see `learned.py`). Run it after changing `dialogs/examples/`;
tests/test_learned_scorer.py fails until then. It always trains afresh (never from a cache),
writes `learned-<format>-<key>.json.gz` with the same bytes for the same scorer, and removes
the scorers shipped for older examples.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

from bot.dialogs import learned
from bot.dialogs.load import DialogsInvalid, load_dialogs

DIALOGS_DIR = Path(__file__).resolve().parents[2] / "dialogs"  # the repository's, as bot/config.py has it


def ship(root: Path) -> Path:
    net = load_dialogs(root).escalation.learned
    if not (net.risk and net.benign):
        raise SystemExit(f"{root}: escalation.yaml names no risk and benign example files to train on")
    data = learned.trained_data(net.key, net.risk, net.benign)
    path = learned.shipped_path(net.key)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    path.write_bytes(gzip.compress(body, compresslevel=9, mtime=0))
    for old in learned.SHIPPED_DIR.glob("learned-*.json.gz"):
        if old != path:
            old.unlink()
    return path


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else DIALOGS_DIR
    try:
        path = ship(root)
    except DialogsInvalid as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        raise SystemExit(1) from None
    print(f"shipped {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
