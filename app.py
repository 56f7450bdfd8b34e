"""attention-explorer: see inside BERT-style transformers. Run: python app.py"""

from __future__ import annotations

import os

# Gradio phones home by default and the hub sends telemetry: neither is wanted in a
# classroom or offline. Users can still turn them on explicitly.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402

from explorer.models import loaded_model_names  # noqa: E402
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
        gr.api(health, api_name="health")
    return demo


def health() -> dict:
    """Liveness for load balancers and load tests: no model runs. Lists the models in memory."""
    return {"status": "ok", "models_loaded": loaded_model_names()}


QUEUE_POLL_SECONDS = 0.01


def with_queue(demo: gr.Blocks) -> gr.Blocks:
    """Enable gradio's queue, polling it every 10 ms instead of every 1 ms.

    gradio's queue loop wakes up every millisecond while idle; each wake-up takes the GIL
    from the model's forward pass, which then ran 40% slower in an idle server and 2.5x
    slower while results were streaming (measured on 2 cores). 10 ms adds at most 10 ms
    before a request starts. ``sleep_when_free`` is gradio-internal: tests/test_app_api.py
    checks that it still exists.
    """
    demo.queue(default_concurrency_limit=4)
    queue = getattr(demo, "_queue", None)
    if queue is not None and hasattr(queue, "sleep_when_free"):
        queue.sleep_when_free = QUEUE_POLL_SECONDS
        queue.progress_update_sleep_when_free = max(queue.progress_update_sleep_when_free, 5 * QUEUE_POLL_SECONDS)
    return demo


def main() -> None:
    with_queue(build_demo()).launch(theme=THEME, css=CSS)


if __name__ == "__main__":
    main()
