"""Each tab's first result when the tab is first shown, not every tab's at page load (issue 11).

The page used to run all twelve tabs' first results, in tab order, before the default tab's was
on screen (10 s on 2 cores). Now the page load runs the opened tab only; any other tab runs when
it is first selected (the user waits there, with a progress line while its model loads), and
after that a selection only redraws from the cache (``TabHandle.shown``). Which tabs have run is
kept per page (``gr.State``), so a language switch re-runs exactly those, in one round trip.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import gradio as gr

from . import i18n
from .common import TabHandle


def distinct(*groups: Iterable[Any]) -> list:
    """The components of ``groups`` in order, each once (by identity: components are not hashable by value)."""
    seen: set[int] = set()
    out = []
    for group in groups:
        for component in group:
            if id(component) not in seen:
                seen.add(id(component))
                out.append(component)
    return out


def _call(fn: Callable, inputs: Sequence, outputs: Sequence, values: dict[int, Any], progress: Any) -> tuple:
    """``fn`` on the values of its ``inputs`` (``values``: component id -> value); always a tuple."""
    extra = {"progress": progress} if "progress" in inspect.signature(fn).parameters else {}
    result = fn(*(values[id(component)] for component in inputs), **extra)
    return result if len(outputs) > 1 else (result,)


def _placed(result: tuple, outputs: Sequence, everything: Sequence) -> list:
    """``result`` (one value per component of ``outputs``) spread over ``everything``, skipping the rest."""
    by_id = {id(component): value for component, value in zip(outputs, result, strict=True)}
    return [by_id.get(id(component), gr.skip()) for component in everything]


class LazyTabs:
    """The wiring of first results: ``on_select(tab)``, ``on_open()`` and ``on_language()`` give
    ``(fn, inputs, outputs)`` triples for gradio events; ``ran`` is the page's list of tabs that ran."""

    def __init__(self, handles: dict[str, TabHandle], language: gr.components.Component, opened: gr.State) -> None:
        self.handles = handles
        self.language = language  # the page's language switch: its value is handed to the tabs' handlers
        # (tab id, language, the link's values), set by the page load (app.open_link); None before it
        self.opened = opened
        self.ran = gr.State([])

    def _io(self, tab_id: str) -> tuple[list, list]:
        handle = self.handles[tab_id]
        _, run_inputs, run_outputs = handle.run
        shown_inputs, shown_outputs = (handle.shown[1], handle.shown[2]) if handle.shown else ([], [])
        return distinct(run_inputs, shown_inputs), distinct(run_outputs, shown_outputs)

    def _show(self, tab_id: str, ran: list, values: dict[int, Any], outputs: Sequence, progress: Any) -> list:
        """``[ran, *outputs]`` for showing ``tab_id``: its run the first time, then its redraw (or nothing)."""
        handle = self.handles[tab_id]
        if tab_id not in ran:
            fn, inputs, own = handle.run
            return [[*ran, tab_id], *_placed(_call(fn, inputs, own, values, progress), own, outputs)]
        if handle.shown is None:
            return [gr.skip()] * (1 + len(outputs))
        fn, inputs, own = handle.shown
        return [gr.skip(), *_placed(_call(fn, inputs, own, values, progress), own, outputs)]

    def on_select(self, tab_id: str) -> tuple[Callable, list, list]:
        inputs, outputs = self._io(tab_id)

        def show(opened: tuple | None, ran: list, *values: Any, progress: gr.Progress = gr.Progress()) -> list:  # noqa: B008
            if opened is None:  # the first tab's select fires as the page mounts, before the link is read
                return [gr.skip()] * (1 + len(outputs))
            # The language from the server's state (``follow_language``): a select that the page load
            # causes was seen carrying the switch's initial value.
            with i18n.speaking(opened[1]):
                return self._show(tab_id, ran or [], dict(zip(map(id, inputs), values, strict=True)), outputs, progress)

        return show, [self.opened, self.ran, *inputs], [self.ran, *outputs]

    def follow_language(self) -> tuple[Callable, list, list]:
        """The switch's new language into ``opened`` (for ``on_select``)."""

        def follow(language: str, opened: tuple | None) -> tuple | None:
            return None if opened is None else (opened[0], language, opened[2])

        return follow, [self.language, self.opened], self.opened

    def _all_io(self) -> tuple[list, list]:
        pairs = [self._io(tab_id) for tab_id in self.handles]
        return distinct(*(inputs for inputs, _ in pairs)), distinct(*(outputs for _, outputs in pairs))

    def on_open(self) -> tuple[Callable, list, list]:
        """Page load: the opened tab's first result. ``opened`` holds ``(tab id, language, the link's
        values by shareable name)`` as server-side state: in this step the page's own controls still
        hold their initial values, so the link's values replace them here."""
        inputs, outputs = self._all_io()

        def open_first(where: tuple | None, ran: list, *values: Any, progress: gr.Progress = gr.Progress()) -> list:  # noqa: B008
            tab_id, language, linked = where or (None, None, {})
            if tab_id not in self.handles:
                return [gr.skip()] * (1 + len(outputs))
            by_id = dict(zip(map(id, inputs), values, strict=True))
            for name, control in self.handles[tab_id].shareable.items():
                if name in linked:
                    by_id[id(control)] = linked[name]
            # Run it even if a select got there first: that one carried the page's initial values.
            with i18n.speaking(language):
                return self._show(tab_id, [done for done in ran or [] if done != tab_id], by_id, outputs, progress)

        return open_first, [self.opened, self.ran, *inputs], [self.ran, *outputs]

    def on_language(self) -> tuple[Callable, list, list]:
        """A new language: every tab that has run runs again (cached: no forward pass) so that its
        messages follow; the others stay empty until they are shown."""
        inputs, outputs = self._all_io()

        index_of = {id(component): index for index, component in enumerate(outputs)}

        def rerun(language: str, ran: list, *values: Any) -> list:
            by_id = dict(zip(map(id, inputs), values, strict=True))
            placed = [gr.skip()] * len(outputs)
            with i18n.speaking(language):
                for tab_id in ran or []:  # tabs have outputs of their own: none is written twice
                    fn, own_inputs, own = self.handles[tab_id].run
                    for component, value in zip(own, _call(fn, own_inputs, own, by_id, None), strict=True):
                        placed[index_of[id(component)]] = value
            return placed

        return rerun, [self.language, self.ran, *inputs], outputs
