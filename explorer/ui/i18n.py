"""English / Japanese for the built page: labels, help texts, explanations, buttons, tab names.

Builders write every label as ``T(key)`` (its English text, from ``explorer/locales/en``).
``collect`` walks the built Blocks once and finds, for each component, the catalog key behind
each label, help text, text value and choice; ``relabel`` returns the updates for a language.
Status lines and figures are rendered from their keys by each handler (``ui.common``) in
the language of the request (``current_language``: the switch's cookie, else the browser's).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

import gradio as gr

from ..messages import LANGUAGES as LANGUAGE_CODES
from ..messages import Msg, english_index, render
from ..models import REGISTRY, model_availability

LANGUAGES = [("English", "en"), ("日本語", "ja")]
assert tuple(code for _, code in LANGUAGES) == LANGUAGE_CODES
PROPS = ("label", "info", "placeholder")
TEXT_VALUE = (gr.Markdown, gr.Button)  # components whose value is their text
COOKIE = "explorer_lang"
SET_COOKIE_JS = "(lang) => { document.cookie = 'explorer_lang=' + lang + ';path=/;SameSite=Lax'; return lang; }"


@dataclass(frozen=True)
class Translatable:
    component: gr.components.Component | gr.blocks.BlockContext
    keys: dict[str, object]  # prop -> catalog key; "choices": [(key or None, value)]; "headers": [(key or None, text)]


def _model_choice(value: object) -> bool:
    return isinstance(value, str) and value in REGISTRY


def collect(demo: gr.Blocks) -> list[Translatable]:
    """Every component of ``demo`` with a label, help text, text or choice that comes from the catalog."""
    index = english_index()
    found = []
    for block in demo.blocks.values():
        keys: dict[str, object] = {}
        for prop in PROPS:
            value = getattr(block, prop, None)
            if isinstance(value, str) and value in index:
                keys[prop] = index[value]
        if isinstance(block, TEXT_VALUE) and isinstance(block.value, str) and block.value in index:
            keys["value"] = index[block.value]
        choices = _choice_keys(getattr(block, "choices", None), index)
        if isinstance(block, gr.Radio | gr.Dropdown | gr.CheckboxGroup) and choices:
            keys["choices"] = choices
        headers = getattr(block, "headers", None)  # an examples table's columns: its inputs' labels
        if isinstance(block, gr.Dataset) and headers and any(header in index for header in headers):
            keys["headers"] = [(index.get(header), header) for header in headers]
        # an examples table draws a menu's or a radio's cell with that input's choice labels
        props = getattr(block, "component_props", None) if isinstance(block, gr.Dataset) else None
        if props and any(_choice_keys(one.get("choices"), index) for one in props):
            keys["component_props"] = [_choice_keys(one.get("choices"), index) for one in props]
        if keys:
            found.append(Translatable(block, keys))
    return found


MODEL_SUFFIX = {
    "embedded": "model.suffix_embedded",
    "local": "model.suffix_local",
    "cached": "model.suffix_hub_cached",
    "download": "model.suffix_hub",
    "unavailable": "model.suffix_unavailable",
}


def model_label(name: str, language: str) -> str:
    """A model's menu entry: its name and whether it can run here (embedded, cached, downloads, unavailable)."""
    return render(Msg(MODEL_SUFFIX[model_availability(name)], model=name), language)


def _choice_keys(choices: list | None, index: dict[str, str]) -> list | None:
    """A choice list's ``[(catalog key or "model" or None, value)]``, or None if none of it is translated."""
    if not choices:
        return None
    if all(_model_choice(value) for _, value in choices):
        return [("model", value) for _, value in choices]
    if any(str(label) in index for label, _ in choices):
        return [(index.get(str(label)), value) for label, value in choices]
    return None


def _choice_label(key: str | None, value: object, language: str) -> str:
    if key == "model":
        return model_label(str(value), language)
    return render(Msg(key), language) if key else str(value)


def relabel(items: list[Translatable], language: str) -> list:
    """One ``gr.update`` per collected component, in ``language``."""
    updates = []
    for item in items:
        update = {}
        for prop, key in item.keys.items():
            if prop == "choices":
                update[prop] = [(_choice_label(k, value, language), value) for k, value in key]  # type: ignore[union-attr]
            elif prop == "component_props":
                update[prop] = [
                    {**props, "choices": [(_choice_label(k, value, language), value) for k, value in choices]}
                    if choices
                    else props
                    for props, choices in zip(item.component.component_props, key, strict=True)  # type: ignore[union-attr]
                ]
            elif prop == "headers":
                update[prop] = [render(Msg(k), language) if k else header for k, header in key]  # type: ignore[union-attr]
            else:
                update[prop] = render(Msg(str(key)), language)
        updates.append(gr.update(**update))
    return updates


def detect(query_language: str | None, accept_language: str | None) -> str:
    """``?lang=`` wins; otherwise the browser's preferred language (Accept-Language), else English."""
    if query_language in LANGUAGE_CODES:
        return query_language
    preferred = (accept_language or "").split(",")[0].strip().lower()
    return "ja" if preferred.startswith("ja") else "en"


# The page's language when a handler is handed it (``speaking``): the first result of a page load
# runs right after the cookie is written, and must not depend on which request carried it.
_SPOKEN: ContextVar[str | None] = ContextVar("explorer_spoken_language", default=None)


@contextlib.contextmanager
def speaking(language: str | None) -> Iterator[None]:
    """Within the block, ``current_language()`` is ``language`` (if it is one of ours)."""
    token = _SPOKEN.set(language if language in LANGUAGE_CODES else None)
    try:
        yield
    finally:
        _SPOKEN.reset(token)


def current_language() -> str:
    """The language of the request being served: the one handed over (``speaking``), else the
    page's switch (a cookie), else the browser's."""
    from gradio.context import LocalContext

    spoken = _SPOKEN.get()
    if spoken is not None:
        return spoken
    request = LocalContext.request.get(None)
    if request is None:
        return "en"
    try:
        chosen = request.cookies.get(COOKIE)
        accept = request.headers.get("accept-language")
    except AttributeError:  # a request without cookies or headers (e.g. called from Python)
        return "en"
    return detect(chosen, accept)
