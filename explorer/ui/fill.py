"""Fill-mask tab: the masked-LM head's guesses for each [MASK] and where it looks (3.6), and BERT's
masking recipe drawn on a text with its shares over many draws (問題3)."""

from __future__ import annotations

import gradio as gr

from .. import fill_mask
from ..messages import DEFAULT_LANGUAGE
from ..models import any_model_allowed
from ..present import fill
from .common import (
    BoundedSlider,
    T,
    TabHandle,
    announce_loading,
    examples,
    figure,
    guarded,
    highlights,
    layer_head_sliders,
    not_yet,
    refit_layer_head,
    status,
    table,
    with_model_menu,
)
from .i18n import current_language, model_label
from .layout import CONTROLS, RESULTS

JAPANESE_MODEL = "tohoku-nlp/bert-base-japanese-v3"  # its tokenizer needs fugashi + unidic-lite, both in requirements
# Each example sets the model as well: the Japanese one needs the Tohoku BERT (from the hub; offline the
# presenter falls back with a warning), and the English ones after it bring the default back.
EXAMPLES = [
    ["The capital of France is [MASK].", fill_mask.DEFAULT_MASK_MODEL],
    ["東北大学で[MASK]の研究をしています。", JAPANESE_MODEL],
    ["The man went to the [MASK] to buy a gallon of milk.", fill_mask.DEFAULT_MASK_MODEL],
    ["Python is a programming [MASK] that lets you work [MASK].", fill_mask.DEFAULT_MASK_MODEL],
    ["I [MASK] this movie: it was a waste of two hours.", fill_mask.DEFAULT_MASK_MODEL],
]
PLAIN = "BERT learns language by guessing the words that were hidden from it."


def mask_model_choices(language: str = DEFAULT_LANGUAGE) -> list[tuple[str, str]]:
    return [(model_label(name, language), name) for name in fill_mask.mask_models()]


def build() -> TabHandle:
    with gr.Row(equal_height=False, elem_classes=["tab-top"]):
        with gr.Column(**CONTROLS):
            gr.Markdown(T("fill.intro"))  # beside the first result, not above it
            with gr.Row():
                text = gr.Textbox(
                    value=EXAMPLES[0][0], label=T("ui.text"), info=T("fill.text_info"), lines=1, max_lines=6, scale=4
                )
                with gr.Column(scale=2):
                    model = gr.Dropdown(
                        choices=mask_model_choices(),
                        value=fill_mask.DEFAULT_MASK_MODEL,
                        label=T("ui.model"),
                        info=T("fill.model_info"),
                        allow_custom_value=any_model_allowed(),
                        elem_classes=["model-menu"],
                    )
                    top_k = BoundedSlider(1, fill_mask.MAX_TOP_K, value=5, step=1, label=T("fill.top_k"))
                    button = gr.Button(T("fill.button"), variant="primary")
            examples([row for row in EXAMPLES if row[1] in fill_mask.mask_models()], [text, model])
        with gr.Column(**RESULTS):
            message = gr.Markdown()
            filled = gr.HighlightedText(label=T("fill.filled"), show_legend=False, elem_classes=["token-view"])
    with gr.Row(equal_height=False):
        candidates = gr.Plot(label=T("fill.candidates"))
        predictions = gr.Dataframe(label=T("fill.table"), interactive=False, wrap=True)
    with gr.Row():
        layer, head = layer_head_sliders(layer=-1, head=-1, head_minimum=-1, head_label="fill.head")
    attention = gr.Plot(label=T("fill.attention"))
    analysed = gr.State(None)
    outputs = [message, filled, candidates, predictions, attention, layer, head, analysed]

    @guarded(len(outputs))
    def run(text_value, model_name, k, layer_value, head_value, progress=gr.Progress()):
        language = current_language()
        announce_loading(model_name, None, progress, language)
        result = fill.present(text_value, model_name, k, layer_value, head_value, fit=True)
        return (
            status(result, language=language),
            highlights(result.filled, language),
            figure(result.candidates, language),
            table(result.table, language),
            figure(result.attention, language),
            *refit_layer_head(result),
            result.key,
        )

    @guarded(2)
    def redraw(key, layer_value, head_value):
        if key is None:
            return not_yet("fill.button", 2, current_language())
        return gr.skip(), figure(fill.view(key, layer_value, head_value), current_language())

    inputs = [text, model, top_k, layer, head]
    ran = with_model_menu((run, inputs, outputs), model)
    gr.on([button.click, text.submit, top_k.change], *ran, api_visibility="private", trigger_mode="always_last")
    gr.on(
        [layer.change, head.change],
        redraw,
        [analysed, layer, head],
        [message, attention],
        api_visibility="private",
        trigger_mode="always_last",
    )

    with gr.Accordion(T("fill.masking_accordion"), open=False):
        gr.Markdown(T("fill.masking_intro"))
        with gr.Row():
            plain = gr.Textbox(value=PLAIN, label=T("fill.masking_text"), lines=1, max_lines=6, scale=3)
            with gr.Column(scale=2):
                seed = BoundedSlider(0, 999, value=0, step=1, label=T("fill.seed"))
                draws = BoundedSlider(10, fill.MAX_DRAWS, value=1000, step=10, label=T("fill.draws"))
                simulate_button = gr.Button(T("fill.simulate"))
        masking_message = gr.Markdown()
        chosen = gr.HighlightedText(label=T("fill.chosen"), show_legend=True, elem_classes=["token-view"])
        model_input = gr.HighlightedText(label=T("fill.model_input"), show_legend=True, elem_classes=["token-view"])
        shares = gr.Plot(label=T("fill.shares"))
        positions = gr.Dataframe(label=T("fill.positions"), interactive=False, wrap=True)

    @guarded(5)
    def draw(text_value, model_name, seed_value, draws_value):
        language = current_language()
        result = fill.simulate(text_value, model_name, seed_value, draws_value, fit=True)
        return (
            status(result, language=language),
            highlights(fill.spaced(result.chosen), language),
            highlights(fill.spaced(result.model_input), language),
            figure(result.figure, language),
            table(result.table, language),
        )

    masking_outputs = [masking_message, chosen, model_input, shares, positions]
    gr.on(
        [simulate_button.click, plain.submit, seed.change, draws.change],
        draw,
        [plain, model, seed, draws],
        masking_outputs,
        api_visibility="private",
        trigger_mode="always_last",
    )
    return TabHandle(ran, text=text, shareable={"text": text, "model": model, "layer": layer, "head": head})
