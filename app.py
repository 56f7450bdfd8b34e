"""attention-explorer: see inside BERT-style transformers. Run: python app.py"""

from __future__ import annotations

import os
from urllib.parse import parse_qsl

# Gradio phones home by default and the hub sends telemetry: neither is wanted in a
# classroom or offline. Users can still turn them on explicitly.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402

from explorer import api  # noqa: E402
from explorer.models import REGISTRY  # noqa: E402
from explorer.ui import i18n, lazy, links  # noqa: E402
from explorer.ui.common import T, TabHandle  # noqa: E402
from explorer.ui.tabs import TAB_IDS, TABS  # noqa: E402

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
    """The page: a toolbar, one tab per ``TABS`` entry, the public API. Only assembly happens here."""
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown(T("app.header"))
        with gr.Row(elem_id="toolbar", equal_height=True):
            language = gr.Radio(i18n.LANGUAGES, value="en", label=T("app.language"), scale=1, elem_id="language")
            projection = gr.Checkbox(value=False, label=T("app.projection"), scale=1)
            share = gr.Button(T("app.copy_link"), scale=0, min_width=140)
            link = gr.Textbox(label=T("app.link"), info=T("app.link_info"), scale=3, elem_id="share-link")
        # A hidden textbox, not gr.State: the share button's JavaScript can read only values the page holds.
        current_tab = gr.Textbox(TAB_IDS[0], visible=False)
        handles: dict[str, TabHandle] = {}
        # What the link opened, (tab, language, its values), kept on the server: the page-load chain's next
        # step reads the page's components as they were when the page loaded (measured: English, the
        # first tab, the default text), so the opened tab runs with the link's values from here.
        opened = gr.State(None)
        # A tab's first result comes when it is first shown (or opened by a link), not all at page load.
        first_results = lazy.LazyTabs(handles, language, opened)
        with gr.Tabs() as tabs:
            for spec in TABS:
                with gr.Tab(T(spec.label_key), id=spec.id, elem_id=spec.id) as tab:
                    handles[spec.id] = spec.build()
                tab.select(lambda tab_id=spec.id: tab_id, None, current_tab, api_visibility="private")
                tab.select(*first_results.on_select(spec.id), api_visibility="private")
        for endpoint in api.ENDPOINTS:
            queue = api.QUEUES.get(endpoint.__name__)
            limits = dict(concurrency_limit=1, concurrency_id=queue) if queue else {}
            gr.api(endpoint, api_name=endpoint.__name__, **limits)

        translatable = i18n.collect(demo)
        # The cookie tells the server which language to write status lines in.
        language.change(
            lambda lang: i18n.relabel(translatable, lang),
            language,
            [t.component for t in translatable],
            js=i18n.SET_COOKIE_JS,
            api_visibility="private",
        )
        language.change(*first_results.follow_language(), api_visibility="private")
        projection.change(None, projection, None, js=links.PROJECTION_JS)
        shared = [(tab_id, name, control) for tab_id, handle in handles.items() for name, control in handle.shareable.items()]
        share_js = links.share_js([(tab_id, name) for tab_id, name, _ in shared])
        share.click(None, [current_tab, language, projection, *(c for _, _, c in shared)], link, js=share_js)

        def open_link(request: gr.Request) -> tuple:
            """Page load: apply ``?tab=…&text=…&layer=…`` (and the browser's language); the opened tab then runs."""
            link = links.parse(dict(request.query_params), TAB_IDS, set(REGISTRY)) if request else links.Link()
            lang = i18n.detect(link.lang, request.headers.get("accept-language") if request else None)
            values = [
                link.values[name] if tab_id == link.tab and name in link.values else gr.skip() for tab_id, name, _ in shared
            ]
            selected = gr.Tabs(selected=link.tab) if link.tab else gr.skip()
            opened_tab = link.tab or TAB_IDS[0]
            linked = dict(link.values) if link.tab else {}
            return (selected, opened_tab, lang, link.projection, (opened_tab, lang, linked), *values)

        for tab_id, handle in handles.items():
            if handle.opens is not None:
                open_in_page(tab_id, handle.opens, handles, tabs, current_tab, first_results.ran)

        outputs = [tabs, current_tab, language, projection, opened, *(c for _, _, c in shared)]
        loading = demo.load(open_link, None, outputs, api_visibility="private")
        loading = loading.then(None, language, None, js=i18n.SET_COOKIE_JS)
        switching = language.input(None, language, None, js=i18n.SET_COOKIE_JS)
        # The opened tab's first result, with the linked values already in place; a new language
        # re-runs the tabs that have run (cached: no forward pass) so that their messages follow it.
        loading.then(*first_results.on_open(), api_visibility="private")
        switching.then(*first_results.on_language(), api_visibility="private")
    return demo


