"""attention-explorer: see inside BERT-style transformers. Run: python app.py"""

from __future__ import annotations

import os

# Gradio phones home by default and the hub sends telemetry: neither is wanted in a
# classroom or offline. Users can still turn them on explicitly.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402

from explorer.models import REGISTRY, loaded_model_names  # noqa: E402
from explorer.ui import attention, i18n, links, ner, positional, qa, sentiment, tokenization  # noqa: E402
from explorer.ui.common import TabHandle  # noqa: E402

DEFAULT_TEXT = "The cat sat on the mat."
TITLE = "attention-explorer"
CSS = """
.gradio-container { font-size: 18px; }
.gradio-container h3 { font-size: 1.45em; }
.gradio-container table { font-size: 16px; }
footer { display: none !important; }
#toolbar { align-items: center; }
/* Projection mode: the whole page (plots included) at 130%, black text everywhere, bolder labels. */
body.projection .gradio-container { zoom: 1.3; }
body.projection .gradio-container *:not(button):not(button *) { color: #000 !important; }
body.projection .gradio-container .prose, body.projection .gradio-container label { font-weight: 600; }
body.projection .js-plotly-plot .xtick text, body.projection .js-plotly-plot .ytick text { font-weight: 700; }
"""
THEME = gr.themes.Default(text_size=gr.themes.sizes.text_lg, primary_hue="blue")


def build_demo() -> gr.Blocks:
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown(
            f"# {TITLE}\nSee inside BERT: how text becomes tokens, where each attention head looks, "
            "and how positions are encoded. Follows the Transformer/BERT chapter (sections 3.1–3.9). "
            "Default model: all-MiniLM-L6-v2, embedded and offline."
        )
        with gr.Row(elem_id="toolbar", equal_height=True):
            language = gr.Radio(i18n.LANGUAGES, value="en", label="Language", scale=1, elem_id="language")
            projection = gr.Checkbox(value=False, label="Projection mode (large text, high contrast)", scale=1)
            share = gr.Button("Copy link", scale=0, min_width=140)
            link = gr.Textbox(
                label="Link to this view",
                info="Copy a link that reopens this tab with the same text, model, layer and head.",
                scale=3,
                elem_id="share-link",
            )
        # A hidden textbox, not gr.State: the share button's JavaScript can read only values the page holds.
        current_tab = gr.Textbox("tokenization", visible=False)
        handles: dict[str, TabHandle] = {}
        tab_builders = [
            ("tokenization", "Tokenization", lambda: tokenization.build(demo, DEFAULT_TEXT)),
            ("attention", "Attention", lambda: attention.build(demo, DEFAULT_TEXT)),
            ("positional", "Positional encoding", lambda: positional.build(demo)),
            ("sentiment", "Sentiment", lambda: sentiment.build(demo)),
            ("ner", "NER", lambda: ner.build(demo)),
            ("qa", "QA", lambda: qa.build(demo)),
        ]
        with gr.Tabs() as tabs:
            for tab_id, label, build in tab_builders:
                with gr.Tab(label, id=tab_id, elem_id=tab_id) as tab:
                    handles[tab_id] = build()
                tab.select(lambda tab_id=tab_id: tab_id, None, current_tab, api_visibility="private")
        gr.api(health, api_name="health")

        translatable = i18n.collect(demo)
        # The cookie tells the server which language to write status lines in.
        language.change(
            lambda lang: i18n.relabel(translatable, lang),
            language,
            [t.component for t in translatable],
            js=i18n.SET_COOKIE_JS,
            api_visibility="private",
        )
        projection.change(None, projection, None, js=links.PROJECTION_JS)
        att = handles["attention"]
        share_inputs = [current_tab, language, projection, handles["tokenization"].text, att.text, att.model, att.layer, att.head]
        share_inputs += [handles[name].text for name in ("sentiment", "ner", "qa")]
        share.click(None, share_inputs, link, js=links.SHARE_JS)

        texts = [handle.text for handle in handles.values() if handle.text is not None]

        def open_link(request: gr.Request) -> tuple:
            """Page load: apply ``?tab=…&text=…&layer=…`` (and the browser's language), then every tab runs."""
            link = links.parse(dict(request.query_params), set(REGISTRY)) if request else links.Link()
            lang = i18n.detect(link.lang, request.headers.get("accept-language") if request else None)
            linked = [
                link.text if link.text and handle.tab_id == link.tab else gr.skip()
                for handle in handles.values()
                if handle.text is not None
            ]
            on_attention = link.tab == "attention"
            return (
                gr.Tabs(selected=link.tab) if link.tab else gr.skip(),
                link.tab or "tokenization",
                lang,
                link.projection,
                *linked,
                link.model if on_attention and link.model else gr.skip(),
                link.layer if on_attention and link.layer is not None else gr.skip(),
                link.head if on_attention and link.head is not None else gr.skip(),
            )

        loading = demo.load(
            open_link,
            None,
            [tabs, current_tab, language, projection, *texts, att.model, att.layer, att.head],
            api_visibility="private",
        )
        loading = loading.then(None, language, None, js=i18n.SET_COOKIE_JS)
        switching = language.input(None, language, None, js=i18n.SET_COOKIE_JS)
        # Each tab's first result, in tab order, with the linked values already in place; a new
        # language re-runs them too (cached: no forward pass) so their messages follow it.
        for handle in handles.values():
            fn, inputs, outputs = handle.run
            loading = loading.then(fn, inputs, outputs, api_visibility="private")
            switching = switching.then(fn, inputs, outputs, api_visibility="private")
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


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas before gradio starts its worker threads.

    Each thread that allocates gets its own arena (up to 8 per core), and freed attention
    tensors stay cached in all of them: under 30 concurrent users the server's memory grew
    15% over 500 requests after warm-up; with 2 arenas, 4% (benchmarks/soak.py). Same as
    setting ``MALLOC_ARENA_MAX=2``, which wins if it is set. No-op outside glibc.
    """
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        import ctypes

        return bool(ctypes.CDLL("libc.so.6").mallopt(-8, arenas))  # -8 is M_ARENA_MAX in malloc.h
    except (OSError, AttributeError):
        return False


def main() -> None:
    limit_malloc_arenas()
    with_queue(build_demo()).launch(theme=THEME, css=CSS)


if __name__ == "__main__":
    main()
