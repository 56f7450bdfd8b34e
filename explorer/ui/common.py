"""Pieces shared by the tab builders: labels from the catalog, the model picker, rendering a
presenter's result into component values in the page's language, and the error guard."""

from __future__ import annotations

import functools
import html
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from .. import views
from ..errors import ExplorerError
from ..messages import DEFAULT_LANGUAGE, Msg, render, render_tree
from ..models import (
    OFFLINE_DEFAULT,
    REGISTRY,
    any_model_allowed,
    embedded_shape,
    loaded_model_names,
    model_availability,
    names_for_task,
    resolve,
)
from ..present.common import LayerHeadResult, Result, Table
from . import i18n

log = logging.getLogger(__name__)


def T(key: str, **params: Any) -> str:  # noqa: N802 (reads like gettext's _)
    """A label in English, the language the Blocks are built in; ``i18n`` relabels it by its key."""
    return render(Msg(key, **params), DEFAULT_LANGUAGE)


@dataclass(frozen=True)
class TabHandle:
    """What app.py needs from a built tab: how to run it, and the controls a link can set."""

    run: tuple[Callable, list, list]  # (fn, inputs, outputs), as registered on the primary button
    # (fn, inputs, outputs) that redraws the tab's figures from the cache when the tab is shown: a plot
    # filled while its tab was hidden has been seen to stay empty (gradio 6.31), so showing it draws again.
    shown: tuple[Callable, list, list] | None = None
    text: gr.Textbox | None = None  # the main text box (a link's ``text``), None for the positional tab
    shareable: dict[str, gr.components.Component] = field(default_factory=dict)  # link field -> control
    # A hidden text box the tab writes an in-page link into (``tab=attention&layer=3&head=1&…``, as a
    # shared link's query): app.py then selects that tab, sets its shareable controls and runs it,
    # without reloading the page (what the user did in the other tabs stays).
    opens: gr.Textbox | None = None
    opens_tabs: tuple[str, ...] = ()  # the tabs it may open


class MarkedCheckbox(gr.Checkbox):
    """A checkbox whose cell in an examples table reads ✓ or – in every language (gradio writes the
    JavaScript words "true" and "false" there, English on a Japanese page); clicking the example still
    loads the boolean. ``is_template`` keeps the frontend's checkbox."""

    is_template = True

    def process_example(self, value: bool | None) -> str:
        return "✓" if value else "–"


class BoundedSlider(gr.Slider):
    """A slider whose out-of-range values reach the presenter, which answers with a keyed message.

    gradio's own check raises a raw English range error before the handler runs (typing 5000
    in a 2-1024 box); ``is_template`` keeps the frontend's slider.
    """

    is_template = True

    def preprocess(self, payload: float | None) -> float | None:
        return payload


def layer_head_sliders(layer: int = 0, head: int = 0, head_minimum: int = 0, head_label: str = "ui.head") -> tuple:
    """Layer and head sliders sized from the embedded model's shape; each analysis resizes them to its model."""
    layers, heads = embedded_shape()
    return (
        BoundedSlider(0, layers - 1, value=min(layer, layers - 1) if layer >= 0 else layers + layer, step=1, label=T("ui.layer")),
        BoundedSlider(head_minimum, heads - 1, value=head, step=1, label=T(head_label)),
    )


def refit_layer_head(result: LayerHeadResult) -> tuple[gr.Slider, gr.Slider]:
    """The layer and head sliders resized to the result's model, at the layer and head it drew."""
    return gr.Slider(maximum=result.n_layers - 1, value=result.layer), gr.Slider(maximum=result.n_heads - 1, value=result.head)


# The examples tables built since app.py last took them: app.py runs a tab when one of its examples
# is clicked (the example loads, then the tab's own handler runs, as its primary button would).
BUILT_EXAMPLES: list[gr.Examples] = []


