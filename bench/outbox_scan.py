"""The sender's periodic outbox scan at a large backlog: whole rows (before) against ids alone (now).

ROWS unsent rows wait in a SQLite outbox, every one already queued by the sender, as in
a burst of due check-ins. Times one full scan each way, twice, in one run.

Usage: .venv/bin/python -m bench.outbox_scan [--rows 20000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import insert

from bot.app import build_app
from bot.channels.telegram.outbox import BATCH, SCAN_IDS, due_ids, load_due, set_aside_unreachable
from bot.config import Settings
from bot.storage.db import transaction
from bot.storage.models import OutboxItem


def main(rows: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        app = build_app(Settings(_env_file=None, database_url=f"sqlite:///{directory}/scan.db"), run_migrations=True)  # type: ignore[call-arg]
        now = datetime.now(UTC)
        payload = {
            "text": "Hei! Nå er det tid for samtalen. " * 8,
            "buttons": [[{"text": str(n), "data": f"a:{n}"}] for n in range(4)],
        }
        with transaction(app.db) as session:
            session.execute(
                insert(OutboxItem),
                [{"chat_id": 700_000 + n, "kind": "text", "payload": payload, "created_at": now} for n in range(rows)],
            )

        def whole_rows() -> None:  # the scan before: load_due from the start, BATCH rows at a time
            with transaction(app.db) as session:
                after = 0
                while len(batch := load_due(session, after, now)) == BATCH:
                    after = batch[-1].row_id

        def ids_alone() -> None:  # the scan now, with every row already in hand
            with transaction(app.db) as session:
                set_aside_unreachable(session)
                after = 0
                while len(ids := due_ids(session, after)) == SCAN_IDS:
                    after = ids[-1]

        scans: list[tuple[str, Callable[[], None]]] = [("whole rows", whole_rows), ("ids alone", ids_alone)]
        for name, scan in scans * 2:
            began = time.perf_counter()
            scan()
            print(f"{name:<10} {rows} unsent rows: {time.perf_counter() - began:.3f} s a scan")
        app.db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    main(parser.parse_args().rows)
