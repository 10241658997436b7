"""The HTML pages: Jinja2 templates with autoescape on, every word taken from the dialog texts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
STATIC_TYPES = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}

Text = Callable[..., str]


def environment(locale: str) -> Environment:
    """Templates are part of the program, not admin-edited data; the texts they show are rendered sandboxed."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["number"] = number_filter(locale)
    return env


def static_files() -> dict[str, bytes]:
    return {name: (STATIC / name).read_bytes() for name in STATIC_TYPES}


def number_filter(locale: str) -> Callable[[object], str]:
    """A figure as the reader writes it: 2,5 in Norwegian, 2.5 in English."""

    def number(value: object) -> str:
        shown = str(value)
        return shown.replace(".", ",") if locale in ("nb", "nn") and isinstance(value, float) else shown

    return number


def render(
    env: Environment,
    template: str,
    *,
    text: Text,
    locale: str,
    base: str,
    clinician: str | None = None,
    csrf: str | None = None,
    section: str | None = None,
    notice: str | None = None,
    **values: Any,
) -> str:
    page = env.get_template(template)
    return page.render(
        t=text,
        locale=locale,
        base=base,
        clinician=clinician,
        csrf=csrf,
        section=section,
        notice=notice,
        **values,
    )
