"""The learned net's cost to the bot process: peak RSS and the time to the first score.

Each case runs in a fresh process that imports bot.cli (as `guidebot run` does), builds
the app on a fresh SQLite database with the shipped dialogs, warms the learned net up and
scans one text; it prints its own peak RSS (resource.getrusage, RUSAGE_SELF), the peak
RSS of its children (the training child, if any) and its timings.

- before: the old way, scikit-learn imported and the pipeline fitted in the bot process
  (`learned_train.fit_pipeline`, the same pipeline), scored with `predict_proba`;
- cold: the compact scorer with an empty cache: a child process trains, the bot loads the data;
- warm: the compact scorer read from the cache a cold run left.

    .venv/bin/python bench/learned_memory.py
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEXT = "jeg har tenkt mye på å ta en slutt på alt sammen"


def one(case: str, cache: str, database: str) -> None:
    started = time.perf_counter()
    # imported here, inside the timing, as `guidebot run` imports them
    import bot.cli  # noqa: F401, PLC0415
    from bot.app import build_app  # noqa: PLC0415
    from bot.config import Settings  # noqa: PLC0415
    from bot.dialogs import learned  # noqa: PLC0415
    from bot.engine.signals import scan  # noqa: PLC0415

    app = build_app(Settings(_env_file=None, database_url=f"sqlite:///{database}"))  # type: ignore[call-arg]
    built = time.perf_counter()
    rules = app.dialogs.current.dialogs.escalation
    net = rules.learned
    if case == "before":
        from bot.dialogs.learned_train import fit_pipeline  # noqa: PLC0415

        model = fit_pipeline(
            [learned._normal(t) for t in (*net.risk, *net.benign)], [1] * len(net.risk) + [0] * len(net.benign)
        )
        probability = float(model.predict_proba([learned._normal(TEXT)])[0][1])
        action = "-"
    else:
        learned.CACHE_DIR = Path(cache)
        net.warm_up()
        probability = net.probability(TEXT)
        action = scan(rules, TEXT).action
    scored = time.perf_counter()
    app.db.dispose()
    print(
        json.dumps(
            {
                "case": case,
                "import_and_build_s": round(built - started, 3),
                "warm_up_and_score_s": round(scored - built, 3),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "child_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
                "probability": round(probability, 6),
                "action": action,
                "sklearn_loaded": "sklearn" in sys.modules,
            }
        )
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        rows = []
        for n, case in enumerate(("before", "cold", "warm")):
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, __file__, case, str(cache), str(Path(tmp) / f"bench-{n}.db")],
                capture_output=True,
                text=True,
                check=True,
            )
            row = json.loads(done.stdout.strip().splitlines()[-1])
            row["process_wall_s"] = round(time.perf_counter() - started, 3)
            rows.append(row)
    columns = [
        "case",
        "peak_rss_mb",
        "child_peak_rss_mb",
        "import_and_build_s",
        "warm_up_and_score_s",
        "process_wall_s",
        "sklearn_loaded",
        "probability",
    ]
    print(" | ".join(columns))
    for row in rows:
        print(" | ".join(str(row[c]) for c in columns))


if __name__ == "__main__":
    if len(sys.argv) == 4:
        one(*sys.argv[1:])
    else:
        main()
