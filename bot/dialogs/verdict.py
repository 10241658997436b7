"""Remembering that a dialogs folder passed the full check, so a start with the same files skips it.

The whole-set check (`check.check_semantics`: graph, texts, and every template compiled and
rendered with sample data in every locale) was about half of `guidebot run`'s start-up, and
it gives the same answer for the same files and the same code. So when it passes, a small
file records it, named by a sha256 over every file in the dialogs folder (its path in the
folder and its bytes), the code of `bot/dialogs/` and the versions of Jinja2, PyYAML and
Python. A later load of the same bytes finds the file and skips the check; templates then
compile on first use (`render.Renderer`). Any changed byte, any added or removed file, or
a code change makes another name, so the full check runs, and a broken file is refused with
its file and line as before. Only a passing check is recorded; an unreadable or corrupt
record is no record.

The loader reads the files from the snapshot taken for the digest, so what is loaded is
exactly what was hashed, even when an admin saves a file meanwhile.

Records live beside the learned net's cache (`learned.cache_dir`); the newest KEEP are kept.
`guidebot dialogs check` always runs the full check (and records a pass).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2
import yaml

from bot.dialogs import learned

log = logging.getLogger(__name__)

FORMAT = 1
# Where records go; None: the learned net's cache directory.
VERDICT_DIR: Path | None = None
KEEP = 32
_PREFIX = "dialogs-ok-"


@dataclass(frozen=True)
class Snapshot:
    """Every file under a dialogs folder, read once: the loader parses these bytes."""

    files: dict[Path, bytes]
    digest: str


def verdict_dir() -> Path:
    return VERDICT_DIR if VERDICT_DIR is not None else learned.cache_dir()


@lru_cache(maxsize=1)
def code_digest() -> str:
    """The code that loads and checks dialogs, and the libraries whose answers it relies on.
    bot/dialogs/ imports no other project code (tests/test_import_layers.py holds it to that)."""
    digest = hashlib.sha256(f"{FORMAT}\0{sys.version}\0{jinja2.__version__}\0{yaml.__version__}\0".encode())
    for source in sorted(Path(__file__).resolve().parent.glob("*.py")):
        data = source.read_bytes()
        digest.update(f"{source.name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def snapshot(root: Path) -> Snapshot | None:
    """Read every file under `root` (following links, as the loader does); None where one cannot be
    read, so that the ordinary load runs and says which."""
    files: dict[Path, bytes] = {}
    digest = hashlib.sha256(code_digest().encode())
    seen: set[str] = set()
    try:
        for folder, dirs, names in os.walk(root, followlinks=True, onerror=_raise):
            real = os.path.realpath(folder)
            if real in seen:  # a link back up the tree
                dirs.clear()
                continue
            seen.add(real)
            dirs.sort()
            base = Path(folder)
            for name in sorted(names):
                path = base / name
                data = path.read_bytes()
                files[path] = data
                relative = path.relative_to(root).as_posix()
                digest.update(f"\0{relative}\0{len(data)}\0".encode())
                digest.update(data)
    except (OSError, ValueError):
        return None
    return Snapshot(files, digest.hexdigest())


def unchanged(root: Path, snap: Snapshot) -> bool:
    """Whether `root` still lists the files of `snap` (names only): the loader finds files by
    listing folders, so one added or removed since the snapshot would go unhashed."""
    names: set[Path] = set()
    seen: set[str] = set()
    try:
        for folder, dirs, files in os.walk(root, followlinks=True, onerror=_raise):
            real = os.path.realpath(folder)
            if real in seen:
                dirs.clear()
                continue
            seen.add(real)
            names.update(Path(folder) / name for name in files)
    except OSError:
        return False
    return names == snap.files.keys()


def _raise(error: OSError) -> None:
    raise error


def _record_path(digest: str) -> Path:
    return verdict_dir() / f"{_PREFIX}{digest}.json"


def known_good(digest: str) -> bool:
    """Whether these exact files passed the full check before; anything unreadable is a no."""
    try:
        data = json.loads(_record_path(digest).read_bytes())
        return isinstance(data, dict) and data.get("format") == FORMAT and data.get("digest") == digest
    except (OSError, ValueError):
        return False


def remember_good(digest: str) -> None:
    """Record a passed check (atomically); where the folder is not writable, do without."""
    folder = verdict_dir()
    path = _record_path(digest)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=folder, prefix=f".{_PREFIX}", delete=False) as tmp:
            try:
                tmp.write(json.dumps({"format": FORMAT, "digest": digest}).encode())
            except BaseException:
                os.unlink(tmp.name)
                raise
        os.replace(tmp.name, path)
        _prune(folder)
    except OSError as exc:
        log.info("dialogs: the passed check is not remembered, %s is not writable (%s)", folder, exc.strerror)


def _prune(folder: Path) -> None:
    """Keep the newest KEEP records: one is made per set of files that passed."""
    records = sorted(folder.glob(f"{_PREFIX}*.json"), key=_mtime, reverse=True)
    for old in records[KEEP:]:
        old.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
