"""NER tab: entities over the text, tags per token, the tagger's attention (3.7)."""

from __future__ import annotations

import gradio as gr

from ..present import ner
from ..tasks.ner import STRATEGIES
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

CHAPTER_EXAMPLE = "Apple Inc. is looking at buying U.K. startup for $1 billion. Tim Cook is the CEO."
EXAMPLES = [
    [CHAPTER_EXAMPLE],
    ["Angela Merkel met Emmanuel Macron in Berlin to discuss the European Union budget."],
    ["Marie Curie moved from Warsaw to Paris and won the Nobel Prize twice."],
]

ENTITY_COLOURS = {"PER": "#60a5fa", "ORG": "#f472b6", "LOC": "#34d399", "MISC": "#fbbf24"}


def build() -> TabHandle:
    with gr.Row(equal_height=False, elem_classes=["tab-top"]):
        with gr.Column(**CONTROLS):
            gr.Markdown(T("ner.intro"))  # beside the first result, not above it
            with gr.Row():
                text = gr.Textbox(value=CHAPTER_EXAMPLE, label=T("ui.text"), lines=1, max_lines=8, scale=4)
                with gr.Column(scale=2):
                    model = model_dropdown(task=ner.TASK)
                    strategy = gr.Radio(
                        [(T(f"ner.strategy_{name}"), name) for name in STRATEGIES], value="simple", label=T("ner.strategy")
                    )
                    button = gr.Button(T("ner.button"), variant="primary")
            examples(EXAMPLES, [text])
        with gr.Column(**RESULTS):
            message = gr.Markdown()
            # One colour per type on every run (gradio's default follows the order types first appear in).
            entities = gr.HighlightedText(
                label=T("ner.entities"), show_legend=True, color_map=ENTITY_COLOURS, elem_classes=["token-view"]
            )
    entity_table = gr.Dataframe(label=T("ner.entity_table"), max_height=260)
    with gr.Row(equal_height=False):
        tags = gr.Dataframe(label=T("ner.tags"), max_height=480)
        with gr.Column():
            with gr.Row():
                layer, head = layer_head_sliders(layer=-1)
            token = gr.Dropdown(choices=[], value=None, label=T("ner.token"))
            attention_plot = gr.Plot(label=T("ner.attention"))
    analysed = gr.State(None)
    outputs = [message, entities, entity_table, tags, token, layer, head, attention_plot, analysed]

    @guarded(len(outputs))
    def find(text_value, model_name, strategy_value, layer_value, head_value, progress=gr.Progress()):
        language = current_language()
        announce_loading(model_name, ner.TASK, progress, language)
        result = ner.present(text_value, model_name, strategy_value, layer_value, head_value, fit=True)
        return (
            status(result, language=language),
            highlights(result.highlights, language),
            table(result.entities, language),
            table(result.tags, language),
            gr.Dropdown(choices=result.token_choices, value=result.token),
            *refit_layer_head(result),
            figure(result.attention, language),
            result.key,
        )

    @guarded(2)
    def redraw(key, layer_value, head_value, token_value):
        if key is None:
            return gr.skip(), gr.skip()
        return gr.skip(), figure(ner.view(key, layer_value, head_value, token_value), current_language())

    inputs = [text, model, strategy, layer, head]
    run = with_model_menu((find, inputs, outputs), model, ner.TASK)
    gr.on([button.click, text.submit, strategy.input], *run, api_visibility="private", trigger_mode="always_last")
    redraw_inputs = [analysed, layer, head, token]
    gr.on(
        [layer.change, head.change, token.input],
        redraw,
        redraw_inputs,
        [message, attention_plot],
        api_visibility="private",
        trigger_mode="always_last",
    )
    return TabHandle(run, text=text, shareable={"text": text, "model": model, "layer": layer, "head": head})
