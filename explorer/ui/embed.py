"""Embeddings tab: sentence embeddings by pooling, their similarities and maps, and one word across layers (3.9)."""

from __future__ import annotations

import gradio as gr

from ..embeddings import POOLINGS
from ..models import embedded_shape
from ..present import embed
from .common import BoundedSlider, T, TabHandle, announce_loading, examples, figure, guarded, model_dropdown, status
from .i18n import current_language

BANK = "\n".join(
    [
        "I sat on the bank of the river.",
        "The river bank was muddy after the rain.",
        "I deposited money at the bank.",
        "The bank raised its interest rates.",
    ]
)
EXAMPLES = [
    [BANK, "sentence-transformers"],
    [
        "\n".join(
            [
                "A man is playing a guitar.",
                "Someone plays an instrument on stage.",
                "A woman is slicing an onion.",
                "She is cutting vegetables in the kitchen.",
                "The stock market fell sharply today.",
            ]
        ),
        "sentence-transformers",
    ],
    ["The movie was wonderful.\nThe movie was terrible.\nThe film was great.\nI ate a sandwich.", "mean"],
]


def build() -> TabHandle:
    gr.Markdown(T("embed.intro"))
    layers, _ = embedded_shape()
    with gr.Row():
        sentences = gr.Textbox(
            value=BANK, label=T("embed.sentences"), info=T("embed.sentences_info"), lines=5, max_lines=14, scale=4
        )
        with gr.Column(scale=2):
            model = model_dropdown(None)
            pooling = gr.Radio(
                choices=[(T(f"embed.pooling.{name}"), name) for name in POOLINGS], value=POOLINGS[0], label=T("embed.pooling")
            )
            button = gr.Button(T("embed.button"), variant="primary")
    examples(EXAMPLES, [sentences, pooling])
    message = gr.Markdown()
    layer = BoundedSlider(0, layers, value=layers, step=1, label=T("embed.layer"), info=T("embed.layer_info"))
    with gr.Row(equal_height=False):
        similarity = gr.Plot(label=T("embed.similarity"))
        sentence_map = gr.Plot(label=T("embed.sentence_map"))
    token_map = gr.Plot(label=T("embed.token_map"))
    with gr.Accordion(T("embed.word_accordion"), open=False):
        with gr.Row():
            word = gr.Textbox(value="bank", label=T("embed.word"), max_lines=1, scale=3)
            word_button = gr.Button(T("embed.word_button"), scale=1)
        word_message = gr.Markdown()
        word_plot = gr.Plot(label=T("embed.word_plot"))
    outputs = [message, similarity, sentence_map, token_map, layer]

    @guarded(len(outputs))
    def run(text, model_name, pooling_name, layer_value, progress=gr.Progress()):
        language = current_language()
        announce_loading(model_name, None, progress, language)
        result = embed.present(text, model_name, pooling_name, layer_value, fit=True)
        return (
            status(result, language=language),
            figure(result.similarity_figure, language),
            figure(result.sentence_map, language),
            figure(result.token_map, language),
            gr.Slider(maximum=result.n_layers, value=result.layer),
        )

    @guarded(2)
    def compare_word(text, word_value, model_name):
        language = current_language()
        result = embed.word_in_context(text, word_value, model_name)
        return status(result, language=language), figure(result.figure, language)

    @guarded(4)
    def redraw(text, model_name, pooling_name, layer_value):
        # another pooling or layer: the analyses are cached, only the pooling and the maps are recomputed
        language = current_language()
        result = embed.present(text, model_name, pooling_name, layer_value, fit=True)
        figures = (result.similarity_figure, result.sentence_map, result.token_map)
        return (status(result, language=language), *(figure(spec, language) for spec in figures))

    inputs = [sentences, model, pooling, layer]
    gr.on([button.click, sentences.submit], run, inputs, outputs, api_visibility="private", trigger_mode="always_last")
    gr.on([pooling.input, layer.change], redraw, inputs, outputs[:4], api_visibility="private", trigger_mode="always_last")
    gr.on(
        [word_button.click, word.submit],
        compare_word,
        [sentences, word, model],
        [word_message, word_plot],
        api_visibility="private",
    )
    return TabHandle((run, inputs, outputs), text=sentences, shareable={"text": sentences, "model": model, "layer": layer})
