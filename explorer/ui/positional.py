"""Positional-encoding tab: the chapter's sinusoids beside a model's learned embeddings (3.4)."""

from __future__ import annotations

import gradio as gr

from .. import presenters
from .common import TabHandle, guarded, model_dropdown, status


def build(demo: gr.Blocks) -> TabHandle:
    gr.Markdown(
        "### Where is each token? Positional encoding\n"
        "Self-attention alone ignores word order, so position information is added to every "
        "token. The original Transformer uses fixed waves, "
        "PE(pos, 2i) = sin(pos / 10000^(2i/d_model)) and PE(pos, 2i+1) = cos(…) (section 3.4); "
        "BERT instead **learns** one vector per position. Compare them: low dimensions change fast, "
        "high ones slowly, and nearby positions look alike."
    )
    with gr.Row():
        d_model = gr.Slider(2, 1024, value=128, step=2, label="d_model (sinusoidal)")
        max_len = gr.Slider(2, 512, value=100, step=1, label="Positions to show")
        dims = gr.Textbox(value="0, 1, 4, 5, 20, 21", label="Dimensions to plot (comma-separated)")
    with gr.Row():
        model = model_dropdown("Model for the learned embeddings")
        button = gr.Button("Plot", variant="primary")
    message = gr.Markdown()
    with gr.Row(equal_height=False):
        with gr.Column():
            gr.Markdown("#### Sinusoidal (the chapter's formula)")
            sinusoid = gr.Plot(label="PE matrix")
            sinusoid_curves = gr.Plot(label="Chosen dimensions")
            sinusoid_similarity = gr.Plot(label="Similarity between positions")
        with gr.Column():
            gr.Markdown("#### Learned (the model's position embeddings)")
            learned = gr.Plot(label="Embedding matrix")
            learned_curves = gr.Plot(label="Chosen dimensions")
            learned_similarity = gr.Plot(label="Similarity between positions")
    outputs = [message, sinusoid, sinusoid_curves, sinusoid_similarity, learned, learned_curves, learned_similarity]

    @guarded(len(outputs))
    def plot(d_model_value, max_len_value, dims_value, model_name):
        view = presenters.positional_view(d_model_value, max_len_value, dims_value, model_name)
        return (
            status(view.notes),
            view.sinusoid,
            view.sinusoid_curves,
            view.sinusoid_similarity,
            view.learned,
            view.learned_curves,
            view.learned_similarity,
        )

    inputs = [d_model, max_len, dims, model]
    gr.on(
        [button.click, d_model.release, max_len.release, dims.submit],
        plot,
        inputs,
        outputs,
        api_name="positional_encoding",
        trigger_mode="always_last",
    )
    return TabHandle("positional", None, (plot, inputs, outputs))
