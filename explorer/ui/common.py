"""Pieces shared by the tab builders: model picker, status line, error guard."""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import gradio as gr

from ..errors import ExplorerError
from ..models import DEFAULT_MODEL, REGISTRY, any_model_allowed, ensure_registered, loaded_model_names, names_for_task
from ..presenters import describe_error
from ..views import PlotlySpec
from . import i18n

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TabHandle:
    """What app.py needs from a tab: its main text box and the handler that runs it (page load, links)."""

    tab_id: str
    text: gr.Textbox | None  # None: the tab has no free text (positional encoding)
    run: tuple[Callable, list, list]  # (fn, inputs, outputs), as registered on the tab's button
    model: gr.Dropdown | None = None
    layer: gr.Slider | None = None
    head: gr.Slider | None = None


def model_dropdown(label: str = "Model", task: str | None = None, default: str = DEFAULT_MODEL) -> gr.Dropdown:
    """Models for one task (``None``: all of them, whose encoders every view can show)."""
    choices = [(name + (" (embedded, offline)" if REGISTRY[name].embedded else " (hub)"), name) for name in names_for_task(task)]
    return gr.Dropdown(
        choices=choices,
        value=default,
        label=label,
        info="Hub models need internet the first time; the embedded ones always work offline."
        + (" You may type any hub id." if any_model_allowed() else ""),
        allow_custom_value=any_model_allowed(),
    )


def prepare_model(name: str | None, task: str | None, progress: gr.Progress | None = None) -> str | None:
    """Register a typed hub id if allowed, and show progress while a model loads for the first time."""
    ensure_registered(name, task)
    if progress is not None and name and name not in loaded_model_names():
        desc = i18n.message(f"Loading {name} (first use; hub models may download) …", i18n.current_language())
        progress(0.05, desc=desc)
    return name


def status(notes: Iterable[str] = (), error: str | None = None) -> str:
    """Markdown for the status line, in the page's language; every piece is HTML-escaped (it may echo user input)."""
    language = i18n.current_language()
    lines = [f"⚠️ **{html.escape(i18n.message(error, language), quote=False)}**"] if error else []
    lines += [f"ℹ️ {html.escape(i18n.message(note, language), quote=False)}" for note in notes]
    return "\n\n".join(lines)


def _is_figure(value: object) -> bool:
    return isinstance(value, PlotlySpec) or type(value).__name__ == "Figure" and hasattr(value, "to_plotly_json")


def guarded(n_outputs: int) -> Callable:
    """Turn any exception into a message in the first output and leave the others as they were.

    The first output of every guarded handler is a status Markdown. On error the
    other outputs are skipped (``gr.skip()``), so the last good result stays on screen.
    Figures come out with their titles and axis names in the page's language.
    """

    def decorate(handler: Callable) -> Callable:
        @functools.wraps(handler)
        def wrapper(*args, **kwargs):
            try:
                outputs = handler(*args, **kwargs)
                language = i18n.current_language()
                if language == "en" or not isinstance(outputs, tuple):
                    return outputs
                return tuple(i18n.localize_figure(o, language) if _is_figure(o) else o for o in outputs)
            except Exception as error:  # the user sees a sentence, the log keeps the traceback
                if isinstance(error, ExplorerError):
                    log.info("handler %s: %s", handler.__name__, error)
                else:
                    log.exception("handler %s failed", handler.__name__)
                return (status(error=describe_error(error)),) + tuple(gr.skip() for _ in range(n_outputs - 1))

        return wrapper

    return decorate