def examples(rows: list[list[str]], inputs: list[gr.components.Component], runs_tab: bool = True) -> gr.Examples:
    """``gr.Examples`` under the catalog's "Examples" label, loading values only.

    gradio 6.31 loads an example as ``gr.update(value=…, **the input's construction kwargs)``,
    which would put the English label and help text back on a Japanese page; ``i18n`` owns them.
    ``runs_tab=False``: the tab runs the example itself (a hidden model box that sets the menu and
    runs); app.py's run would race it with the menu's previous model and could win.
    """
    found = gr.Examples(rows, inputs=inputs, label=T("ui.examples"))
    for props in getattr(found, "input_component_props", []):
        for prop in (*i18n.PROPS, "choices"):  # a radio's choices are relabelled by i18n too
            props.pop(prop, None)
    if runs_tab:
        BUILT_EXAMPLES.append(found)
    return found


def model_choices(task: str | tuple[str, ...] | None, language: str = DEFAULT_LANGUAGE) -> list[tuple[str, str]]:
    """The menu's (label, model) pairs for one task, several tasks (a tuple), or every model (``None``)."""
    return [
        (i18n.model_label(name, language), name)
        for one in (task if isinstance(task, tuple) else (task,))
        for name in names_for_task(one)
    ]


def model_dropdown(task: str | tuple[str, ...] | None = None, label_key: str = "ui.model") -> gr.Dropdown:
    """Models for one task, or several (a tuple: the first one's default is chosen); ``None``: all of
    them, whose encoders every view can show."""
    return gr.Dropdown(
        choices=model_choices(task),
        value=OFFLINE_DEFAULT[task[0] if isinstance(task, tuple) else task],
        label=T(label_key),
        info=T("ui.model_info_any" if any_model_allowed() else "ui.model_info"),
        allow_custom_value=any_model_allowed(),
        elem_classes=["model-menu"],
    )


def with_model_menu(
    run: tuple[Callable, list, list], model: gr.Dropdown, task: str | tuple[str | None, ...] | None = None
) -> tuple[Callable, list, list]:
    """``run`` (a tab's ``(fn, inputs, outputs)``) with its model menu as one more output.

    ``task`` is the task whose offline default the tab falls back to, as its presenter does; a tuple:
    the chosen model's own task where it is one of them, else the first.

    After each run the menu's entries say again which models can run here (a hub model that just
    failed is marked unavailable, one just downloaded is marked so). When the chosen model could not
    load and the tab showed its offline default instead, the menu switches to that default, the
    model that actually ran, and a warning pops up besides the status line's: a menu still showing
    the hub model would claim its results.
    """
    fn, inputs, outputs = run
    at = next(index for index, component in enumerate(inputs) if component is model)

    @functools.wraps(fn)
    def run_then_menu(*args: Any, **kwargs: Any) -> tuple:
        result = fn(*args, **kwargs)
        result = result if len(outputs) > 1 else (result,)
        chosen, language = args[at], i18n.current_language()
        choices = [(i18n.model_label(name, language), name) for name in (value for _, value in model.choices)]
        if not isinstance(chosen, str) or chosen not in REGISTRY or model_availability(chosen) != "unavailable":
            return (*result, gr.update(choices=choices, value=chosen))
        own = REGISTRY[chosen].task
        ran = OFFLINE_DEFAULT[(own if own in task else task[0]) if isinstance(task, tuple) else task]
        gr.Warning(render(Msg("model.menu_switched", model=chosen, fallback=ran), language))
        return (*result, gr.update(choices=choices, value=ran))

    return run_then_menu, inputs, [*outputs, model]


def announce_loading(model: str | None, task: str | None, progress: gr.Progress | None, language: str) -> None:
    """Show progress while a model loads for the first time (hub models may download)."""
    try:
        name = resolve(model, task).name if model else OFFLINE_DEFAULT[task]
    except ExplorerError:
        return  # the presenter says what is wrong
    if progress is not None and name not in loaded_model_names():
        progress(0.05, desc=render(Msg("model.loading", model=name), language))


