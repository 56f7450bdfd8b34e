"""NER tab: entities over the text, tags per token, the tagger's attention (3.7)."""

from __future__ import annotations

import gradio as gr

from .. import backend, presenters, views
from ..tasks.ner import STRATEGIES
from .common import TabHandle, guarded, model_dropdown, prepare_model, status

OFFLINE_MODEL = "minilm-ner"
CHAPTER_EXAMPLE = "Apple Inc. is looking at buying U.K. startup for $1 billion. Tim Cook is the CEO."
EXAMPLES = [
    [CHAPTER_EXAMPLE],
    ["Angela Merkel met Emmanuel Macron in Berlin to discuss the European Union budget."],
    ["Marie Curie moved from Warsaw to Paris and won the Nobel Prize twice."],
]
TAG_COLUMNS = ["#", "token", "tag", "probability"]
ENTITY_COLUMNS = ["entity", "type", "score", "start", "end"]


def _token_attention(analysis, layer: int, head: int, token: int):
    labels = analysis.token_labels()
    token = int(token) if token is not None and 0 <= int(token) < analysis.n_tokens else 0
    return views.attention_row(
        analysis.attention(int(layer), int(head))[token],
        labels,
        labels[token],
        title=f"Where “{labels[token]}” looks (layer {int(layer)}, head {int(head)})",
    )


def build(demo: gr.Blocks) -> TabHandle:
    gr.Markdown(
        "### Named-entity recognition: a tag for every token\n"
        "A token-classification head tags each WordPiece token `B-`/`I-` + PER, ORG, LOC or MISC "
        "(CoNLL-03, section 3.7); tags are then grouped back into entities. Compare the grouping "
        "strategies on words split into several pieces."
    )
    with gr.Row():
        text = gr.Textbox(value=CHAPTER_EXAMPLE, label="Text", lines=2, max_lines=8, scale=4)
        with gr.Column(scale=2):
            model = model_dropdown(task="ner", default=OFFLINE_MODEL)
            strategy = gr.Radio(list(STRATEGIES), value="simple", label="Grouping (aggregation strategy)")
            button = gr.Button("Find entities", variant="primary")
    gr.Examples(EXAMPLES, inputs=[text], label="Examples")
    message = gr.Markdown()
    entities = gr.HighlightedText(label="Entities", show_legend=True, elem_classes=["token-view"])
    entity_table = gr.Dataframe(headers=ENTITY_COLUMNS, label="Entities with scores", max_height=260)
    result = gr.JSON(label="Entities (API)", visible=False)
    with gr.Row(equal_height=False):
        tags = gr.Dataframe(headers=TAG_COLUMNS, label="Tag per token", max_height=480)
        with gr.Column():
            with gr.Row():
                layer = gr.Slider(0, 5, value=5, step=1, label="Layer")
                head = gr.Slider(0, 11, value=0, step=1, label="Head")
            token = gr.Dropdown(choices=[], value=None, label="Token")
            attention_plot = gr.Plot(label="The tagger's attention for the token")
    analysed = gr.State(None)
    outputs = [message, entities, entity_table, result, tags, token, layer, head, attention_plot, analysed]

    @guarded(len(outputs))
    def find(text_value, model_name, strategy_value, layer_value, head_value, progress=gr.Progress()):
        prepare_model(model_name, "ner", progress)
        outcome = presenters.analyze_or_fallback(text_value, model_name, fallback=OFFLINE_MODEL)
        analysis = outcome.analysis
        found = presenters.entities(analysis, strategy_value)
        layer_value, head_value = min(int(layer_value), analysis.n_layers - 1), min(int(head_value), analysis.n_heads - 1)
        first = next((i for i, span in enumerate(analysis.offsets) if span and any(e.start <= span[0] < e.end for e in found)), 1)
        summary = f"'{analysis.model_name}': {len(found)} entit{'y' if len(found) == 1 else 'ies'} ({strategy_value} grouping)."
        return (
            status((summary,) + outcome.notes),
            presenters.entity_highlights(analysis, found),
            [[e.text, e.type, round(e.score, 3), e.start, e.end] for e in found],
            [{"entity": e.type, "text": e.text, "start": e.start, "end": e.end, "score": round(e.score, 4)} for e in found],
            presenters.tag_rows(analysis),
            gr.Dropdown(choices=[(label, i) for i, label in enumerate(analysis.token_labels())], value=first),
            gr.Slider(maximum=analysis.n_layers - 1, value=layer_value),
            gr.Slider(maximum=analysis.n_heads - 1, value=head_value),
            _token_attention(analysis, layer_value, head_value, first),
            (analysis.model_name, analysis.text),
        )

    @guarded(2)
    def update(key, layer_value, head_value, token_value):
        if key is None:
            return status(["Click Find entities first."]), gr.skip()
        return gr.skip(), _token_attention(backend.analyze(key[1], key[0]), layer_value, head_value, token_value)

    inputs = [text, model, strategy, layer, head]
    gr.on([button.click, text.submit, strategy.input], find, inputs, outputs, api_name="ner", trigger_mode="always_last")
    for slider in (layer, head):
        slider.release(update, [analysed, layer, head, token], [message, attention_plot], api_visibility="private")
    token.input(update, [analysed, layer, head, token], [message, attention_plot], api_visibility="private")
    return TabHandle("ner", text, (find, inputs, outputs))
