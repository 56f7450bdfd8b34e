"""Sentiment tab: the classifier's prediction, its attention and which words drove it (3.7)."""

from __future__ import annotations

import gradio as gr

from ..messages import Msg, render
from ..present import sentiment
from . import finetune
from .common import (
    T,
    TabHandle,
    announce_loading,
    examples,
    figure,
    guarded,
    layer_head_sliders,
    model_dropdown,
    prediction_label,
    refit_layer_head,
    status,
    with_model_menu,
)
from .i18n import current_language
from .layout import CONTROLS, RESULTS

EXAMPLES = [
    ["This movie was absolutely wonderful."],
    ["A dull, lifeless waste of two hours."],
    ["The acting was great, but the plot made no sense at all."],
    ["I expected to hate it, and I did not."],
]


def build() -> TabHandle:
    with gr.Row(equal_height=False, elem_classes=["tab-top"]):
        with gr.Column(**CONTROLS):
            gr.Markdown(T("sent.intro"))  # beside the first result, not above it
            with gr.Row():
                text = gr.Textbox(value=EXAMPLES[0][0], label=T("ui.text"), lines=1, max_lines=8, scale=4)
                with gr.Column(scale=2):
                    model = model_dropdown(task=sentiment.TASK)
                    button = gr.Button(T("sent.button"), variant="primary")
            examples(EXAMPLES, [text])
        with gr.Column(**RESULTS):
            message = gr.Markdown()
            with gr.Row(equal_height=False):
                label = gr.Label(label=T("sent.prediction"), num_top_classes=3)
                rollout = gr.HighlightedText(label=T("sent.rollout"), show_legend=False, elem_classes=["token-view"])
    with gr.Row():
        layer, head = layer_head_sliders(layer=-1)
    with gr.Row(equal_height=False):
        heatmap = gr.Plot(label=T("sent.heatmap"))
        cls_row = gr.Plot(label=T("sent.cls_row"))
    finetune.build()  # 問題5 live, an accordion under the classifier's views
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
            prediction_label(
                {names[name]: p for name, p in result.probabilities.items()},
                result.unreliable,
                render(Msg("sent.prediction"), language),
                language,
            ),
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
    run = with_model_menu((classify, inputs, outputs), model, sentiment.TASK)
    gr.on([button.click, text.submit], *run, api_visibility="private", trigger_mode="always_last")
    gr.on(
        [layer.change, head.change],
        redraw,
        [analysed, layer, head],
        [message, heatmap, cls_row],
        api_visibility="private",
        trigger_mode="always_last",
    )
    return TabHandle(run, text=text, shareable={"text": text, "model": model, "layer": layer, "head": head})
