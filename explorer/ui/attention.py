"""Attention tab: per-head heatmaps of the cached analysis (sections 3.2, 3.3)."""

from __future__ import annotations

import gradio as gr

from .. import backend, bertviz_views, presenters
from ..models import DEFAULT_MODEL
from .common import TabHandle, guarded, model_dropdown, prepare_model, status

EXAMPLES = [
    ["The cat sat on the mat."],
    ["The animal didn't cross the street because it was too tired."],
    ["Hello, how are you?"],
    ["自然言語処理は人工知能の重要な分野です。"],
]


def _figures(analysis, layer, head, query, hide_special, renormalize) -> tuple:
    view = presenters.attention_view(analysis, int(layer), int(head), int(query or 0), hide_special, renormalize)
    return view.head, view.row, view.mean, view.grid


def build(demo: gr.Blocks, default_text: str) -> TabHandle:
    gr.Markdown(
        "### Self-attention, head by head\n"
        "Each row is a **query** token; the colours show how it spreads its attention "
        "(softmax(QKᵀ/√d_k), rows sum to 1) over the **key** tokens. Every layer has several "
        "heads that learn different relations (section 3.3). Change layer and head: the model "
        "does not run again. Many heads park attention on `[SEP]`: hide the special tokens to see the rest."
    )
    with gr.Row():
        text = gr.Textbox(value=default_text, label="Text", lines=2, max_lines=8, scale=4)
        with gr.Column(scale=2):
            model = model_dropdown()
            button = gr.Button("Analyze", variant="primary")
    gr.Examples(EXAMPLES, inputs=[text], label="Examples")
    message = gr.Markdown()
    with gr.Row():
        layer = gr.Slider(0, 5, value=0, step=1, label="Layer")
        head = gr.Slider(0, 11, value=0, step=1, label="Head")
        query = gr.Dropdown(choices=[], value=None, label="Query token (its attention row)")
    with gr.Row():
        hide_special = gr.Checkbox(value=False, label="Hide [CLS]/[SEP]")
        renormalize = gr.Checkbox(value=False, label="Renormalise rows over visible tokens")
    analysed = gr.State(None)  # (model name, text) of the analysis on screen: the cache key
    with gr.Row(equal_height=False):
        head_plot = gr.Plot(label="One head")
        row_plot = gr.Plot(label="Attention row of the query token")
    with gr.Row(equal_height=False):
        mean_plot = gr.Plot(label="Mean over heads")
        grid_plot = gr.Plot(label="All heads of the layer")
    with gr.Accordion("bertviz: head view and model view (interactive, drawn in the browser)", open=False) as bertviz_box:
        gr.Markdown(
            "[bertviz](https://github.com/jessevig/bertviz)'s views of the same analysis. **Head view**: the "
            "chosen layer's heads, one colour each; hover a token to see where it looks, click a colour to "
            "toggle a head. **Model view**: every layer × head as a thumbnail; click one to enlarge. "
            "The layer slider above picks the layer."
        )
        bertviz_kind = gr.Radio([("Head view", "head"), ("Model view", "model")], value="head", label="View")
        bertviz_message = gr.Markdown()
        bertviz_html = gr.HTML()
    bertviz_open = gr.State(False)
    with gr.Accordion("Check: the chapter's formula reproduces this layer", open=False):
        check_button = gr.Button("Recompute this layer with numpy (explorer/scratch.py)")
        check = gr.Markdown()
    figures = [head_plot, row_plot, mean_plot, grid_plot]
    outputs = [message, *figures, layer, head, query, analysed]
    view_inputs = [analysed, layer, head, query, hide_special, renormalize]

    @guarded(len(outputs))
    def analyze(text_value, model_name, layer_value, head_value, hide, renorm, progress=gr.Progress()):
        prepare_model(model_name, None, progress)
        outcome = presenters.analyze_or_fallback(text_value, model_name)
        analysis = outcome.analysis
        layer_value = min(int(layer_value), analysis.n_layers - 1)
        head_value = min(int(head_value), analysis.n_heads - 1)
        notes = (
            f"'{analysis.model_name}': {analysis.n_layers} layers × {analysis.n_heads} heads, {analysis.n_tokens} tokens.",
        ) + outcome.notes
        return (
            status(notes),
            *_figures(analysis, layer_value, head_value, 0, hide, renorm),
            gr.Slider(maximum=analysis.n_layers - 1, value=layer_value),
            gr.Slider(maximum=analysis.n_heads - 1, value=head_value),
            gr.Dropdown(choices=[(label, i) for i, label in enumerate(analysis.token_labels())], value=0),
            (analysis.model_name, analysis.text),
        )

    @guarded(len(figures) + 1)
    def update_view(key, layer_value, head_value, query_value, hide, renorm):
        if key is None:
            return (status(["Click Analyze first."]),) + tuple(gr.skip() for _ in figures)
        analysis = backend.analyze(key[1], key[0])  # a cache hit: no forward pass
        return (gr.skip(), *_figures(analysis, layer_value, head_value, query_value, hide, renorm))

    @guarded(1)
    def check_layer(key, layer_value):
        if key is None:
            return (status(["Click Analyze first."]),)
        analysis = backend.analyze(key[1], key[0])
        error = presenters.scratch_check(analysis, int(layer_value))
        return (
            f"Layer {int(layer_value)}: numpy `softmax(QKᵀ/√d_k)` with the model's own W_Q, W_K and biases, "
            f"applied to the layer's input hidden states, differs from the model's attention by at most "
            f"**{error:.2e}** over all {analysis.n_heads} heads and {analysis.n_tokens}² token pairs.",
        )

    analyze_inputs = [text, model, layer, head, hide_special, renormalize]
    gr.on([button.click, text.submit], analyze, analyze_inputs, outputs, api_name="attention", trigger_mode="always_last")
    for slider in (layer, head):
        slider.release(update_view, view_inputs, [message, *figures], api_visibility="private")
    for control in (query, hide_special, renormalize):
        control.input(update_view, view_inputs, [message, *figures], api_visibility="private")
    check_button.click(check_layer, [analysed, layer], [check], api_visibility="private")

    @guarded(2)
    def show_bertviz(key, layer_value, kind, is_open):
        if not is_open:
            return gr.skip(), gr.skip()  # nothing is built or sent while the accordion is closed
        if key is None:
            return status(["Click Analyze first."]), gr.skip()
        view = bertviz_views.render(backend.analyze(key[1], key[0]), kind, int(layer_value))
        return status(view.notes), view.html

    bertviz_box.expand(lambda: True, None, bertviz_open, api_visibility="private").then(
        show_bertviz, [analysed, layer, bertviz_kind, bertviz_open], [bertviz_message, bertviz_html], api_visibility="private"
    )
    bertviz_box.collapse(lambda: False, None, bertviz_open, api_visibility="private")
    gr.on(
        [bertviz_kind.input, layer.release, analysed.change],
        show_bertviz,
        [analysed, layer, bertviz_kind, bertviz_open],
        [bertviz_message, bertviz_html],
        api_visibility="private",
        trigger_mode="always_last",
    )

    def bertviz(text: str, model: str = DEFAULT_MODEL, layer: int = 0, view: str = "head") -> dict:
        """bertviz's head or model view of ``text`` as a self-contained <iframe srcdoc> (scripts inlined)."""
        try:
            outcome = presenters.analyze_or_fallback(text, model)
            rendered = bertviz_views.render(outcome.analysis, view, int(layer))
        except Exception as error:  # an API caller gets the sentence a UI user would see
            return {"error": presenters.describe_error(error)}
        return {
            "html": rendered.html,
            "notes": list(outcome.notes + rendered.notes),
            "layers": list(rendered.layers),
            "tokens": rendered.n_tokens,
            "threshold": rendered.threshold,
            "bytes": rendered.total_bytes,
        }

    gr.api(bertviz, api_name="bertviz")
    return TabHandle("attention", text, (analyze, analyze_inputs, outputs), model=model, layer=layer, head=head)
