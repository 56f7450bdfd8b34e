"""Explain tab: which tokens drove a prediction, six ways, and how faithful each explanation is."""

from __future__ import annotations

import gradio as gr

from .. import attribution
from ..api import ATTRIBUTION_QUEUE
from ..messages import Msg, render
from ..models import OFFLINE_DEFAULT, resolve
from ..present import explain
from .common import (
    T,
    TabHandle,
    announce_loading,
    examples,
    figure,
    guarded,
    model_dropdown,
    status,
    table,
    with_model_menu,
)
from .i18n import current_language
from .layout import CONTROLS, RESULTS

EXAMPLES = [
    ["The acting was great, but the plot made no sense at all.", OFFLINE_DEFAULT["sentiment"]],
    ["I expected to hate it, and I did not.", OFFLINE_DEFAULT["sentiment"]],
    ["Angela Merkel met Emmanuel Macron in Berlin.", OFFLINE_DEFAULT["ner"]],
    ["Where did Obama go in 2009?\nBarack Obama visited Paris in 2009 with Angela Merkel.", OFFLINE_DEFAULT["qa"]],
]
BUTTON = "explain.button"
DEFAULT_SHOWN = "integrated_gradients"


def build() -> TabHandle:
    with gr.Row(equal_height=False, elem_classes=["tab-top"]):
        with gr.Column(**CONTROLS):
            gr.Markdown(T("explain.intro"))  # beside the first result, not above it
            with gr.Row():
                text = gr.Textbox(
                    value=EXAMPLES[0][0], label=T("ui.text"), info=T("explain.text_info"), lines=1, max_lines=8, scale=4
                )
                with gr.Column(scale=2):
                    model = model_dropdown(task=explain.TASKS)
                    button = gr.Button(T(BUTTON), variant="primary")
            example_model = gr.Textbox(visible=False, label=T("ui.model"))  # as in the Heads tab: sets the menu
            examples(EXAMPLES, [text, example_model], runs_tab=False)
            # One under the other: side by side in the controls column, the target menu showed two
            # letters of an answer and each method name took three lines.
            target = gr.Dropdown(choices=[], value=None, label=T("explain.target"), info=T("explain.target_info"))
            methods = gr.CheckboxGroup(
                [(T(f"explain.method.{method}"), method) for method in attribution.METHODS],
                value=list(attribution.METHODS),
                label=T("explain.methods"),
            )
            steps = gr.Slider(8, attribution.MAX_STEPS, value=attribution.DEFAULT_STEPS, step=8, label=T("explain.steps"))
        with gr.Column(**RESULTS):
            message = gr.Markdown()
            shown = gr.Radio(
                [(T(f"explain.method.{method}"), method) for method in attribution.METHODS],
                value=DEFAULT_SHOWN,
                label=T("explain.shown"),
                elem_id="explain-shown",
            )
            overlay = gr.HighlightedText(label=T("explain.overlay"), show_legend=False, elem_classes=["token-view"])
    # Side by side on a wide screen; one under the other where each would be under 640 px (1280 px in
    # projection mode), so no title or token label is squeezed.
    with gr.Row(equal_height=False):
        grid = gr.Plot(label=T("explain.grid_label"), min_width=640)
        bars = gr.Plot(label=T("explain.bars_label"), min_width=640)
    with gr.Accordion(T("explain.faithfulness_accordion"), open=False):
        gr.Markdown(T("explain.faithfulness_intro"))
        faithfulness_button = gr.Button(T("explain.faithfulness_button"))
        faithfulness_message = gr.Markdown()
        with gr.Row(equal_height=False):
            faithfulness_table = gr.Dataframe(
                label=T("explain.faithfulness_table"),
                interactive=False,
                wrap=True,
                scale=2,
                min_width=640,
                column_widths=["8%", "36%", "16%", "14%", "14%", "12%"],  # every column visible at 1280 px
            )
            curves = gr.Plot(label=T("explain.faithfulness_plot"), scale=3, min_width=640)
    explained = gr.State(None)  # the ExplainResult on screen (one score per token and method)
    # a new explanation empties the faithfulness panel, which measured the one before
    outputs = [message, target, shown, overlay, bars, grid, explained, faithfulness_message, faithfulness_table, curves]

    def drawn(result: explain.ExplainResult, method: str, language: str) -> tuple:
        view = explain.show(result, method)
        return view.overlay, figure(view.bars, language), figure(view.grid, language)

    @guarded(len(outputs))
    def run(text_value, model_name, target_value, chosen, steps_value, shown_value, before, progress=gr.Progress()):
        language = current_language()
        announce_loading(model_name, None, progress, language)
        if before is None or before.text != text_value or before.model != resolve(model_name).name:
            target_value = ""  # a new input: explain the model's own prediction
        result = explain.present(text_value, model_name, target_value or "", chosen, steps_value, shown_value)
        choices = [(render(label, language) if isinstance(label, Msg) else label, value) for label, value in result.targets]
        return (
            status(result, language=language),
            gr.Dropdown(choices=choices, value=result.target),
            gr.Radio(choices=[(render(explain.method_name(m), language), m) for m in result.scores], value=result.shown),
            *drawn(result, result.shown, language),
            result,
            "",
            None,
            None,
        )

    @guarded(4)
    def redraw(result, method):
        if result is None:  # shown before the page's first run ended: that run draws it
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return gr.skip(), *drawn(result, method, current_language())

    @guarded(3)
    def measure(text_value, model_name, target_value, steps_value, before, progress=gr.Progress()):
        language = current_language()
        if before is None or before.text != text_value or before.model != resolve(model_name).name:
            target_value = ""

        def report(done: float, method: str) -> None:
            name = explain.method_name(method) if method in attribution.METHODS else Msg("explain.faithfulness_button")
            progress(done, desc=render(Msg("explain.running", method=name), language))

        result = explain.measure(text_value, model_name, target_value or "", steps_value, report)
        return status(result, language=language), table(result.table, language), figure(result.curves, language)

    inputs = [text, model, target, methods, steps, shown, explained]
    ran = with_model_menu((run, inputs, outputs), model, explain.TASKS)

    def pick_example(name, text_value, chosen, steps_value, shown_value, progress=gr.Progress()):
        """An example sets the model menu and runs the tab; the box is emptied so picking it again runs again."""
        if not name:
            return (gr.skip(),) * (2 + len(outputs))
        return (gr.Dropdown(value=name), "", *run(text_value, name, "", chosen, steps_value, shown_value, None, progress))

    # A round trip first: an example sets the text and this box together, and the change of the box was
    # seen to reach the server with the text of the example before (the wrong text run with the new model).
    example_model.change(lambda: None, None, None, api_visibility="private", queue=False).then(
        pick_example, [example_model, text, methods, steps, shown], [model, example_model, *outputs], api_visibility="private"
    )
    # Integrated gradients and occlusion run many copies of the input: the Explain button shares the
    # /attribute queue (one at a time per server), so a class pressing it together cannot starve the rest.
    gr.on(
        [button.click, text.submit, target.input, methods.input, steps.change],
        *ran,
        api_visibility="private",
        trigger_mode="always_last",
        concurrency_limit=1,
        concurrency_id=ATTRIBUTION_QUEUE,
    )
    shown.input(redraw, [explained, shown], [message, overlay, bars, grid], api_visibility="private")
    faithfulness_button.click(
        measure,
        [text, model, target, steps, explained],
        [faithfulness_message, faithfulness_table, curves],
        api_visibility="private",
        concurrency_limit=1,
        concurrency_id=ATTRIBUTION_QUEUE,
    )
    return TabHandle(
        ran,
        shown=(redraw, [explained, shown], [message, overlay, bars, grid]),
        text=text,
        shareable={"text": text, "model": model},
    )
