"""Compare tab: two texts, one model, the same head side by side, their difference, and which heads changed."""

from __future__ import annotations

import gradio as gr

from ..present import compare
from .common import (
    MarkedCheckbox,
    T,
    TabHandle,
    announce_loading,
    examples,
    figure,
    guarded,
    layer_head_sliders,
    model_dropdown,
    not_yet,
    refit_layer_head,
    status,
    table,
    with_model_menu,
)
from .i18n import current_language
from .layout import CONTROLS, RESULTS

TIRED = "The animal didn't cross the street because it was too tired."
WIDE = "The animal didn't cross the street because it was too wide."
ORDERED = "The cat sat on the mat."
SHUFFLED = "mat the on sat cat The."
EXAMPLES = [
    [TIRED, WIDE, False],
    [ORDERED, SHUFFLED, False],
    [ORDERED, SHUFFLED, True],
    ["This movie was wonderful.", "This movie was not wonderful at all.", False],
]


def build() -> TabHandle:
    with gr.Row(equal_height=False, elem_classes=["tab-top"]):
        with gr.Column(**CONTROLS):
            gr.Markdown(T("compare.intro"))  # beside the first result, not above it
            with gr.Row():
                text_a = gr.Textbox(value=TIRED, label=T("compare.text_a"), lines=1, max_lines=6, scale=3)
                text_b = gr.Textbox(value=WIDE, label=T("compare.text_b"), lines=1, max_lines=6, scale=3)
                with gr.Column(scale=2):
                    model = model_dropdown(None)
                    positions_off = MarkedCheckbox(
                        value=False, label=T("compare.positions_off_label"), info=T("compare.positions_off_info")
                    )
                    button = gr.Button(T("compare.button"), variant="primary")
            examples(EXAMPLES, [text_a, text_b, positions_off])
        with gr.Column(**RESULTS):
            message = gr.Markdown()
            with gr.Row():
                layer, head = layer_head_sliders(layer=2, head=0)
            with gr.Row(equal_height=False):
                heatmap_a = gr.Plot(label=T("compare.heatmap_a"))
                heatmap_b = gr.Plot(label=T("compare.heatmap_b"))
    with gr.Row(equal_height=False):
        difference = gr.Plot(label=T("compare.difference"))
        grid = gr.Plot(label=T("compare.grid"))
    outputs_table = gr.Dataframe(label=T("compare.heads_table"), interactive=False, wrap=True)
    analysed = gr.State(None)
    outputs = [message, heatmap_a, heatmap_b, difference, grid, outputs_table, layer, head, analysed]

    @guarded(len(outputs))
    def run(a, b, model_name, layer_value, head_value, off, progress=gr.Progress()):
        language = current_language()
        announce_loading(model_name, None, progress, language)
        result = compare.present(a, b, model_name, layer_value, head_value, bool(off), fit=True)
        return (
            status(result, language=language),
            figure(result.view.heatmap_a, language),
            figure(result.view.heatmap_b, language),
            figure(result.view.difference, language),
            figure(result.grid, language),
            table(result.heads, language),
            *refit_layer_head(result),
            (result.key, result.key_b),
        )

    @guarded(5)
    def redraw(keys, layer_value, head_value):
        if keys is None:
            return not_yet("compare.button", 5, current_language())
        drawn, grid_spec = compare.view(*keys, layer_value, head_value)
        language = current_language()
        return (
            gr.skip(),
            figure(drawn.heatmap_a, language),
            figure(drawn.heatmap_b, language),
            figure(drawn.difference, language),
            figure(grid_spec, language),
        )

    inputs = [text_a, text_b, model, layer, head, positions_off]
    ran = with_model_menu((run, inputs, outputs), model, (None, "sentiment", "ner", "qa"))  # the model's own task
    gr.on(
        [button.click, text_a.submit, text_b.submit, positions_off.input],
        *ran,
        api_visibility="private",
        trigger_mode="always_last",
    )
    gr.on(
        [layer.change, head.change],
        redraw,
        [analysed, layer, head],
        [message, heatmap_a, heatmap_b, difference, grid],
        api_visibility="private",
        trigger_mode="always_last",
    )
    return TabHandle(
        ran,
        text=text_a,
        shareable={
            "text": text_a,
            "text_b": text_b,
            "model": model,
            "layer": layer,
            "head": head,
            "positions_off": positions_off,
        },
    )
