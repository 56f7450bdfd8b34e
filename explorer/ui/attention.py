"""Attention tab: per-head heatmaps of the cached analysis, bertviz, the numpy check (sections 3.2, 3.3)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import gradio as gr

from .. import views
from ..messages import render, render_tree
from ..present import attention
from .common import (
    T,
    TabHandle,
    announce_loading,
    examples,
    figure,
    guarded,
    layer_head_sliders,
    model_dropdown,
    not_yet,
    notes_status,
    refit_layer_head,
    status,
    with_model_menu,
)
from .i18n import current_language
from .layout import CONTROLS, RESULTS
from .tokenization import DEFAULT_TEXT

EXAMPLES = [
    ["The cat sat on the mat."],
    ["The animal didn't cross the street because it was too tired."],
    ["Hello, how are you?"],
    ["自然言語処理は人工知能の重要な分野です。"],
]
BUTTON = "att.button"
NORMS = "norms"  # the scale radio's value for ||alpha f(x)||; "weights" otherwise


# Head and query changes redraw in the page from the layer pack (no server round trip).
CLIENT_REDRAW_JS = (Path(__file__).with_name("attention_client.js")).read_text(encoding="utf-8")


def client_pack(view: attention.AttentionView, language: str) -> str:
    """The layer's pack for ``CLIENT_REDRAW_JS`` as JSON text, its words in ``language``."""
    if view.client is None:
        return ""
    payload = render_tree(view.client.payload(), language)
    payload["titles"], payload["row_titles"] = views.wrap_titles([payload["titles"], payload["row_titles"]])
    payload["shares"] = [notes_status([share], language) for share in view.client.shares]  # as the server's line
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _drawn(view: attention.AttentionView, language: str) -> tuple:
    """The four figures, the special-token share line (weights and norms), the layer pack and its stamp."""
    figures = tuple(figure(spec, language) for spec in (view.head, view.row, view.mean, view.grid))
    stamp = view.client.stamp if view.client else None
    return (*figures, notes_status([view.shares.message()], language), client_pack(view, language), stamp)


