"""Sentiment tab: the classifier's prediction, its attention and which words drove it (3.7)."""

from __future__ import annotations

import gradio as gr

from .. import backend, presenters, views
from .common import TabHandle, guarded, model_dropdown, prepare_model, status

OFFLINE_MODEL = "minilm-sentiment"
EXAMPLES = [
    ["This movie was absolutely wonderful."],
    ["A dull, lifeless waste of two hours."],
    ["The acting was great, but the plot made no sense at all."],
    ["I expected to hate it, and I did not."],
]


def _attention(analysis, layer: int, head: int) -> tuple:
    labels = analysis.token_labels()
    weights = analysis.attention(int(layer), int(head))
    return (
        views.attention_heatmap(weights, labels, title=f"Classifier attention: layer {int(layer)}, head {int(head)}"),
        views.attention_row(weights[0], labels, "[CLS]", title=f"Where [CLS] looks (layer {int(layer)}, head {int(head)})"),
    )


def build(demo: gr.Blocks) -> TabHandle:
    gr.Markdown(
        "### Sentiment: a fine-tuned BERT classifier\n"
        "A classification head reads the final **[CLS]** vector (section 3.7). Below: the predicted "
        "label, where [CLS] attends, and an **attention rollout** (attention multiplied through all "
        "layers, with the residual path) coloured over your text: a rough map of which words reached [CLS]."
    )
    with gr.Row():
        text = gr.Textbox(value=EXAMPLES[0][0], label="Text", lines=2, max_lines=8, scale=4)
        with gr.Column(scale=2):
            model = model_dropdown(task="sentiment", default=OFFLINE_MODEL)
            button = gr.Button("Classify", variant="primary")
    gr.Examples(EXAMPLES, inputs=[text], label="Examples")
    message = gr.Markdown()
    with gr.Row(equal_height=False):
        label = gr.Label(label="Prediction", num_top_classes=3)
        rollout = gr.HighlightedText(
            label="Attention rollout from [CLS] (darker = more)", show_legend=False, elem_classes=["token-view"]
        )
    result = gr.JSON(label="Result (API)", visible=False)
    with gr.Row():
        layer = gr.Slider(0, 5, value=5, step=1, label="Layer")
        head = gr.Slider(0, 11, value=0, step=1, label="Head")
    with gr.Row(equal_height=False):
        heatmap = gr.Plot(label="Attention of the classifier")
        cls_row = gr.Plot(label="[CLS] attention row")
    analysed = gr.State(None)
    outputs = [message, label, rollout, result, heatmap, cls_row, layer, head, analysed]

    @guarded(len(outputs))
    def classify(text_value, model_name, layer_value, head_value, progress=gr.Progress()):
        prepare_model(model_name, "sentiment", progress)
        outcome = presenters.analyze_or_fallback(text_value, model_name, fallback=OFFLINE_MODEL)
        analysis = outcome.analysis
        probabilities = presenters.class_probabilities(analysis)
        best = max(probabilities, key=probabilities.get)
        layer_value, head_value = min(int(layer_value), analysis.n_layers - 1), min(int(head_value), analysis.n_heads - 1)
        return (
            status((f"'{analysis.model_name}': {best} ({probabilities[best]:.1%}).",) + outcome.notes),
            probabilities,
            presenters.attribution_highlights(analysis),
            {"label": best, "probabilities": probabilities, "model": analysis.model_name, "truncated": analysis.truncated},
            *_attention(analysis, layer_value, head_value),
            gr.Slider(maximum=analysis.n_layers - 1, value=layer_value),
            gr.Slider(maximum=analysis.n_heads - 1, value=head_value),
            (analysis.model_name, analysis.text),
        )

    @guarded(3)
    def update(key, layer_value, head_value):
        if key is None:
            return status(["Click Classify first."]), gr.skip(), gr.skip()
        return (gr.skip(), *_attention(backend.analyze(key[1], key[0]), layer_value, head_value))

    gr.on(
        [button.click, text.submit],
        classify,
        [text, model, layer, head],
        outputs,
        api_name="sentiment",
        trigger_mode="always_last",
    )
    for slider in (layer, head):
        slider.release(update, [analysed, layer, head], [message, heatmap, cls_row], api_visibility="private")
    return TabHandle("sentiment", text, (classify, [text, model, layer, head], outputs))
