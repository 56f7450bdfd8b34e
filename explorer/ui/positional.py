"""Positional-encoding tab: the chapter's sinusoids beside a model's learned embeddings (3.4)."""

from __future__ import annotations

import gradio as gr

from ..present import positional
from .common import BoundedSlider, T, TabHandle, figure, guarded, model_dropdown, status, with_model_menu
from .i18n import current_language
from .layout import CONTROLS, RESULTS


def build() -> TabHandle:
    with gr.Row(equal_height=False, elem_classes=["tab-top"]):
        with gr.Column(**CONTROLS):
            gr.Markdown(T("pos.intro"))  # beside the first result, not above it
            with gr.Column():  # stacked: three side by side left each slider a few pixels wide
                d_model = BoundedSlider(*positional.D_MODEL_RANGE, value=128, step=2, label=T("pos.d_model"))
                max_len = BoundedSlider(*positional.LENGTH_RANGE, value=100, step=1, label=T("pos.max_len"))
                dims = gr.Textbox(value=positional.DEFAULT_DIMS, label=T("pos.dims"))
            with gr.Column():
                model = model_dropdown(label_key="pos.model")
                button = gr.Button(T("pos.button"), variant="primary")
        with gr.Column(**RESULTS):
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
    run = with_model_menu((plot, inputs, outputs), model)
    gr.on(triggers, *run, api_visibility="private", trigger_mode="always_last")
    return TabHandle(run, shareable={"model": model, "d_model": d_model, "max_len": max_len, "dims": dims})