def build() -> TabHandle:
    with gr.Row(equal_height=False, elem_classes=["tab-top"]):
        with gr.Column(**CONTROLS):
            gr.Markdown(T("att.intro"))  # beside the first result, not above it
            with gr.Row():
                text = gr.Textbox(value=DEFAULT_TEXT, label=T("ui.text"), lines=1, max_lines=8, scale=4)
                with gr.Column(scale=2):
                    model = model_dropdown()
                    button = gr.Button(T(BUTTON), variant="primary")
            examples(EXAMPLES, [text])
            with gr.Row():
                layer, head = layer_head_sliders()
                query = gr.Dropdown(choices=[], value=None, label=T("att.query_label"), elem_id="att-query")
            with gr.Row():
                hide_special = gr.Checkbox(value=False, label=T("att.hide_special"), elem_id="att-hide")
                renormalize = gr.Checkbox(value=False, label=T("att.renormalize"), elem_id="att-renormalize")
                scale = gr.Radio(
                    [(T("att.scale_weights"), "weights"), (T("att.scale_norms"), NORMS)],
                    value="weights",
                    label=T("att.scale_label"),
                    info=T("att.scale_info"),
                )
        with gr.Column(**RESULTS):
            message = gr.Markdown()
            share = gr.Markdown()  # the special-token share under weights and under norms
            head_plot = gr.Plot(label=T("att.head_plot"), elem_id="att-head-plot")
    analysed = gr.State(None)  # the AnalysisKey of the analysis on screen
    # A hidden textbox, not gr.State: the page's redraw script can read only values the page holds.
    pack = gr.Textbox(visible=False, elem_id="att-pack")
    row_plot = gr.Plot(label=T("att.row_plot"), elem_id="att-row-plot")
    with gr.Row(equal_height=False):
        mean_plot = gr.Plot(label=T("att.mean_plot"), elem_id="att-mean-plot")
        grid_plot = gr.Plot(label=T("att.grid_plot"), elem_id="att-grid-plot")
    with gr.Accordion(T("att.bertviz_accordion"), open=False) as bertviz_box:
        gr.Markdown(T("att.bertviz_intro"))
        bertviz_kind = gr.Radio(
            [(T("att.bertviz_head"), "head"), (T("att.bertviz_model"), "model")], value="head", label=T("att.bertviz_kind")
        )
        bertviz_message = gr.Markdown()
        bertviz_html = gr.HTML()
    bertviz_open = gr.State(False)
    # Japanese models: the same head between MeCab words (pieces summed as keys, averaged as queries)
    with gr.Accordion(T("read.words_accordion"), open=False, elem_id="att-words") as words_box:
        words_message = gr.Markdown()
        # head changes redraw in the page (no server call, issue 11): this view is redrawn on request
        words_button = gr.Button(T("read.words_button"))
        words_plot = gr.Plot(label=T("read.words_plot"), elem_id="att-words-plot")
    words_open = gr.State(False)
    with gr.Accordion(T("att.check_accordion"), open=False):
        check_button = gr.Button(T("att.check_button"))
        check = gr.Markdown()
    # The stamp of the layer on screen (``ClientLayer.stamp``): a layer event that would draw the same
    # layer again (gradio fires the slider's change when an analysis sets it) is skipped.
    on_screen = gr.State(None)
    drawn = [head_plot, row_plot, mean_plot, grid_plot, share, pack, on_screen]  # what a redraw replaces
    outputs = [message, *drawn, layer, head, query, analysed]
    view_inputs = [analysed, layer, head, query, hide_special, renormalize, scale]

    @guarded(len(outputs))
    def analyze(text_value, model_name, layer_value, head_value, hide, renorm, scale_value, progress=gr.Progress()):
        language = current_language()
        announce_loading(model_name, None, progress, language)
        norms = scale_value == NORMS
        result = attention.present(text_value, model_name, layer_value, head_value, 0, hide, renorm, fit=True, norms=norms)
        return (
            status(result, language=language),
            *_drawn(result.view, language),
            *refit_layer_head(result),
            gr.Dropdown(choices=result.token_choices, value=result.query),
            result.key,
        )

    @guarded(len(drawn) + 1)
    def redraw(key, layer_value, head_value, query_value, hide, renorm, scale_value):
        if key is None:
            return tuple(gr.skip() for _ in range(len(drawn) + 1))  # a link set the slider before the first run
        view = attention.view(key, layer_value, head_value, query_value, hide, renorm, scale_value == NORMS)
        return (gr.skip(), *_drawn(view, current_language()))

    @guarded(len(drawn) + 1)
    def redraw_layer(stamp, key, layer_value, head_value, query_value, hide, renorm, scale_value):
        if key is not None and stamp == attention.stamp_of(key, layer_value, hide, renorm, scale_value == NORMS):
            return tuple(gr.skip() for _ in range(len(drawn) + 1))  # this layer is on screen already
        return redraw(key, layer_value, head_value, query_value, hide, renorm, scale_value)

    @guarded(1)
    def check_layer(key, layer_value):
        language = current_language()
        if key is None:
            return not_yet(BUTTON, 1, language)
        return html.escape(render(attention.scratch_check(key, layer_value), language), quote=False)

    analyze_inputs = [text, model, layer, head, hide_special, renormalize, scale]
    run = with_model_menu((analyze, analyze_inputs, outputs), model)
    gr.on([button.click, text.submit], *run, api_visibility="private", trigger_mode="always_last")
    # Another head or query token, [CLS]/[SEP] hidden or rows renormalised: redrawn in the page from the
    # layer's pack, no server call. change: drag, arrow keys, a typed number (and the server setting the
    # slider, which redraws what is drawn already).
    gr.on(
        [head.change, query.input, hide_special.input, renormalize.input],
        None,
        [pack, head, query, hide_special, renormalize, share],
        share,
        js=CLIENT_REDRAW_JS,
        api_visibility="private",
    )
    # The norms scale needs other numbers: the server draws it. always_last: one redraw in flight, the newest next.
    scale.input(redraw, view_inputs, [message, *drawn], api_visibility="private", trigger_mode="always_last")
    check_button.click(check_layer, [analysed, layer], check, api_visibility="private")

    @guarded(2)
    def show_bertviz(key, layer_value, kind, is_open):
        if not is_open:
            return gr.skip(), gr.skip()  # nothing is built or sent while the accordion is closed
        language = current_language()
        if key is None:
            return not_yet(BUTTON, 2, language)
        result = attention.bertviz_view(key, layer_value, kind)
        return status(result, language=language), result.rendered.html

    bertviz_box.expand(lambda: True, None, bertviz_open, api_visibility="private").then(
        show_bertviz, [analysed, layer, bertviz_kind, bertviz_open], [bertviz_message, bertviz_html], api_visibility="private"
    )
    bertviz_box.collapse(lambda: False, None, bertviz_open, api_visibility="private")

    @guarded(2)
    def show_words(key, layer_value, head_value, is_open):
        if not is_open:
            return gr.skip(), gr.skip()  # nothing is computed while the accordion is closed
        language = current_language()
        if key is None:
            return not_yet(BUTTON, 2, language)
        result = attention.word_view(key, layer_value, head_value)
        return status(result, language=language), None if result.figure is None else figure(result.figure, language)

    words_box.expand(lambda: True, None, words_open, api_visibility="private").then(
        show_words, [analysed, layer, head, words_open], [words_message, words_plot], api_visibility="private"
    )
    words_box.collapse(lambda: False, None, words_open, api_visibility="private")
    gr.on(
        [words_button.click, analysed.change],
        show_words,
        [analysed, layer, head, words_open],
        [words_message, words_plot],
        api_visibility="private",
        trigger_mode="always_last",
    )
    # The layer slider has ONE change listener (the redraw, then bertviz): with two `always_last`
    # listeners, gradio 6.31's reset button (↺) makes the slider fire `change` forever.
    layer.change(
        redraw_layer, [on_screen, *view_inputs], [message, *drawn], api_visibility="private", trigger_mode="always_last"
    ).then(
        show_bertviz, [analysed, layer, bertviz_kind, bertviz_open], [bertviz_message, bertviz_html], api_visibility="private"
    ).then(show_words, [analysed, layer, head, words_open], [words_message, words_plot], api_visibility="private")
    gr.on(
        [bertviz_kind.input, analysed.change],
        show_bertviz,
        [analysed, layer, bertviz_kind, bertviz_open],
        [bertviz_message, bertviz_html],
        api_visibility="private",
        trigger_mode="always_last",
    )
    return TabHandle(
        run,
        shown=(redraw, view_inputs, [message, *drawn]),
        text=text,
        shareable={
            "text": text,
            "model": model,
            "layer": layer,
            "head": head,
            "hide": hide_special,
            "renormalize": renormalize,
            "scale": scale,
        },
    )
