"""attention-explorer: see inside BERT-style transformers. Run: python app.py"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl

# Gradio phones home by default and the hub sends telemetry: neither is wanted in a
# classroom or offline. Users can still turn them on explicitly.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402

from explorer import api  # noqa: E402
from explorer.models import REGISTRY  # noqa: E402
from explorer.ui import common, i18n, lazy, links  # noqa: E402
from explorer.ui import export as export_ui  # noqa: E402
from explorer.ui import lesson as lesson_ui  # noqa: E402
from explorer.ui.common import T, TabHandle  # noqa: E402
from explorer.ui.tabs import TAB_IDS, TABS  # noqa: E402

TITLE = "attention-explorer"
# One font for Latin and Japanese, regular and bold (Noto Sans CJK JP, SIL OFL 1.1, subset to Latin,
# kana and the JIS X 0208 kanji: assets/fonts/README.md). gradio's Source Sans Pro has no Japanese, and
# a line mixing both was drawn half in each ("ʙERT" after Japanese text): one font draws both alike.
FONTS = Path(__file__).resolve().parent / "assets" / "fonts"
gr.set_static_paths([FONTS])
FONT_FAMILY = "Explorer Sans"
FONT_STACK = (FONT_FAMILY, "Noto Sans CJK JP", "Noto Sans JP", "Hiragino Sans", "Yu Gothic UI", "Meiryo", "sans-serif")
FONT_FACES = "".join(
    f"@font-face {{ font-family: '{FONT_FAMILY}'; font-weight: {weight}; font-style: normal; font-display: swap;"
    f" src: url('gradio_api/file={FONTS / f'NotoSansJP-subset-{name}.woff2'}') format('woff2'); }}\n"
    for weight, name in (("100 500", "Regular"), ("600 900", "Bold"))
)
CSS = (
    FONT_FACES
    + """
.gradio-container { font-size: 18px; }
.gradio-container, .gradio-container button, .gradio-container input, .gradio-container textarea,
.gradio-container select, .gradio-container table { font-family: var(--font); }
.gradio-container h2 { font-size: 1.35em; margin: 0 0 4px; }
.gradio-container h3 { font-size: 1.15em; }
.gradio-container table { font-size: 16px; }
footer { display: none !important; }
/* One header line: the title left; language, projection and the share link right. */
#topbar { align-items: center; flex-wrap: wrap; gap: 4px 16px; }
#title { flex: 0 0 auto; width: auto; min-width: 0 !important; }
#title h1 { font-size: 1.5em; font-weight: 700; margin: 0; white-space: nowrap; }
#tagline { font-size: 14px; line-height: 1.35; margin-top: -8px; }
#tagline p { margin: 0; }
#toolbar { flex: 0 1 auto; width: auto; align-items: center; gap: 6px 12px; flex-wrap: wrap; }
#toolbar > * { flex: 0 0 auto !important; width: auto; min-width: 0 !important; }
#toolbar #share-link { flex: 1 1 140px; max-width: 220px; }
#toolbar #share-link textarea, #toolbar #share-link input { font-size: 14px; padding: 4px 8px; }
#toolbar button { white-space: nowrap; }
body.projection #tagline { display: none; }
#language label, #projection, #lesson-toggle label { padding: 2px 8px; }
/* Every tab on the bar (it wraps to a second row rather than hiding tabs in a "…" menu). */
.tab-container button { font-size: 16px !important; padding: 0 10px !important; }
/* Token chips show tokens as the tokenizer wrote them: gradio uppercases highlight labels. */
.gradio-container .token-view *, .gradio-container [data-testid="highlighted-text"] * { text-transform: none !important; }
/* Highlighted text flows as text: gradio lays its pieces out as flex items with word-break: break-all,
   so the text after an answer started a new line and words split ("translat/ion"). Inline, the blanks
   of gradio's markup between pieces would show as spaces ("自然 言語"): they get font-size 0, the
   text gradio's own size (the theme's body text size). */
.gradio-container .textfield { display: block !important; word-break: normal !important; overflow-wrap: break-word;
  font-size: 0 !important; }
.gradio-container .textfield .token-container, .gradio-container .textfield .token-container > span {
  display: inline !important; font-size: 0 !important; }
.gradio-container .textfield .text { font-size: var(--body-text-size) !important; }
.gradio-container .textfield .label { font-size: calc(0.7 * var(--body-text-size)) !important; }
.gradio-container .textfield .line-break { display: block !important; }
/* Tables: headers break between words only, columns fit the table's width (no sideways scrolling). */
.gradio-container table th, .gradio-container table th * { word-break: keep-all !important; overflow-wrap: normal !important;
  hyphens: none; text-overflow: clip !important; white-space: normal !important; }
.gradio-container table td, .gradio-container table td * { overflow-wrap: anywhere; }
/* gradio sizes a table's columns from its text's measured width, which the projection zoom inflates
   by 130% (columns then overflow sideways): tables are not zoomed, their text is enlarged instead. */
