"""QA tab: the answer span in the context, its score, alternatives, and what it attended to (3.7)."""

from __future__ import annotations

import gradio as gr

from ..messages import Msg, render
from ..present import qa
from .common import (
    T,
    TabHandle,
    announce_loading,
    examples,
    figure,
    guarded,
    highlights,
    layer_head_sliders,
    model_dropdown,
    refit_layer_head,
    status,
    table,
    with_model_menu,
)
from .i18n import current_language
from .layout import CONTROLS, RESULTS

CHAPTER_CONTEXT = (
    "The Transformer is a deep learning model introduced in 2017, used primarily in the field of natural language "
    "processing (NLP). Like recurrent neural networks (RNNs), Transformers are designed to handle sequential data, "
    "such as natural language, for tasks such as translation and text summarization. However, unlike RNNs, "
    "Transformers do not require that the sequential data be processed in order."
)
CHAPTER_QUESTION = "When was the Transformer introduced?"
EXAMPLES = [
    [CHAPTER_QUESTION, CHAPTER_CONTEXT],
    ["What kind of data are Transformers designed to handle?", CHAPTER_CONTEXT],
    [
        "Who created Python?",
        "Python is a programming language created by Guido van Rossum. The first version was released in 1991.",
    ],
]
ANSWER_COLOUR = "#fdae6b"


def build() -> TabHandle:
    with gr.Row(equal_height=False, elem_classes=["tab-top"]):
        with gr.Column(**CONTROLS):
            gr.Markdown(T("qa.intro"))  # beside the first result, not above it
            with gr.Row():
                with gr.Column(scale=4):
                    question = gr.Textbox(value=CHAPTER_QUESTION, label=T("qa.question"), lines=1)
                    context = gr.Textbox(value=CHAPTER_CONTEXT, label=T("qa.context"), lines=5, max_lines=14)
                with gr.Column(scale=2):
                    model = model_dropdown(task=qa.TASK)
                    button = gr.Button(T("qa.button"), variant="primary")
            examples(EXAMPLES, [question, context])
        with gr.Column(**RESULTS):
            message = gr.Markdown()
            badges = {render(Msg("qa.badge"), language): ANSWER_COLOUR for language in ("en", "ja")}
            highlighted = gr.HighlightedText(label=T("qa.highlight"), show_legend=False, color_map=badges)
    with gr.Row(equal_height=False):
        alternatives = gr.Dataframe(  # every column in view, long answers wrap, all five rows shown
            label=T("qa.alternatives"), max_height=640, wrap=True, column_widths=["12%", "46%", "16%", "13%", "13%"]
        )
        with gr.Column():
            layer, head = layer_head_sliders(-1, qa.MEAN_OF_HEADS, qa.MEAN_OF_HEADS, "qa.head")
    with gr.Row(equal_height=False):
        probabilities = gr.Plot(label=T("qa.probabilities"))
        attention = gr.Plot(label=T("qa.attention"))
    analysed = gr.State(None)
    outputs = [message, highlighted, alternatives, probabilities, attention, layer, head, analysed]

    @guarded(len(outputs))
    def answer(question_value, context_value, model_name, layer_value, head_value, progress=gr.Progress()):
        language = current_language()
        announce_loading(model_name, qa.TASK, progress, language)
        result = qa.present(question_value, context_value, model_name, layer_value, head_value, fit=True)
        return (
            status(result, language=language),
            highlights(result.highlights, language),
            table(result.table, language),
            figure(result.probabilities, language),
            figure(result.attention, language),
            *refit_layer_head(result),
            result.key,
        )

    @guarded(2)
    def redraw(key, layer_value, head_value):
        if key is None:
            return gr.skip(), gr.skip()
        return gr.skip(), figure(qa.view(key, layer_value, head_value), current_language())

    inputs = [question, context, model, layer, head]
    run = with_model_menu((answer, inputs, outputs), model, qa.TASK)
    gr.on([button.click, question.submit], *run, api_visibility="private", trigger_mode="always_last")
    gr.on(
        [layer.change, head.change],
        redraw,
        [analysed, layer, head],
        [message, attention],
        api_visibility="private",
        trigger_mode="always_last",
    )
    return TabHandle(run, text=question, shareable={"text": question, "context": context, "model": model})
