"""Inside a head: the chapter's computation for one head, one step at a time, on the model's own numbers."""

from __future__ import annotations

import html

import gradio as gr

from ..messages import Msg, render
from ..present import step
from .common import (
    BoundedSlider,
    T,
    TabHandle,
    announce_loading,
    examples,
    figure,
    guarded,
    layer_head_sliders,
    model_dropdown,
    not_yet,
    notes_status,
    refit_layer_head,
    status,
    table,
    with_model_menu,
)
from .i18n import current_language
from .layout import CONTROLS, RESULTS

EXAMPLES = [
    ["The animal didn't cross the street because it was too tired."],
    ["The cat sat on the mat."],
    ["自然言語処理は人工知能の重要な分野です。"],
]
DEFAULT_TEXT = "The animal didn't cross the street because it was too tired."
BUTTON = "step.button"
# Display math only: "$" inside the explanations stays a dollar sign.
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]
STEP_CHOICES = [
    (T("step.step_input"), "input"),
    (T("step.step_qkv"), "qkv"),
    (T("step.step_scores"), "scores"),
    (T("step.step_masks"), "masks"),
    (T("step.step_weights"), "weights"),
    (T("step.step_head_output"), "head_output"),
    (T("step.step_ffn"), "ffn"),
    (T("step.step_stack"), "stack"),
]


def _panel(panel: step.StepPanel, language: str) -> tuple:
    return (
        render(panel.formula, language),
        html.escape(render(panel.check, language), quote=False),
        figure(panel.figure, language),
        table(panel.numbers, language),
        figure(panel.stack, language),
    )


def build() -> TabHandle:
    with gr.Row(equal_height=False, elem_classes=["tab-top"]):
        with gr.Column(**CONTROLS):
            gr.Markdown(T("step.intro"))  # beside the first result, not above it
            with gr.Row():
                text = gr.Textbox(value=DEFAULT_TEXT, label=T("ui.text"), lines=1, max_lines=8, scale=4)
                with gr.Column(scale=2):
                    model = model_dropdown()
                    button = gr.Button(T(BUTTON), variant="primary")
            examples(EXAMPLES, [text])
            with gr.Row():
                layer, head = layer_head_sliders(layer=0, head=0)
                query = gr.Dropdown(choices=[], value=None, label=T("step.query_label"))
            with gr.Row(equal_height=False):
                which = gr.Radio(STEP_CHOICES, value="input", label=T("step.step_label"), scale=4)
                causal = gr.Checkbox(value=False, label=T("step.causal"), scale=1)
        with gr.Column(**RESULTS):
            message = gr.Markdown()
            formula = gr.Markdown(latex_delimiters=LATEX)
            check = gr.Markdown()
            plot = gr.Plot(label=T("step.figure_label"))
    analysed = gr.State(None)  # the AnalysisKey on screen
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=460):
            numbers = gr.Dataframe(label=T("step.numbers_label"), interactive=False, wrap=True)
            stack = gr.Plot(label=T("step.stack_label"))
    panel_outputs = [formula, check, plot, numbers, stack]
    outputs = [message, *panel_outputs, layer, head, query, analysed]

    @guarded(len(outputs))
    def analyze(text_value, model_name, layer_value, head_value, step_name, causal_value, progress=gr.Progress()):
        language = current_language()
        announce_loading(model_name, None, progress, language)
        result = step.present(text_value, model_name, layer_value, head_value, 0, step_name, causal_value, fit=True)
        return (
            status(result, language=language),
            *_panel(result.panel, language),
            *refit_layer_head(result),
            gr.Dropdown(choices=result.token_choices, value=result.query),
            result.key,
        )

    @guarded(len(panel_outputs) + 1)
    def redraw(key, layer_value, head_value, query_value, step_name, causal_value):
        if key is None:
            return tuple(gr.skip() for _ in range(len(panel_outputs) + 1))  # before the first run
        panel = step.view(key, layer_value, head_value, query_value, step_name, causal_value)
        language = current_language()
        return (notes_status([panel.summary], language), *_panel(panel, language))

    analyze_inputs = [text, model, layer, head, which, causal]
    run = with_model_menu((analyze, analyze_inputs, outputs), model)
    gr.on([button.click, text.submit], *run, api_visibility="private", trigger_mode="always_last")
    gr.on(
        [layer.change, head.change, query.input, which.input, causal.input],
        redraw,
        [analysed, layer, head, query, which, causal],
        [message, *panel_outputs],
        api_visibility="private",
        trigger_mode="always_last",
    )

    with gr.Accordion(T("step.toy_accordion"), open=False) as toy_box:
        gr.Markdown(T("step.toy_intro"))
        with gr.Row():
            seed = BoundedSlider(0, 99, value=0, step=1, label=T("step.seed"))
            toy_button = gr.Button(T("step.toy_button"))
        toy_message = gr.Markdown()
        toy_plot = gr.Plot()
        with gr.Row(equal_height=False):
            printed = gr.Markdown()
            gr.Markdown(T("step.toy_chapter"))  # the chapter's printed matrix, quoted
            toy_numbers = gr.Dataframe(interactive=False)

    @guarded(4)
    def run_toy(seed_value):
        language = current_language()
        result = step.toy_view(seed_value)
        printed_block = f"**{render(Msg('step.toy_printed'), language)}**\n\n```text\n{result.printed}\n```"
        return status(result, language=language), figure(result.figure, language), printed_block, table(result.numbers, language)

    gr.on(
        [toy_button.click, seed.change, toy_box.expand],
        run_toy,
        [seed],
        [toy_message, toy_plot, printed, toy_numbers],
        api_visibility="private",
        trigger_mode="always_last",
    )

    with gr.Accordion(T("step.cross_accordion"), open=False):
        gr.Markdown(T("step.cross_intro"))
        with gr.Row():
            other = gr.Textbox(value="The street was wide and empty.", label=T("step.cross_text"), scale=4)
            cross_button = gr.Button(T("step.cross_button"), scale=1)
        cross_message = gr.Markdown()
        with gr.Row(equal_height=False):
            cross_plot = gr.Plot()
            self_plot = gr.Plot()

    @guarded(3)
    def run_cross(key, other_text, layer_value, head_value):
        language = current_language()
        if key is None:
            return not_yet(BUTTON, 3, language)
        result = step.cross_view(key, other_text, layer_value, head_value)
        return status(result, language=language), figure(result.figure, language), figure(result.self_figure, language)

    gr.on(
        [cross_button.click, other.submit],
        run_cross,
        [analysed, other, layer, head],
        [cross_message, cross_plot, self_plot],
        api_visibility="private",
        trigger_mode="always_last",
    )

    with gr.Accordion(T("step.quadratic_accordion"), open=False):
        gr.Markdown(T("step.quadratic_intro"))
        quadratic_button = gr.Button(T("step.quadratic_button"))
        quadratic_message = gr.Markdown()
        quadratic_plot = gr.Plot()

    @guarded(2)
    def run_quadratic(model_name, progress=gr.Progress()):
        language = current_language()
        announce_loading(model_name, None, progress, language)
        result = step.measure_quadratic(model_name)
        return status(result, language=language), figure(result.figure, language)

    quadratic_button.click(
        run_quadratic,
        [model],
        [quadratic_message, quadratic_plot],
        api_visibility="private",
        concurrency_limit=1,
        concurrency_id="measure",
    )
    return TabHandle(
        run,
        shown=(redraw, [analysed, layer, head, query, which, causal], [message, *panel_outputs]),
        text=text,
        shareable={"text": text, "model": model, "layer": layer, "head": head},
    )
