"""Every user-facing string is made once, as a key with parameters, and rendered at the UI edge.

Code never writes a sentence for the user: it builds a ``Msg("attention.summary", model=…,
layers=6)`` and hands it on. The page renders it in the session's language with ``render``;
the public API renders it in English. Catalogs are data files, one folder per language
(``explorer/locales/<lang>/*.json``, split by namespace so each tab owns its file);
``tests/test_messages.py`` checks that every key used in code exists in every language with
the same parameters.

Parameters that are themselves messages (``Msg``) are rendered in the same language, so
``Msg("fallback.used", reason=error.msg)`` reads in one language throughout. User text
passed as a parameter is inserted as it is: escaping is the job of the component that
shows it (status lines escape HTML, figures are drawn as text).
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

LOCALES = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("en", "ja")
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Msg:
    """A message before it has a language: a catalog key and its parameters."""

    key: str
    params: tuple[tuple[str, Any], ...] = ()

    def __init__(self, key: str, /, **params: Any) -> None:
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "params", tuple(sorted(params.items())))

    def render(self, language: str = DEFAULT_LANGUAGE) -> str:
        return render(self, language)

    def __str__(self) -> str:  # logs and plain Python users read English
        return render(self, DEFAULT_LANGUAGE)


Text = Msg | str  # a literal str is data (a token, a model id, user text), never a sentence


@cache
def catalog(language: str) -> dict[str, str]:
    """All entries of one language: ``{key: template}`` merged from its namespace files."""
    entries: dict[str, str] = {}
    for path in sorted((LOCALES / language).glob("*.json")):
        for key, template in json.loads(path.read_text(encoding="utf-8")).items():
            if key in entries:
                raise ValueError(f"message key {key!r} is defined twice in {language} ({path.name})")
            entries[key] = template
    return entries


def template_fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _format_value(value: Any, language: str) -> Any:
    if isinstance(value, Msg):
        return render(value, language)
    if isinstance(value, list | tuple) and value and all(isinstance(item, Msg | str) for item in value):
        separator = "、" if language == "ja" else ", "
        return separator.join(_format_value(item, language) for item in value)
    return value


def render(message: Text, language: str = DEFAULT_LANGUAGE) -> str:
    """``message`` in ``language``; a plain ``str`` is returned as it is (it is data)."""
    if not isinstance(message, Msg):
        return message
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    template = catalog(language).get(message.key)
    if template is None:
        template = catalog(DEFAULT_LANGUAGE).get(message.key)
        if template is None:
            raise KeyError(f"message key {message.key!r} is in no catalog")
    params = {name: _format_value(value, language) for name, value in message.params}
    return template.format_map(params)


def render_all(messages: Iterable[Text], language: str) -> list[str]:
    return [render(message, language) for message in messages]


def render_tree(node: Any, language: str) -> Any:
    """Render every ``Msg`` inside nested dicts/lists (figures, API results); the rest is kept."""
    if isinstance(node, Msg):
        return render(node, language)
    if isinstance(node, dict):
        return type(node)((key, render_tree(value, language)) for key, value in node.items())
    if isinstance(node, list | tuple):
        return type(node)(render_tree(item, language) for item in node)
    return node


def english_index() -> dict[str, str]:
    """English text -> key, for labels gradio keeps as plain strings (``ui.i18n`` reads it)."""
    index: dict[str, str] = {}
    for key, template in catalog(DEFAULT_LANGUAGE).items():
        index.setdefault(template, key)
    return index
