"""Sentiment tab: the classifier's prediction, its attention and which words drove it (3.7)."""

from __future__ import annotations

import gradio as gr

from ..messages import render
from ..present import sentiment
from .common import (
    T,
    TabHandle,
    announce_loading,
    examples,
    figure,
    guarded,
    layer_head_sliders,
    model_dropdown,
    refit_layer_head,
    status,
)
from .i18n import current_language

EXAMPLES = [
    ["This movie was absolutely wonderful."],
    ["A dull, lifeless waste of two hours."],
    ["The acting was great, but the plot made no sense at all."],
    ["I expected to hate it, and I did not."],
]


def build() -> TabHandle:
    gr.Markdown(T("sent.intro"))
    with gr.Row():
        text = gr.Textbox(value=EXAMPLES[0][0], label=T("ui.text"), lines=2, max_lines=8, scale=4)
        with gr.Column(scale=2):
            model = model_dropdown(task=sentiment.TASK)
            button = gr.Button(T("sent.button"), variant="primary")
    examples(EXAMPLES, [text])
    message = gr.Markdown()
    with gr.Row(equal_height=False):
        label = gr.Label(label=T("sent.prediction"), num_top_classes=3)
        rollout = gr.HighlightedText(label=T("sent.rollout"), show_legend=False, elem_classes=["token-view"])
    with gr.Row():
        layer, head = layer_head_sliders(layer=-1)
    with gr.Row(equal_height=False):
        heatmap = gr.Plot(label=T("sent.heatmap"))
        cls_row = gr.Plot(label=T("sent.cls_row"))
    analysed = gr.State(None)
    outputs = [message, label, rollout, heatmap, cls_row, layer, head, analysed]

    @guarded(len(outputs))
    def classify(text_value, model_name, layer_value, head_value, progress=gr.Progress()):
        language = current_language()
        announce_loading(model_name, sentiment.TASK, progress, language)
        result = sentiment.present(text_value, model_name, layer_value, head_value, fit=True)
        names = {name: render(sentiment.class_name(name), language) for name in result.probabilities}
        return (
            status(result, language=language),
            {names[name]: p for name, p in result.probabilities.items()},
            result.rollout,
            figure(result.view.heatmap, language),
            figure(result.view.cls_row, language),
            *refit_layer_head(result),
            result.key,
        )

    @guarded(3)
    def redraw(key, layer_value, head_value):
        if key is None:
            return gr.skip(), gr.skip(), gr.skip()
        view, language = sentiment.view(key, layer_value, head_value), current_language()
        return gr.skip(), figure(view.heatmap, language), figure(view.cls_row, language)

    inputs = [text, model, layer, head]
    gr.on([button.click, text.submit], classify, inputs, outputs, api_visibility="private", trigger_mode="always_last")
    gr.on(
        [layer.change, head.change],
        redraw,
        [analysed, layer, head],
        [message, heatmap, cls_row],
        api_visibility="private",
        trigger_mode="always_last",
    )
    return TabHandle(
        (classify, inputs, outputs), text=text, shareable={"text": text, "model": model, "layer": layer, "head": head}
    )
