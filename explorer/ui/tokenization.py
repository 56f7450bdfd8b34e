"""Tokenization tab: WordPiece of the chosen model beside MeCab + subwords (sections 3.6, 3.8)."""

from __future__ import annotations

import gradio as gr

from ..present import tokenization
from .common import T, TabHandle, announce_loading, examples, guarded, highlights, model_dropdown, status, table
from .i18n import current_language

DEFAULT_TEXT = "The cat sat on the mat."
EXAMPLES = [
    ["Hello, how are you?"],
    ["The cat sat on the mat. Tokenization splits unbelievably long words."],
    ["自然言語処理は人工知能の重要な分野です。"],
    ["BERTは2018年にGoogleが発表しました 🤖"],
]


def build() -> TabHandle:
    gr.Markdown(T("tok.intro"))
    with gr.Row():
        text = gr.Textbox(value=DEFAULT_TEXT, label=T("ui.text"), lines=3, max_lines=12, scale=4)
        with gr.Column(scale=2):
            model = model_dropdown()
            button = gr.Button(T("tok.button"), variant="primary")
    examples(EXAMPLES, [text])
    message = gr.Markdown()
    with gr.Row(equal_height=False):
        with gr.Column():
            gr.Markdown(T("tok.model_heading"))
            highlighted = gr.HighlightedText(label=T("tok.covers_label"), show_legend=False, elem_classes=["token-view"])
            tokens = gr.Dataframe(label=T("tok.table_label"), wrap=True, max_height=520)
        with gr.Column():
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
    gr.on([button.click, text.submit], run, [text, model], outputs, api_visibility="private", trigger_mode="always_last")
    return TabHandle((run, [text, model], outputs), text=text, shareable={"text": text, "model": model})