def open_in_page(
    owner: str, opens: gr.Textbox, handles: dict[str, TabHandle], tabs: gr.Tabs, current_tab: gr.Textbox, ran: gr.State
) -> None:
    """When a tab writes an in-page link into its ``opens`` box (a shared link's query, e.g.
    ``tab=attention&layer=3&head=1&text=…``): select that tab, set its shareable controls and run it,
    in one round trip (the target's own handler, called with the link's values). ``ran`` (the tabs
    that have shown a result, ``lazy.LazyTabs``) then holds the target too."""
    for tab_id in handles[owner].opens_tabs:
        target = handles[tab_id]
        fn, inputs, outputs = target.run
        extra = [(name, control) for name, control in target.shareable.items() if control not in outputs]

        def apply(
            query: str, done: list, *values, tab_id=tab_id, target=target, fn=fn, inputs=inputs, outputs=outputs, extra=extra
        ):
            link = links.parse(dict(parse_qsl(query or "")), TAB_IDS, set(REGISTRY))
            if link.tab != tab_id:
                return (gr.skip(),) * (3 + len(extra) + len(outputs))
            linked = {id(control): link.values[name] for name, control in target.shareable.items() if name in link.values}
            result = fn(*(linked.get(id(control), value) for control, value in zip(inputs, values, strict=True)))
            result = result if len(outputs) > 1 else (result,)
            done = done or []
            marked = done if tab_id in done else [*done, tab_id]
            return (gr.Tabs(selected=tab_id), tab_id, marked, *(link.values.get(name, gr.skip()) for name, _ in extra), *result)

        opens.change(
            apply, [opens, ran, *inputs], [tabs, current_tab, ran, *(c for _, c in extra), *outputs], api_visibility="private"
        )


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


def warm_up() -> None:
    """Load what the first tab needs, then the task tabs' models, while the page is being opened.

    Importing transformers' BERT code and loading MiniLM took ~4 s of the first result's wait; a
    server started before the class arrives has it done. A failure here only means the tab loads
    its model on first use, with its progress line, as before.
    """
    import logging

    try:
        from explorer.models import OFFLINE_DEFAULT, load_model
        from explorer.present import tokenization
        from explorer.ui.tokenization import DEFAULT_TEXT

        tokenization.present(DEFAULT_TEXT)  # MiniLM, and MeCab for the Japanese column
        for task in ("sentiment", "ner", "qa"):
            load_model(OFFLINE_DEFAULT[task])
    except Exception:  # noqa: BLE001 (a warm-up must never stop the server)
        logging.getLogger(__name__).warning("warm-up failed; models load on first use", exc_info=True)


def main() -> None:
    import sys
    import threading

    from explorer.serve import launch_options

    limit_malloc_arenas()
    # Started before the server: measured, the first result came 0.5-1 s sooner than when the thread
    # started after launch, and the server took as long to serve its first page either way.
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    with_queue(build_demo()).launch(theme=THEME, css=CSS, **launch_options(sys.argv[1:], os.environ))


if __name__ == "__main__":
    main()
