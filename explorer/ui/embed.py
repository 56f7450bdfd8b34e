"""Embeddings tab: sentence embeddings by pooling, their similarities and maps, and one word across layers (3.9)."""

from __future__ import annotations

import gradio as gr

from ..embeddings import POOLINGS
from ..models import embedded_shape, names_for_task
from ..present import embed
from .common import (
    BoundedSlider,
    T,
    TabHandle,
    announce_loading,
    examples,
    figure,
    guarded,
    model_dropdown,
    status,
    with_model_menu,
)
from .i18n import current_language
from .layout import CONTROLS, RESULTS

BANK = "\n".join(embed.BANK)
JAPANESE_MODEL = "tohoku-nlp/bert-base-japanese-v3"  # offline, the presenter falls back to the embedded model and says so
# Each example sets the model too: the Japanese ones need a Japanese BERT, and the English rows after
# them bring the embedded sentence encoder back.
EXAMPLES = [
    [BANK, "sentence-transformers", embed.DEFAULT_MODEL],
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
        embed.DEFAULT_MODEL,
    ],
    [
        "\n".join(
            [
                "猫がソファの上で眠っている。",
                "子猫がクッションの上で寝ている。",
                "今日は株価が大きく下がった。",
                "株式市場は急落した。",
            ]
        ),
        "mean",
        JAPANESE_MODEL,
    ],
    [
        "The movie was wonderful.\nThe movie was terrible.\nThe film was great.\nI ate a sandwich.",
        "mean",
        embed.DEFAULT_MODEL,
    ],
]


def build() -> TabHandle:
    layers, _ = embedded_shape()
    with gr.Row(equal_height=False, elem_classes=["tab-top"]):
        with gr.Column(**CONTROLS):
            gr.Markdown(T("embed.intro"))  # beside the first result, not above it
            with gr.Row():
                sentences = gr.Textbox(
                    value=BANK, label=T("embed.sentences"), info=T("embed.sentences_info"), lines=5, max_lines=14, scale=4
                )
                with gr.Column(scale=2):
                    model = model_dropdown(None)
                    pooling = gr.Radio(
                        choices=[(T(f"embed.pooling.{name}"), name) for name in POOLINGS],
                        value=POOLINGS[0],
                        label=T("embed.pooling"),
                    )
                    button = gr.Button(T("embed.button"), variant="primary")
            examples([row for row in EXAMPLES if row[2] in names_for_task(None)], [sentences, pooling, model])
        with gr.Column(**RESULTS):
            message = gr.Markdown()
            layer = BoundedSlider(0, layers, value=layers, step=1, label=T("embed.layer"), info=T("embed.layer_info"))
            # The matrix gets the whole width (32 sentences still leave every cell room for its value); the two
            # maps sit side by side on a wide screen, one under the other where each would be under 640 px.
            similarity = gr.Plot(label=T("embed.similarity"))
    with gr.Row(equal_height=False):
        sentence_map = gr.Plot(label=T("embed.sentence_map"), min_width=640)
        token_map = gr.Plot(label=T("embed.token_map"), min_width=640)
    with gr.Accordion(T("embed.word_accordion"), open=False):
        gr.Markdown(T("embed.word_intro"))
        with gr.Row():
            word = gr.Textbox(value="bank", label=T("embed.word"), max_lines=1, scale=3)
            word_button = gr.Button(T("embed.word_button"), scale=1)
        word_message = gr.Markdown()
        word_plot = gr.Plot(label=T("embed.word_plot"))
    drawn_model = gr.State(None)  # the model menu's value of the result on screen
    # a new run empties the word panel, which compared the sentences before
    outputs = [message, similarity, sentence_map, token_map, layer, word_message, word_plot, drawn_model]

    def drawn(result: embed.EmbedResult, language: str) -> tuple:
        figures = (result.similarity_figure, result.sentence_map, result.token_map)
        return (status(result, language=language), *(figure(spec, language) for spec in figures))

    @guarded(len(outputs))
    def run(text, model_name, pooling_name, layer_value, before, progress=gr.Progress()):
        language = current_language()
        announce_loading(model_name, None, progress, language)
        if before is not None and before != model_name:  # another model: its layers are others, start at its last
            result = embed.present(text, model_name, pooling_name, -1)
        else:  # the same model, or a page (or link) opened with this layer
            result = embed.present(text, model_name, pooling_name, layer_value, fit=True)
        return (*drawn(result, language), gr.Slider(maximum=result.n_layers, value=result.layer), "", None, model_name)

    @guarded(4)
    def redraw(text, model_name, pooling_name, layer_value):
        # another pooling or layer: the analyses are cached, only the pooling and the maps are recomputed
        return drawn(embed.present(text, model_name, pooling_name, layer_value, fit=True), current_language())

    @guarded(2)
    def follow_word(text, word_value, model_name, progress=gr.Progress()):
        language = current_language()
        announce_loading(model_name, None, progress, language)
        result = embed.word_in_context(text, word_value, model_name)
        return status(result, language=language), figure(result.figure, language)

    inputs = [sentences, model, pooling, layer, drawn_model]
    ran = with_model_menu((run, inputs, outputs), model)
    gr.on([button.click, sentences.submit], *ran, api_visibility="private", trigger_mode="always_last")
    gr.on([pooling.input, layer.change], redraw, inputs[:4], outputs[:4], api_visibility="private", trigger_mode="always_last")
    gr.on(
        [word_button.click, word.submit],
        follow_word,
        [sentences, word, model],
        [word_message, word_plot],
        api_visibility="private",
        trigger_mode="always_last",
    )
    return TabHandle(
        ran,
        shown=(redraw, inputs[:4], outputs[:4]),
        text=sentences,
        shareable={"text": sentences, "model": model, "layer": layer},
    )