MARKDOWN_SPECIALS = re.compile(r"([\\*_\[\]~])")


def markdown_text(text: str) -> str:
    """``text`` shown as written in a Markdown block: ``*``, ``_``, ``[``, ``]``, ``~`` and backslashes
    escaped (a head list "3.*" or a user's "**" stays as typed), except inside `code` spans, where
    Markdown shows backslashes literally."""
    parts = text.split("`")
    return "`".join(part if index % 2 else MARKDOWN_SPECIALS.sub(r"\\\1", part) for index, part in enumerate(parts))


def status(result: Result | None = None, error: Msg | None = None, language: str = DEFAULT_LANGUAGE) -> str:
    """Markdown for a status line; every piece is HTML-escaped (it may echo user input)."""

    def line(icon: str, message: Msg, bold: bool = False) -> str:
        text = markdown_text(html.escape(render(message, language), quote=False))
        return f"{icon} **{text}**" if bold else f"{icon} {text}"

    lines = [line("⚠️", error, bold=True)] if error else []
    if result is not None:
        lines += [line("⚠️", warning, bold=True) for warning in result.warnings]
        lines += [line("ℹ️", note) for note in result.lines]
    return "\n\n".join(lines)


def notes_status(notes: Iterable[Msg], language: str) -> str:
    return status(Result(lines=tuple(notes)), language=language)


def figure(spec: Any, language: str) -> Any:
    """A figure with its words in ``language``, its title wrapped to fit a narrow column."""
    return views.fit_titles(render_tree(spec, language))


def table(value: Table, language: str) -> gr.Dataframe:
    return gr.Dataframe(value=value.cells(language), headers=value.headers(language))


def highlights(pieces: list, language: str) -> list:
    return [(text, render(label, language) if isinstance(label, Msg) else label) for text, label in pieces]


UNRELIABLE_GREY = "#9ca3af"  # a label the model cannot back up is drawn grey, not in the confident colour


def prediction_label(probabilities: dict[str, float], unreliable: Msg | None, title: str, language: str) -> gr.Label:
    """A ``gr.Label`` update with the class probabilities, titled ``title``; for a text the model cannot
    read (``unreliable``: the reason, from ``readability``) greyed and titled "unreliable" instead."""
    probabilities = {name: views.shown_share(p) for name, p in probabilities.items()}  # as the summary line
    if unreliable is None:
        return gr.Label(value=probabilities, label=title, color=None)
    return gr.Label(value=probabilities, label=render(Msg("read.prediction_unreliable"), language), color=UNRELIABLE_GREY)


def describe_error(error: Exception) -> Msg:
    """A message for any error a handler caught."""
    if isinstance(error, ExplorerError):
        return error.msg
    return Msg("error.unexpected", kind=type(error).__name__)


def guarded(n_outputs: int) -> Callable:
    """Turn any exception into a message in the first output and leave the others as they were.

    The first output of every guarded handler is a status Markdown. On error the other
    outputs are skipped (``gr.skip()``), so the last good result stays on screen.
    """

    def decorate(handler: Callable) -> Callable:
        @functools.wraps(handler)
        def wrapper(*args, **kwargs):
            try:
                return handler(*args, **kwargs)
            except Exception as error:  # the user sees a sentence, the log keeps the traceback
                if isinstance(error, ExplorerError):
                    log.info("handler %s: %s", handler.__name__, error)
                else:
                    log.exception("handler %s failed", handler.__name__)
                message = status(error=describe_error(error), language=i18n.current_language())
                return message if n_outputs == 1 else (message, *(gr.skip() for _ in range(n_outputs - 1)))

        return wrapper

    return decorate


def not_yet(button_key: str, n_outputs: int, language: str) -> Any:
    """The answer of a redraw before the tab's first run: say which button to press."""
    message = notes_status([Msg("error.first_run", button=Msg(button_key))], language)
    return message if n_outputs == 1 else (message, *(gr.skip() for _ in range(n_outputs - 1)))
