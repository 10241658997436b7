"""Texts without template syntax skip Jinja; they must render exactly as Jinja would render them."""

from __future__ import annotations

from pathlib import Path

from bot.dialogs.load import load_dialogs
from bot.dialogs.render import Renderer, is_plain, make_environment

DIALOGS = Path(__file__).resolve().parent.parent / "dialogs"


def test_every_plain_shipped_text_renders_as_jinja_would() -> None:
    dialogs = load_dialogs(DIALOGS)
    env = make_environment()
    renderer = Renderer(dialogs.texts)
    plain = 0
    for locale, texts in dialogs.texts.items():
        for key, text in texts.items():
            if is_plain(text):
                plain += 1
                assert renderer.render(locale, key, {}) == env.from_string(text).render().strip(), (locale, key)
    assert plain > 1000  # most texts are plain; the shortcut is worth having


def test_any_template_syntax_goes_through_jinja() -> None:
    renderer = Renderer(
        {"nb": {"a": "Hei {{ name }}", "b": "{% if x %}ja{% endif %}", "c": "{# note #}tekst", "d": " ren \n"}}
    )
    assert renderer.render("nb", "a", {"name": "K-1"}) == "Hei K-1"
    assert renderer.render("nb", "b", {"x": True}) == "ja"
    assert renderer.render("nb", "c", {}) == "tekst"
    assert renderer.render("nb", "d", {}) == "ren"
    assert not is_plain("{{ x }}") and is_plain("100 % sikker {på} det")
