"""attention-explorer: see inside BERT-style transformers. Run: python app.py"""

from __future__ import annotations

import os

# Gradio phones home by default and the hub sends telemetry: neither is wanted in a
# classroom or offline. Users can still turn them on explicitly.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402

from explorer.ui import attention, ner, positional, qa, sentiment, tokenization  # noqa: E402

DEFAULT_TEXT = "The cat sat on the mat."
TITLE = "attention-explorer"
CSS = """
.gradio-container { font-size: 18px; }
.gradio-container h3 { font-size: 1.45em; }
.gradio-container table { font-size: 16px; }
footer { display: none !important; }
/* token labels are case-sensitive ("The" vs "the"): do not upper-case them */
.token-view .label, .token-view .label-input { text-transform: none !important; font-size: 80% !important; }
"""
THEME = gr.themes.Default(text_size=gr.themes.sizes.text_lg, primary_hue="blue")


def build_demo() -> gr.Blocks:
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown(
            f"# {TITLE}\nSee inside BERT: how text becomes tokens, where each attention head looks, "
            "and how positions are encoded. Follows the Transformer/BERT chapter (sections 3.1–3.9). "
            "Default model: all-MiniLM-L6-v2, embedded and offline."
        )
        with gr.Tabs():
            with gr.Tab("Tokenization", id="tokenization", elem_id="tokenization"):
                tokenization.build(demo, DEFAULT_TEXT)
            with gr.Tab("Attention", id="attention", elem_id="attention"):
                attention.build(demo, DEFAULT_TEXT)
            with gr.Tab("Positional encoding", id="positional", elem_id="positional"):
                positional.build(demo)
            with gr.Tab("Sentiment", id="sentiment", elem_id="sentiment"):
                sentiment.build(demo)
            with gr.Tab("NER", id="ner", elem_id="ner"):
                ner.build(demo)
            with gr.Tab("QA", id="qa", elem_id="qa"):
                qa.build(demo)
    return demo


def main() -> None:
    build_demo().queue(default_concurrency_limit=4).launch(theme=THEME, css=CSS)


if __name__ == "__main__":
    main()
