"""Tokenization tab: WordPiece of the chosen model beside MeCab + subwords (sections 3.6, 3.8)."""

from __future__ import annotations

import gradio as gr

from .. import presenters
from .common import TabHandle, guarded, model_dropdown, prepare_model, status

EXAMPLES = [
    ["Hello, how are you?"],
    ["The cat sat on the mat. Tokenization splits unbelievably long words."],
    ["自然言語処理は人工知能の重要な分野です。"],
    ["BERTは2018年にGoogleが発表しました 🤖"],
]
MAX_MORPHEMES = 1000  # a 10,000-character paste would otherwise fill the page


def build(demo: gr.Blocks, default_text: str) -> TabHandle:
    gr.Markdown(
        "### How does a model read text?\n"
        "BERT never sees characters: a **tokenizer** cuts the text into pieces from a fixed "
        "vocabulary (English: WordPiece, `##` marks a piece that continues a word) and adds "
        "`[CLS]` and `[SEP]`. Japanese BERT first splits words with **MeCab** (section 3.8). "
        "Try a rare word, an emoji or Japanese."
    )
    with gr.Row():
        text = gr.Textbox(value=default_text, label="Text", lines=3, max_lines=12, scale=4)
        with gr.Column(scale=2):
            model = model_dropdown()
            button = gr.Button("Tokenize", variant="primary")
    gr.Examples(EXAMPLES, inputs=[text], label="Examples")
    message = gr.Markdown()
    with gr.Row(equal_height=False):
        with gr.Column():
            gr.Markdown("#### Model tokenizer (WordPiece)")
            highlighted = gr.HighlightedText(
                label="Which characters each token covers", show_legend=False, elem_classes=["token-view"]
            )
            table = gr.Dataframe(headers=presenters.TOKEN_COLUMNS, label="Tokens, ids, attention mask", wrap=True, max_height=520)
        with gr.Column():
            gr.Markdown("#### Japanese: MeCab (unidic-lite) → character subwords")
            morpheme_highlight = gr.HighlightedText(
                label="Morphemes by part of speech", show_legend=True, elem_classes=["token-view"]
            )
            morphemes = gr.Dataframe(headers=presenters.MORPHEME_COLUMNS, label="Morphemes", wrap=True, max_height=360)
            subwords = gr.Dataframe(
                headers=presenters.SUBWORD_COLUMNS, label="BertJapaneseTokenizer subwords", wrap=True, max_height=360
            )
    outputs = [message, highlighted, table, morpheme_highlight, morphemes, subwords]

    @guarded(len(outputs))
    def tokenize(text_value: str, model_name: str, progress=gr.Progress()):
        prepare_model(model_name, None, progress)
        outcome = presenters.analyze_or_fallback(text_value, model_name)
        analysis = outcome.analysis
        notes = list(outcome.notes)
        morpheme_rows, subword_rows, source = presenters.japanese_rows(analysis.text, analysis.max_length, analysis.model_name)
        notes.append(f"Japanese subwords from the {source}.")
        if len(morpheme_rows) > MAX_MORPHEMES:
            notes.append(f"Showing the first {MAX_MORPHEMES:,} of {len(morpheme_rows):,} MeCab morphemes.")
            morpheme_rows = morpheme_rows[:MAX_MORPHEMES]
        notes.insert(0, f"{analysis.n_tokens} tokens from '{analysis.model_name}' for {len(analysis.text):,} characters.")
        if unknown := presenters.unknown_token_note(analysis):
            notes.append(unknown)
        return (
            status(notes),
            presenters.token_highlights(analysis),
            presenters.token_rows(analysis),
            presenters.japanese_highlights(analysis.text[: morpheme_rows[-1][5]] if morpheme_rows else ""),
            morpheme_rows,
            subword_rows,
        )

    # "always_last": a click made while a result is still computing wins, instead of being overwritten by it.
    gr.on([button.click, text.submit], tokenize, [text, model], outputs, api_name="tokenize", trigger_mode="always_last")
    return TabHandle("tokenization", text, (tokenize, [text, model], outputs))
