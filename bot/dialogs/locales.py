"""Languages as data: each folder `dialogs/locales/<code>/` holds every text of one language.

A folder has `locale.yaml` (the language's own name, the Telegram language codes it
serves, and whether it is the original the others are translated from) and any number
of text files, in subfolders too. Every text file's keys are flattened into one table
per locale (`checkin.useful`), so a text may move between files freely.

A locale is complete when it has every text that any other locale has, every text the
code uses, and every text the flows, programs and instruments name; and when none of its
texts is still an untranslated copy (see `worth_checking`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from bot.dialogs.model import Locale
from bot.dialogs.problems import Problem, Reader
from bot.dialogs.yamlfile import ListNode, Node

META_FILE = "locale.yaml"
MAIN_FILE = "texts.yaml"
_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
_TEMPLATE_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_WORD = re.compile(r"[^\W\d_]{2,}")
WORDS_TO_CHECK = 3


@dataclass
class LocaleTexts:
    """One locale folder as read: its texts, and where each one stands."""

    meta: Locale
    folder: Path
    entries: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    sections: dict[tuple[Path, str], int] = field(default_factory=dict)  # (file, "checkin") -> line

    @property
    def code(self) -> str:
        return self.meta.code

    def place_for(self, key: str, relative: Path) -> tuple[Path, int]:
        """Where `key` belongs in this locale: the file, and the line of its section if there."""
        path = self.folder / relative
        parts = key.split(".")[:-1]
        while parts:
            line = self.sections.get((path, ".".join(parts)))
            if line is not None:
                return path, line
            parts.pop()
        return path, 1


LocaleTable = dict[str, LocaleTexts]


def read_locales(reader: Reader, root: Path) -> LocaleTable:
    """Every locale folder under `root/locales`, in order of their codes."""
    folder = root / "locales"
    if not folder.is_dir():
        reader.fail(folder, 0, "folder is missing: every language is a folder dialogs/locales/<code>/")
        return {}
    result: LocaleTable = {}
    for path in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        if not _CODE.match(path.name):
            reader.fail(path, 0, f"'{path.name}' is not a language code such as nb, nn or en")
            continue
        meta = _meta(reader, path)
        if meta is not None:
            result[path.name] = _texts(reader, meta, path)
    if not result:
        reader.fail(folder, 0, "there is no locale folder, such as dialogs/locales/nb/")
    return result


def _meta(reader: Reader, folder: Path) -> Locale | None:
    path = folder / META_FILE
    if not path.is_file():
        reader.fail(path, 0, f"locale '{folder.name}' has no {META_FILE} (its name and Telegram language codes)")
        return None
    node = reader.read(path)
    if node is None:
        return None
    name = node.get("name")
    if not isinstance(name, str) or not name.strip():
        reader.fail(path, node.line_of("name"), "'name' must be the language's own name, e.g. Norsk (nynorsk)")
        name = folder.name
    return Locale(
        code=folder.name,
        name=name.strip(),
        telegram=_words(reader, path, node, "telegram"),
        original=node.get("original", False) is True,
        translated_from=str(node.get("translated_from", "")),
        same_on_purpose=_words(reader, path, node, "same_on_purpose"),
        order=reader.integer(path, node, "order", 100),
    )


def _words(reader: Reader, path: Path, node: Node, key: str) -> tuple[str, ...]:
    value = node.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        reader.fail(path, node.line_of(key), f"'{key}' must be a list of words")
        return ()
    return tuple(str(v) for v in value)


def _texts(reader: Reader, meta: Locale, folder: Path) -> LocaleTexts:
    table = LocaleTexts(meta=meta, folder=folder)
    paths = sorted(p for p in folder.rglob("*.yaml") if p.name != META_FILE or p.parent != folder)
    if not (folder / MAIN_FILE).is_file():
        reader.fail(folder / MAIN_FILE, 0, f"locale '{meta.code}' has no {MAIN_FILE}")
    for path in paths:
        node = reader.read(path)
        if node is None:
            continue
        found: dict[str, str] = {}
        found_lines: dict[str, int] = {}
        _flatten(reader, table, path, node, "", found, found_lines)
        for key in found:
            if key in table.entries:
                reader.fail(path, found_lines[key], f"text '{key}' is also in {table.files[key].name}")
            table.files[key] = path
        table.entries.update(found)
        table.lines.update(found_lines)
    return table


def _flatten(
    reader: Reader,
    table: LocaleTexts,
    path: Path,
    node: Node,
    prefix: str,
    out: dict[str, str],
    lines: dict[str, int],
) -> None:
    for key, value in node.items():
        full = f"{prefix}{key}"
        if isinstance(value, Node):
            table.sections[(path, full)] = node.line_of(key)
            _flatten(reader, table, path, value, full + ".", out, lines)
        elif isinstance(value, str):
            out[full] = value
            lines[full] = node.line_of(key)
        elif isinstance(value, ListNode):
            reader.fail(path, node.line_of(key), f"text '{full}' must be text, not a list")
        else:
            reader.fail(path, node.line_of(key), f"text '{full}' must be text")


# -- completeness -------------------------------------------------------------------


def check_complete(reader: Reader, locales: LocaleTable, needed: dict[str, str]) -> None:
    """Every locale has every text (any locale's, and `needed`: key -> who needs it), translated."""
    _check_meta(reader, locales)
    for table in locales.values():
        _check_missing(reader, table, locales, needed)
        if not table.meta.original:
            _check_translated(reader, table, locales)


def _check_meta(reader: Reader, locales: LocaleTable) -> None:
    for table in locales.values():
        source = table.meta.translated_from
        if source and source not in locales:
            path = table.folder / META_FILE
            reader.fail(path, 1, f"translated_from: there is no locale '{source}'")
    originals = [t.code for t in locales.values() if t.meta.original]
    if len(originals) > 1:
        for code in originals[1:]:
            path = locales[code].folder / META_FILE
            reader.fail(path, 1, f"only one locale is the original; {', '.join(originals)} all say 'original: true'")
    claimed: dict[str, str] = {}
    for table in locales.values():
        for language in sorted(set(table.meta.telegram) - locales.keys()):  # a locale's own code is its own
            other = claimed.setdefault(language, table.code)
            if other != table.code:
                path = table.folder / META_FILE
                reader.fail(path, 1, f"Telegram language '{language}' is claimed by both '{other}' and '{table.code}'")


def _check_missing(reader: Reader, table: LocaleTexts, locales: LocaleTable, needed: dict[str, str]) -> None:
    others = [t for t in locales.values() if t.code != table.code]
    others.sort(key=lambda t: (t.code != table.meta.translated_from, not t.meta.original))  # the likeliest source first
    wanted: dict[str, tuple[Path, str]] = {}
    for other in others:
        for key, path in other.files.items():
            if key not in wanted:
                relative = path.relative_to(other.folder)
                wanted[key] = (relative, f"{other.code} has it: {other.code}/{relative}:{other.lines[key]}")
    for key, why in needed.items():
        wanted.setdefault(key, (Path(MAIN_FILE), why))
    for key in sorted(wanted.keys() - table.entries.keys()):
        relative, why = wanted[key]
        path, line = table.place_for(key, relative)
        reader.fail(path, line, f"text '{key}' has no '{table.code}' version ({why})", locale=table.code, gap="missing")


def _check_translated(reader: Reader, table: LocaleTexts, locales: LocaleTable) -> None:
    others = [t for t in locales.values() if t.code != table.code and _copied_from(table, t)]
    others.sort(key=lambda t: not t.meta.original)
    meta_file = reader.name(table.folder / META_FILE)
    for key, text in table.entries.items():
        if not worth_checking(text) or any(fnmatchcase(key, p) for p in table.meta.same_on_purpose):
            continue
        same = next((o.code for o in others if o.entries.get(key) == text), None)
        if same is not None:
            reader.fail(
                table.files[key],
                table.lines[key],
                f"text '{key}' is not translated into '{table.code}': it is the same as in '{same}' "
                f"(if that is right, list it under same_on_purpose in {meta_file})",
                locale=table.code,
                gap="untranslated",
            )


def _copied_from(table: LocaleTexts, other: LocaleTexts) -> bool:
    """Whether a text `table` shares with `other` counts against `table`: always against the
    original's, and between two translations against the one translated from the other
    (or against both, when neither says so)."""
    if other.meta.original or table.meta.translated_from == other.code:
        return True
    return other.meta.translated_from != table.code


def incomplete_locales(problems: list[Problem]) -> list[str]:
    """One line per locale with texts missing or untranslated, e.g. for `guidebot dialogs check`."""
    counts: dict[str, Counter[str]] = {}
    for problem in problems:
        if problem.locale is not None:
            counts.setdefault(problem.locale, Counter())[problem.gap] += 1
    return [
        f"locale '{code}' is incomplete: {found['missing']} text(s) missing, {found['untranslated']} not translated"
        for code, found in sorted(counts.items())
    ]


def worth_checking(text: str) -> bool:
    """Whether a text copied unchanged from another locale is suspicious.

    Only texts with three or more words (of two or more letters, outside template tags)
    count: names, numbers, age bands and texts made only of template values are often
    rightly the same in two languages.
    """
    return len(_WORD.findall(_TEMPLATE_TAG.sub(" ", text))) >= WORDS_TO_CHECK
