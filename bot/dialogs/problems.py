"""Problems found in the dialog files, each with its file and line."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bot.dialogs.yamlfile import Node, YamlError, load


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str
    locale: str | None = None  # for a text a locale lacks or has not translated:
    gap: str = ""  # "missing" or "untranslated"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class DialogsInvalid(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class Reader:
    """Reads dialog files and collects the problems found on the way."""

    def __init__(self, root: Path, files: dict[Path, bytes] | None = None) -> None:
        self.root = root
        self.problems: list[Problem] = []
        # The folder's files as already read (verdict.snapshot), so that what is parsed is what was hashed.
        self.files = files or {}
        self.unhashed = False  # a file was read from disk although there is a snapshot (it came since)

    def data(self, path: Path) -> bytes:
        """A file's bytes: from the snapshot where it holds the file, else from disk."""
        cached = self.files.get(path)
        if cached is not None:
            return cached
        self._note_unhashed(path)
        return path.read_bytes()

    def _note_unhashed(self, path: Path) -> None:
        if self.files and Path(os.path.normpath(path)).is_relative_to(os.path.normpath(self.root)):
            self.unhashed = True

    def name(self, path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def fail(self, path: Path, line: int, message: str, *, locale: str | None = None, gap: str = "") -> None:
        self.problems.append(Problem(self.name(path), line, message, locale, gap))

    def read(self, path: Path) -> Node | None:
        try:
            cached = self.files.get(path)
            if cached is None:
                self._note_unhashed(path)
            data = load(path, cached)
        except YamlError as exc:
            self.fail(path, exc.line, exc.message)
            return None
        except (OSError, UnicodeDecodeError) as exc:
            self.fail(path, 1, f"cannot read: {exc}")
            return None
        if not isinstance(data, Node):
            self.fail(path, 1, "the file must hold a mapping")
            return None
        return data

    def integer(self, path: Path, node: Node, key: str, default: int | None = None) -> int:
        value = node.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, node.line_of(key), f"'{key}' must be a whole number")
            return 0
        return value
