"""Tokenization tab: WordPiece of the chosen model beside MeCab + subwords (sections 3.6, 3.8)."""

from __future__ import annotations

import gradio as gr

from ..present import tokenization
from .common import T, TabHandle, announce_loading, examples, guarded, highlights, model_dropdown, status, table, with_model_menu
from .i18n import current_language
from .layout import CONTROLS, RESULTS

DEFAULT_TEXT = "The cat sat on the mat."
EXAMPLES = [
    ["Hello, how are you?"],
    ["The cat sat on the mat. Tokenization splits unbelievably long words."],
    ["自然言語処理は人工知能の重要な分野です。"],
    ["BERTは2018年にGoogleが発表しました 🤖"],
]


def build() -> TabHandle:
    with gr.Row(equal_height=False, elem_classes=["tab-top"]):
        with gr.Column(**CONTROLS):
            gr.Markdown(T("tok.intro"))  # beside the first result, not above it
            with gr.Row():
                text = gr.Textbox(value=DEFAULT_TEXT, label=T("ui.text"), lines=1, max_lines=12, scale=4)
                with gr.Column(scale=2):
                    model = model_dropdown()
                    button = gr.Button(T("tok.button"), variant="primary")
            examples(EXAMPLES, [text])
        with gr.Column(**RESULTS):
            message = gr.Markdown()
            # One above the other unless each gets 800 px: the token table's eight columns need ~800 px.
            with gr.Row(equal_height=False):
                with gr.Column(min_width=800):
                    gr.Markdown(T("tok.model_heading"))
                    highlighted = gr.HighlightedText(label=T("tok.covers_label"), show_legend=False, elem_classes=["token-view"])
                    tokens = gr.Dataframe(label=T("tok.table_label"), wrap=True, max_height=520)
                with gr.Column(min_width=800):
                    gr.Markdown(T("tok.ja_heading"))
                    morpheme_highlight = gr.HighlightedText(
                        label=T("tok.morpheme_highlight_label"), show_legend=True, elem_classes=["token-view"]
                    )
                    morphemes = gr.Dataframe(label=T("tok.morphemes_label"), wrap=True, max_height=360)
                    subwords = gr.Dataframe(label=T("tok.subwords_label"), wrap=True, max_height=360)
    outputs = [message, highlighted, tokens, morpheme_highlight, morphemes, subwords]

    @guarded(len(outputs))
    def run(text_value: str, model_name: str, progress=gr.Progress()):
        language = current_language()
        announce_loading(model_name, None, progress, language)
        result = tokenization.present(text_value, model_name)
        return (
            status(result, language=language),
            highlights(result.highlights, language),
            table(result.tokens, language),
            highlights(result.morpheme_highlights, language),
            table(result.morphemes, language),
            table(result.subwords, language),
        )

    # "always_last": a click made while a result is still computing wins, instead of being overwritten by it.
    ran = with_model_menu((run, [text, model], outputs), model)
    gr.on([button.click, text.submit], *ran, api_visibility="private", trigger_mode="always_last")
    return TabHandle(ran, text=text, shareable={"text": text, "model": model})
