"""Lesson mode: one compact panel above the tabs (hidden until ``?lesson=…`` or the toolbar's
toggle), that walks through the chapter (``explorer.lesson.STEPS``).

Choosing a step writes its preset as an in-page link into a hidden box; app.py's ``open_in_page``
then selects the step's tab, sets its controls and runs it in one round trip, as a shared link
would. The panel is a row, not a tab, so that the tab's results stay where they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr

from .. import lesson
from ..messages import Msg, render
from .common import T, TabHandle


def toggle() -> gr.Checkbox:
    """The toolbar's switch that shows or hides the lesson panel."""
    return gr.Checkbox(value=False, label=T("lesson.toggle"), scale=1, elem_id="lesson-toggle")


@dataclass(frozen=True)
class Panel:
    column: gr.Column
    step: gr.Dropdown
    card: gr.Markdown
    notes: gr.Markdown
    previous: gr.Button
    next: gr.Button
    reopen: gr.Button
    opens: gr.Textbox  # the in-page link of the step (``tab=…&text=…``), read by app.open_in_page


def panel() -> Panel:
    """The panel, built where it is called (above the tabs); hidden until lesson mode is on."""
    with gr.Column(visible=False, elem_id="lesson-panel") as column:
        with gr.Row(equal_height=False):
            with gr.Column(scale=4):
                card = gr.Markdown(elem_id="lesson-card")
                with gr.Accordion(T("lesson.notes"), open=False, elem_id="lesson-notes"):
                    notes = gr.Markdown()
            with gr.Column(scale=1, min_width=240):
                step = gr.Dropdown(
                    choices=[(T(f"lesson.{item.slug}_title"), item.id) for item in lesson.STEPS],
                    value=None,
                    label=T("lesson.step"),
                    elem_id="lesson-step",
                )
                with gr.Row():
                    previous = gr.Button(T("lesson.previous"), size="sm", min_width=90, elem_id="lesson-previous")
                    following = gr.Button(T("lesson.next"), size="sm", min_width=90, elem_id="lesson-next")
                reopen = gr.Button(T("lesson.reopen"), size="sm", elem_id="lesson-reopen")
        opens = gr.Textbox(visible=False)
    return Panel(column, step, card, notes, previous, following, reopen, opens)


def texts(step_id: str | None, language: str) -> tuple[str, str]:
    """The card and the teacher's notes of a step, in ``language`` (catalog text only: no user input)."""
    step = lesson.find(step_id)
    if step is None:
        return "", ""
    notes = render(step.msg("notes"), language) + "\n\n" + render(Msg("lesson.link", link=lesson.link(step, language)), language)
    return render(lesson.card(step), language), notes


def attach(
    panel: Panel,
    switch: gr.Checkbox,
    language: gr.components.Component,
    handles: dict[str, TabHandle],
    tabs: gr.Tabs,
    current_tab: gr.Textbox,
    ran: gr.State,
    open_in_page: Callable,
    demo: gr.Blocks,
) -> None:
    """Wire the panel: the toggle, the step menu, previous/next, ``?lesson=`` at page load."""
    owner = TabHandle((lambda: None, [], []), opens=panel.opens, opens_tabs=tuple(handles))
    open_in_page("lesson", panel.opens, {**handles, "lesson": owner}, tabs, current_tab, ran)

    def show(step_id: str | None, lang: str) -> tuple[str, str, str]:
        step = lesson.find(step_id)
        card, notes = texts(step_id, lang)
        return card, notes, lesson.query(step) if step else gr.skip()

    def reopen(step_id: str | None) -> str:
        step = lesson.find(step_id)
        return lesson.query(step) if step else gr.skip()

    def opened(request: gr.Request):
        """Page load: ``?lesson=3.2`` turns lesson mode on at that step (an unknown step: the first)."""
        params = dict(request.query_params) if request else {}
        if "lesson" not in params:
            return gr.skip(), gr.skip(), gr.skip()
        step = lesson.find(params["lesson"]) or lesson.STEPS[0]
        return True, gr.Column(visible=True), step.id

    private = dict(api_visibility="private")
    switch.change(lambda on: gr.Column(visible=bool(on)), switch, panel.column, **private)
    switch.input(
        lambda on, step_id: (step_id or lesson.STEPS[0].id) if on else gr.skip(), [switch, panel.step], panel.step, **private
    )
    panel.step.change(show, [panel.step, language], [panel.card, panel.notes, panel.opens], **private)
    language.change(lambda step_id, lang: texts(step_id, lang), [panel.step, language], [panel.card, panel.notes], **private)
    panel.previous.click(lambda step_id: lesson.neighbour(step_id, -1), panel.step, panel.step, **private)
    panel.next.click(lambda step_id: lesson.neighbour(step_id, 1), panel.step, panel.step, **private)
    panel.reopen.click(reopen, panel.step, panel.opens, **private)
    demo.load(opened, None, [switch, panel.column, panel.step], **private)