body.projection .gradio-container .table-container { zoom: calc(1 / 1.3); }
body.projection .gradio-container .table-container * { font-size: 20px !important; }
/* The Heads tab's role grid has 13 columns: at 20px its cells broke inside words ("bro/ad/0.1/4"). */
body.projection .gradio-container #heads-grid .table-container * { font-size: 13px !important; }
#heads-grid td, #heads-grid td * { overflow-wrap: normal !important; word-break: normal !important; }
/* Readable contrast (WCAG AA 4.5:1): help texts under inputs, labels on highlighted tokens. */
.gradio-container :is([data-testid="block-info"], .info, .info-text, [data-testid="min-value"], [data-testid="max-value"]) {
  color: #4b5563 !important; }
/* A token's label badge: gradio draws it in white on its full colour (green: 3.3:1); black on the colour
   lightened by a white veil reads at 7:1 or more on every colour of its palette. */
.gradio-container [data-testid="highlighted-text"] .label { color: #000 !important;
  background-image: linear-gradient(rgb(255 255 255 / 55%), rgb(255 255 255 / 55%)); }
#lesson-toggle { padding: 2px 8px; border: none; box-shadow: none; background: none; }
/* Projection mode: the tabs (plots included) and the lesson at 130%, the header line as it is (so it
   stays one line); black text everywhere but on buttons and in coloured table cells; bolder labels. */
body.projection .gradio-container :is(#tabs, #lesson-panel) { zoom: 1.3; }
body.projection .gradio-container *:not(button, button *, .body-cell, .body-cell *) { color: #000 !important; }
body.projection .gradio-container .prose, body.projection .gradio-container label { font-weight: 600; }
body.projection .js-plotly-plot .xtick text, body.projection .js-plotly-plot .ytick text { font-weight: 700; }
"""
)
THEME = gr.themes.Default(text_size=gr.themes.sizes.text_lg, primary_hue="blue", font=FONT_STACK).set(
    # white on blue-500 is 3.7:1; blue-700 is 6.7:1 (WCAG AA asks 4.5:1)
    button_primary_background_fill="*primary_700",
    button_primary_background_fill_hover="*primary_800",
)

# gradio 6.31 names each radio button of a group apart ("radio-1", "radio-2"), so the browser's arrow
# keys do not move between them: arrows move the choice within the block here, as in any radio group.
RADIO_ARROWS_JS = """() => {
  document.addEventListener('keydown', (event) => {
    const input = event.target;
    const step = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1}[event.key];
    if (!step || !(input instanceof HTMLInputElement) || input.type !== 'radio') return;
    const group = [...input.closest('.block, fieldset').querySelectorAll('input[type=radio]:not(:disabled)')];
    if (new Set(group.map((radio) => radio.name)).size <= 1) return;  // one name: the browser moves itself
    event.preventDefault();
    const next = group[(group.indexOf(input) + step + group.length) % group.length];
    next.focus();
    next.click();
  });
}"""


def build_demo() -> gr.Blocks:
    """The page: a toolbar, one tab per ``TABS`` entry, the public API. Only assembly happens here."""
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        # One compact header line (title left, switches right) so a tab's first result fits on the first
        # screen of a projector (1280x720 at 130%); the tagline shows in normal mode only.
        with gr.Row(elem_id="topbar", equal_height=False):
            gr.HTML(f"<h1>{TITLE}</h1>", elem_id="title", container=False)  # the same name in every language
            with gr.Row(elem_id="toolbar", equal_height=True):
                language = gr.Radio(
                    i18n.LANGUAGES, value="en", label=T("app.language"), show_label=False, container=False, elem_id="language"
                )
                projection = gr.Checkbox(value=False, label=T("app.projection"), container=False, elem_id="projection")
                share = gr.Button(T("app.copy_link"), size="sm", min_width=0, elem_id="share-button")
                link = gr.Textbox(
                    label=T("app.link"),
                    placeholder=T("app.link_info"),
                    show_label=False,
                    container=False,
                    max_lines=1,
                    elem_id="share-link",
                )
                lesson_on = lesson_ui.toggle()
        gr.Markdown(T("app.header"), elem_id="tagline")
        # A hidden textbox, not gr.State: the share button's JavaScript can read only values the page holds.
        current_tab = gr.Textbox(TAB_IDS[0], visible=False)
        handles: dict[str, TabHandle] = {}
        # What the link opened, (tab, language, its values), kept on the server: the page-load chain's next
        # step reads the page's components as they were when the page loaded (measured: English, the
        # first tab, the default text), so the opened tab runs with the link's values from here.
        opened = gr.State(None)
        # A tab's first result comes when it is first shown (or opened by a link), not all at page load.
        first_results = lazy.LazyTabs(handles, language, opened)
        lesson_panel = lesson_ui.panel()
        with gr.Tabs(overflow_behavior="wrap", elem_id="tabs") as tabs:
            for spec in TABS:
                with gr.Tab(T(spec.label_key), id=spec.id, elem_id=spec.id) as tab:
                    common.BUILT_EXAMPLES.clear()
                    handles[spec.id] = spec.build()
                    export_ui.build(spec.id, handles[spec.id])
                # Clicking an example runs the tab, as its button and Enter in its text box do.
                for found in common.BUILT_EXAMPLES:
                    found.load_input_event.then(*handles[spec.id].run, api_visibility="private", trigger_mode="always_last")
                common.BUILT_EXAMPLES.clear()
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
        lesson_ui.attach(lesson_panel, lesson_on, language, handles, tabs, current_tab, first_results.ran, open_in_page, demo)

        outputs = [tabs, current_tab, language, projection, opened, *(c for _, _, c in shared)]
        loading = demo.load(open_link, None, outputs, api_visibility="private")
        demo.load(None, js=RADIO_ARROWS_JS)
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
