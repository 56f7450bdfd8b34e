"""QA tab: the answer span in the context, its score, alternatives, and what it attended to (3.7)."""

from __future__ import annotations

import gradio as gr

from .. import backend, presenters
from .common import TabHandle, guarded, model_dropdown, prepare_model, status

OFFLINE_MODEL = "minilm-qa"
CHAPTER_CONTEXT = (
    "The Transformer is a deep learning model introduced in 2017, used primarily in the field of natural language "
    "processing (NLP). Like recurrent neural networks (RNNs), Transformers are designed to handle sequential data, "
    "such as natural language, for tasks such as translation and text summarization. However, unlike RNNs, "
    "Transformers do not require that the sequential data be processed in order."
)
CHAPTER_QUESTION = "When was the Transformer introduced?"
EXAMPLES = [
    [CHAPTER_QUESTION, CHAPTER_CONTEXT],
    ["What kind of data are Transformers designed to handle?", CHAPTER_CONTEXT],
    [
        "Who created Python?",
        "Python is a programming language created by Guido van Rossum. The first version was released in 1991.",
    ],
]
ALTERNATIVE_COLUMNS = ["rank", "answer", "score", "start", "end"]
LOW_CONFIDENCE = 0.2  # the offline model never learned "no answer": a low best score is the signal


def _analyze(question: str, context: str, model_name: str):
    return presenters.with_fallback(lambda name: backend.analyze_qa(question, context, name), model_name, OFFLINE_MODEL)


def build(demo: gr.Blocks) -> TabHandle:
    gr.Markdown(
        "### Extractive question answering\n"
        "The model reads the question and the context together and scores every token as the "
        "**start** and the **end** of the answer (section 3.7); the best span with start ≤ end wins. "
        "Long contexts are read in overlapping windows, none is cut silently."
    )
    with gr.Row():
        with gr.Column(scale=4):
            question = gr.Textbox(value=CHAPTER_QUESTION, label="Question", lines=1)
            context = gr.Textbox(value=CHAPTER_CONTEXT, label="Context", lines=5, max_lines=14)
        with gr.Column(scale=2):
            model = model_dropdown(task="qa", default=OFFLINE_MODEL)
            button = gr.Button("Answer", variant="primary")
    gr.Examples(EXAMPLES, inputs=[question, context], label="Examples")
    message = gr.Markdown()
    highlighted = gr.HighlightedText(label="Answer in the context", show_legend=False, color_map={"answer": "#fdae6b"})
    result = gr.JSON(label="Answer (API)", visible=False)
    with gr.Row(equal_height=False):
        alternatives = gr.Dataframe(headers=ALTERNATIVE_COLUMNS, label="Top answers", max_height=300)
        with gr.Column():
            layer = gr.Slider(0, 5, value=5, step=1, label="Layer")
            head = gr.Slider(-1, 11, value=-1, step=1, label="Head (-1 = mean of all heads)")
    with gr.Row(equal_height=False):
        probabilities = gr.Plot(label="Start / end probabilities")
        attention = gr.Plot(label="Attention from the answer to the question")
    analysed = gr.State(None)
    outputs = [message, highlighted, result, alternatives, probabilities, attention, layer, head, analysed]

    def _view(analysis, layer_value, head_value):
        head_index = None if int(head_value) < 0 else int(head_value)
        return presenters.qa_view(analysis, int(layer_value), head_index)

    @guarded(len(outputs))
    def answer(question_value, context_value, model_name, layer_value, head_value, progress=gr.Progress()):
        prepare_model(model_name, "qa", progress)
        analysis, fallback_notes = _analyze(question_value, context_value, model_name)
        window = analysis.windows[0]
        layer_value = min(int(layer_value), window.n_layers - 1)
        head_value = min(int(head_value), window.n_heads - 1)
        view = _view(analysis, layer_value, head_value)
        best = view.answers[0] if view.answers else None
        notes = fallback_notes + analysis.notes
        if best is None:
            summary = "No answer span found."
        else:
            summary = f"'{analysis.model_name}': “{best.text}” (score {best.score:.3f}, characters {best.start}–{best.end})."
            if best.score < LOW_CONFIDENCE:
                notes += (f"Low confidence ({best.score:.2f}): the context may not contain the answer to this question.",)
            if view.no_answer > best.score:
                notes += (
                    f"The model's no-answer score ({view.no_answer:.3f}) beats its best span: "
                    "the context may not answer this question.",
                )
        return (
            status((summary,) + notes),
            presenters.answer_highlights(analysis.context, view.answers),
            {
                "answer": best.text if best else "",
                "start": best.start if best else None,
                "end": best.end if best else None,
                "score": round(best.score, 4) if best else 0.0,
                "no_answer_score": round(view.no_answer, 4),
                "alternatives": [
                    {"answer": a.text, "start": a.start, "end": a.end, "score": round(a.score, 4)} for a in view.answers
                ],
                "model": analysis.model_name,
            },
            [[rank + 1, a.text, round(a.score, 4), a.start, a.end] for rank, a in enumerate(view.answers)],
            view.probabilities,
            view.attention,
            gr.Slider(maximum=window.n_layers - 1, value=layer_value),
            gr.Slider(maximum=window.n_heads - 1, value=head_value),
            (analysis.model_name, analysis.question, analysis.context),
        )

    @guarded(2)
    def update(key, layer_value, head_value):
        if key is None:
            return status(["Click Answer first."]), gr.skip()
        return gr.skip(), _view(backend.analyze_qa(key[1], key[2], key[0]), layer_value, head_value).attention

    inputs = [question, context, model, layer, head]
    gr.on([button.click, question.submit], answer, inputs, outputs, api_name="qa", trigger_mode="always_last")
    for slider in (layer, head):
        slider.release(update, [analysed, layer, head], [message, attention], api_visibility="private")
    return TabHandle("qa", question, (answer, inputs, outputs))
