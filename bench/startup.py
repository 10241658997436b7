"""`guidebot run` start-up: from starting the process to the first 200 from /readyz (issue 11).

This tree and, with --baseline REF[,REF...], the code of those git commits (`git archive`) start in turn,
--runs times each, against the fake Bot API server from tests/fakes. Each tree has a database
of its own (migrated by its own first start, which is not counted, nor is the start that writes
its dialog check record and its learned net's cache). Both trees are byte-compiled first, as
installed. Reported: the median wall time and the median CPU time of the process, and the ratio
of this tree's to each baseline's; the rounds alternate, so both see the same machine.

--latency S makes the fake server wait S seconds before it answers each call, as a round trip
to api.telegram.org does (e.g. 0.04): the calls a start waits for then show.

--cold measures a first start on a new machine instead: each start gets a new, empty database
(migrated by that start) and an empty cache directory (XDG_CACHE_HOME), so it checks the dialog
files in full and needs the learned net's scorer (trained, or read where it is shipped).

Usage: .venv/bin/python -m bench.startup [--runs 9] [--backend sqlite|postgresql]
           [--baseline 9772232,dfa724f] [--latency 0,0.04] [--cold]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from aiohttp import web
from sqlalchemy import create_engine, text

from bench.caseload import POSTGRES_ADMIN_URL, ROOT, TEAM, code_of, environment, start_up_seconds
from bench.telegram_throughput import BenchServer


class SlowServer(BenchServer):
    """The fake Bot API server, answering each call `latency` seconds late."""

    latency = 0.0

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.latency:
            await asyncio.sleep(self.latency)
        return await super()._handle(request)


def compile_tree(tree: Path) -> None:
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "bot")], check=True)


def database(backend: str, workdir: Path, name: str) -> tuple[str, Callable[[], None]]:
    """A fresh database for one tree, and what drops it afterwards."""
    if backend == "sqlite":
        return f"sqlite:///{workdir / f'{name}.db'}", lambda: None
    db = f"guidebot_startup_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{db}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()

    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{db}", drop


async def measure(runs: int, backend: str, baselines: list[str], latencies: list[float], cold: bool = False) -> None:
    server = SlowServer()
    await server.start()
    server.group(TEAM, "Veilederteamet")  # the bot checks at start that it can post in the team chat
    drops: list[Callable[[], None]] = []
    try:
        with tempfile.TemporaryDirectory() as directory:
            workdir = Path(directory)
            trees: dict[str, Path | None] = {}
            for ref in baselines:
                trees[ref] = code_of(ref, workdir)
            trees["this tree"] = None
            envs = {}
            for index, (name, code) in enumerate(trees.items()):
                await asyncio.to_thread(compile_tree, code or ROOT)
                if cold:
                    continue
                url, drop = database(backend, workdir, f"tree{index}")
                drops.append(drop)
                envs[name] = environment(url, code)
                for _ in range(2):  # migrates; writes the dialog check record and the learned cache
                    await start_up_seconds(server, envs[name], workdir)

            def new_machine(index: int, run: int, code: Path | None) -> dict[str, str]:
                """A new database and an empty cache, for one cold start."""
                url, drop = database(backend, workdir, f"cold{index}-{run}")
                drops.append(drop)
                cache = workdir / f"cache{index}-{run}"
                cache.mkdir()
                return {**environment(url, code), "XDG_CACHE_HOME": str(cache)}

            for latency in latencies:
                server.latency = latency
                found: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
                began = time.perf_counter()
                for run in range(runs):
                    for index, (name, code) in enumerate(trees.items()):
                        env = new_machine(index, run, code) if cold else envs[name]
                        found[name].append(await start_up_seconds(server, env, workdir))
                print(
                    f"{backend}{', first starts (new database, empty cache)' if cold else ''}, each call to the "
                    f"Bot API answered {latency * 1000:.0f} ms late, {runs} starts each "
                    f"({time.perf_counter() - began:.0f} s):",
                    flush=True,
                )
                medians = {}
                for name, starts in found.items():
                    wall = statistics.median(w for w, _ in starts)
                    cpu = statistics.median(c for _, c in starts)
                    medians[name] = wall
                    spread = f"{min(w for w, _ in starts):.2f}–{max(w for w, _ in starts):.2f}"
                    print(f"  {name:<22} to /readyz 200: median {wall:.2f} s (range {spread}), CPU {cpu:.2f} s")
                for ref in baselines:
                    print(f"  this tree / {ref}: ×{medians['this tree'] / medians[ref]:.2f}", flush=True)
    finally:
        await server.stop()
        for drop in drops:
            drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--baseline", default="", help="git commits to measure in turn with this tree: 9772232,dfa724f")
    parser.add_argument("--latency", default="0", help="seconds each Bot API call waits, comma-separated: 0,0.04")
    parser.add_argument("--cold", action="store_true", help="first starts: a new database and an empty cache each")
    args = parser.parse_args()
    logging.getLogger("aiohttp").setLevel(logging.CRITICAL)  # a stopped bot's long poll, cut off
    latencies = [float(x) for x in args.latency.split(",")]
    asyncio.run(measure(args.runs, args.backend, [r for r in args.baseline.split(",") if r], latencies, args.cold))


if __name__ == "__main__":
    main()
