"""Positional-encoding tab: the chapter's sinusoids beside a model's learned embeddings (3.4)."""

from __future__ import annotations

import gradio as gr

from ..present import positional
from .common import BoundedSlider, T, TabHandle, figure, guarded, model_dropdown, status
from .i18n import current_language


def build() -> TabHandle:
    gr.Markdown(T("pos.intro"))
    with gr.Row():
        d_model = BoundedSlider(*positional.D_MODEL_RANGE, value=128, step=2, label=T("pos.d_model"))
        max_len = BoundedSlider(*positional.LENGTH_RANGE, value=100, step=1, label=T("pos.max_len"))
        dims = gr.Textbox(value="0, 1, 4, 5, 20, 21", label=T("pos.dims"))
    with gr.Row():
        model = model_dropdown(label_key="pos.model")
        button = gr.Button(T("pos.button"), variant="primary")
    message = gr.Markdown()
    with gr.Row(equal_height=False):
        with gr.Column():
            gr.Markdown(T("pos.sinusoid_heading"))
            sinusoid = gr.Plot(label=T("pos.matrix_label"))
            sinusoid_curves = gr.Plot(label=T("pos.curves_label"))
            sinusoid_similarity = gr.Plot(label=T("pos.similarity_label"))
        with gr.Column():
            gr.Markdown(T("pos.learned_heading"))
            learned = gr.Plot(label=T("pos.embedding_label"))
            learned_curves = gr.Plot(label=T("pos.curves_label"))
            learned_similarity = gr.Plot(label=T("pos.similarity_label"))
    outputs = [message, sinusoid, sinusoid_curves, sinusoid_similarity, learned, learned_curves, learned_similarity]

    @guarded(len(outputs))
    def plot(d_model_value, max_len_value, dims_value, model_name):
        language = current_language()
        result = positional.present(d_model_value, max_len_value, dims_value, model_name)
        figures = (result.sinusoid, result.sinusoid_curves, result.sinusoid_similarity)
        figures += (result.learned, result.learned_curves, result.learned_similarity)
        return (status(result, language=language), *(figure(spec, language) for spec in figures))

    inputs = [d_model, max_len, dims, model]
    triggers = [button.click, d_model.change, max_len.change, dims.submit, model.input]
    gr.on(triggers, plot, inputs, outputs, api_visibility="private", trigger_mode="always_last")
    return TabHandle((plot, inputs, outputs), shareable={"model": model, "d_model": d_model, "max_len": max_len, "dims": dims})
