"""Dialog text as sandboxed Jinja2 templates, compiled once per dialog set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, Template
from jinja2.sandbox import SandboxedEnvironment


def make_environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    return env


_SYNTAX = ("{{", "{%", "{#")


def is_plain(text: str) -> bool:
    """No Jinja syntax in `text` (no line statements are configured), so it renders as itself."""
    return not any(mark in text for mark in _SYNTAX)


class Renderer:
    """Renders text keys for a locale; templates are compiled on first use."""

    def __init__(self, texts: Mapping[str, Mapping[str, str]]) -> None:
        self._texts = texts
        self._env = make_environment()
        self._cache: dict[tuple[str, str], Template] = {}

    def has(self, locale: str, key: str) -> bool:
        return key in self._texts.get(locale, {})

    def template(self, locale: str, key: str) -> Template:
        cached = self._cache.get((locale, key))
        if cached is None:
            cached = self._env.from_string(self._texts[locale][key])
            self._cache[(locale, key)] = cached
        return cached

    def is_plain(self, locale: str, key: str) -> bool:
        """Whether the text has no template syntax at all, so it renders as itself."""
        return is_plain(self._texts[locale][key])

    def render(self, locale: str, key: str, context: Mapping[str, Any]) -> str:
        text = self._texts[locale][key]
        if is_plain(text):
            # Four texts in five: no need to compile what Jinja would give back unchanged.
            return text.strip()
        return self.template(locale, key).render(context).strip()

    def clock(self, locale: str, hhmm: str) -> str:
        """A time of day ("19:30", as stored) as `locale` writes it, by its text `format.time`
        ("19.30" in Norwegian); as stored when the locale has no such text."""
        return clock_text(self, locale, hhmm)

    def condition(self, expression: str, context: Mapping[str, Any]) -> bool:
        return bool(self._env.compile_expression(expression)(**context))


def clock_text(renderer: Renderer, locale: str, hhmm: str) -> str:
    hour, sep, minute = hhmm.partition(":")
    if not (sep and hour.isdigit() and minute.isdigit()) or not renderer.has(locale, "format.time"):
        return hhmm
    return renderer.render(locale, "format.time", {"hh": f"{int(hour):02d}", "mm": f"{int(minute):02d}"})
