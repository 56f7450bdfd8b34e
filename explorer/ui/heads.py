"""Heads tab: head roles, the head finder, switching heads off, head importance (3.3, 問題4)."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import gradio as gr
import pandas as pd

from ..messages import Msg, render
from ..models import OFFLINE_DEFAULT
from ..present import heads
from .common import (
    T,
    TabHandle,
    announce_loading,
    examples,
    figure,
    guarded,
    model_dropdown,
    not_yet,
    notes_status,
    status,
    table,
    with_model_menu,
)
from .i18n import current_language
from .layout import CONTROLS, RESULTS

EXAMPLES = [
    ["The animal didn't cross the street because it was too tired.", OFFLINE_DEFAULT["sentiment"]],
    ["The movie was not good, but the acting was wonderful.", OFFLINE_DEFAULT["sentiment"]],
    ["Angela Merkel met Emmanuel Macron in Berlin.", OFFLINE_DEFAULT["ner"]],
    ["Who did Angela Merkel meet in Berlin?\nAngela Merkel met Emmanuel Macron in Berlin last week.", OFFLINE_DEFAULT["qa"]],
    ["The cat sat on the mat.", OFFLINE_DEFAULT[None]],
]
BUTTON = "heads.button"
OPEN, ADD = "open", "add"


def role_table(role_grid: heads.RoleGrid, language: str) -> gr.Dataframe:
    """The coloured grid with every head's column the same width, so 12 (or 16) heads fit a projector's
    width without sideways scrolling."""
    n_heads = role_grid.roles.shape[1]
    share = 92 / n_heads
    return gr.Dataframe(value=role_styler(role_grid, language), column_widths=["8%"] + [f"{share:.2f}%"] * n_heads)


def role_styler(role_grid: heads.RoleGrid, language: str):
    """The role grid as a coloured table: one row per layer, one cell per head (its role and share)."""
    grid = role_grid.table()
    frame = pd.DataFrame(grid.cells(language), columns=grid.headers(language))

    def colours(column: pd.Series) -> list[str]:
        if column.name == frame.columns[0]:
            return ["font-weight: bold"] * len(column)
        head = list(frame.columns).index(column.name) - 1
        styles = []
        for layer in range(len(column)):
            role = str(role_grid.roles[layer, head])
            text = "#fff" if role in heads.DARK_ROLES else "#000"
            styles.append(f"background-color: {heads.ROLE_COLOURS[role]}; color: {text}")
        return styles

    return frame.style.apply(colours)


def corpus_view(model: str, language: str) -> tuple:
    """The corpus accordion: precomputed statistics of ``model`` (or how to compute them)."""
    found = heads.corpus_statistics(model)
    return (
        status(found, language=language),
        role_table(found.grid, language) if found.grid is not None else None,
        table(found.syntax, language) if found.syntax is not None else None,
    )


def hint(action: str, language: str) -> str:
    """What a click on a head does now (the radio's effect, said where the user looks)."""
    return notes_status([Msg("heads.hint_add" if action == ADD else "heads.hint_open")], language)


def in_page_link(tab: str, text: str, model: str, layer: int, head: int) -> str:
    """What the hidden ``opens`` box carries (app.py reads it like a shared link's query). The time
    makes a second click on the same head a change too."""
    return urlencode({"tab": tab, "text": text, "model": model, "layer": layer, "head": head, "at": time.monotonic_ns()})


def build() -> TabHandle:
    with gr.Row(equal_height=False, elem_classes=["tab-top"]):
        with gr.Column(**CONTROLS):
            gr.Markdown(T("heads.intro"))  # beside the first result, not above it
            with gr.Row():
                text = gr.Textbox(
                    value=EXAMPLES[0][0], label=T("ui.text"), info=T("heads.text_info"), lines=1, max_lines=8, scale=4
                )
                with gr.Column(scale=2):
                    model = model_dropdown(label_key="ui.model")
                    model.value = OFFLINE_DEFAULT[heads.TASK]
                    button = gr.Button(T(BUTTON), variant="primary")
            # The examples carry a model id into a hidden box that sets the menu: a menu as an example column
            # would show its English choice label ("… (embedded, offline)") on a Japanese page.
            example_model = gr.Textbox(visible=False, label=T("ui.model"))
            examples(EXAMPLES, [text, example_model], runs_tab=False)
        with gr.Column(**RESULTS):
            message = gr.Markdown()
            gr.Markdown(T("heads.roles_heading"))
            grid = gr.Dataframe(label=T("heads.grid"), interactive=False, max_height=900, wrap=True, elem_id="heads-grid")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            click_action = gr.Radio(
                [(T("heads.click_open"), OPEN), (T("heads.click_add"), ADD)],
                value=OPEN,
                label=T("heads.click_action"),
                elem_id="heads-click-action",
            )
            click_hint = gr.Markdown()
            gr.Markdown(T("heads.legend"))
        special = gr.Plot(label=T("heads.special_plot"), scale=3)
    gr.Markdown(T("heads.finder_heading"))
    with gr.Row():
        query = gr.Dropdown(choices=[], value=None, label=T("heads.finder_from"))
        key = gr.Dropdown(choices=[], value=None, label=T("heads.finder_to"))
    with gr.Row(equal_height=False):
        finder_plot = gr.Plot(label=T("heads.finder_plot"), scale=3)
        finder_table = gr.Dataframe(
            label=T("heads.finder_table"),
            interactive=False,
            max_height=620,
            scale=2,
            wrap=True,
            column_widths=["14%", "14%", "14%", "18%", "40%"],
            elem_id="heads-ranking",
        )
    gr.Markdown(T("heads.ablate_heading"))
    with gr.Row():
        chosen = gr.Textbox(value="3.1, 5.11", label=T("heads.ablate_heads"), info=T("heads.ablate_info"), scale=3)
        ablate_button = gr.Button(T("heads.ablate_button"), variant="primary", scale=1)
    ablate_message = gr.Markdown()
    comparison = gr.Dataframe(label=T("heads.comparison"), interactive=False)
    ablation_plot = gr.Plot(label=T("heads.ablation_plot"))
    with gr.Accordion(T("heads.importance_accordion"), open=False):
        gr.Markdown(T("heads.importance_intro"))
        importance_button = gr.Button(T("heads.importance_button"))
        importance_message = gr.Markdown()
        importance_plot = gr.Plot(label=T("heads.importance_plot"))
    with gr.Accordion(T("heads.corpus_accordion"), open=False):
        corpus_message = gr.Markdown()
        corpus_grid = gr.Dataframe(label=T("heads.corpus_grid"), interactive=False, max_height=900, wrap=True)
        corpus_table = gr.Dataframe(label=T("heads.corpus_table"), interactive=False, max_height=620)
    analysed = gr.State(None)  # the AnalysisKey on screen
    roles = gr.State(None)  # its (L, H) role ids, for the finder table
    opens = gr.Textbox(visible=False)
    ablate_outputs = [ablate_message, comparison, ablation_plot]
    corpus_outputs = [corpus_message, corpus_grid, corpus_table]
    outputs = [
        message,
        click_hint,
        grid,
        special,
        query,
        key,
        finder_plot,
        finder_table,
        analysed,
        roles,
        *ablate_outputs,
        *corpus_outputs,
    ]

    @guarded(len(outputs))
    def analyze(text_value, model_name, heads_text, action, progress=gr.Progress()):
        language = current_language()
        announce_loading(model_name, None, progress, language)
        result = heads.present(text_value, model_name)
        # the heads typed below are switched off on the new input too; their own errors stay in their own line
        switched = switch_off(text_value, model_name, heads_text)
        choices = [(label, index) for index, label in enumerate(result.token_labels)]
        return (
            status(result, language=language),
            hint(action, language),
            role_table(result.grid, language),
            figure(result.special, language),
            gr.Dropdown(choices=choices, value=result.finder.query),
            gr.Dropdown(choices=choices, value=result.finder.key),
            figure(result.finder.figure, language),
            table(result.finder.table(result.grid.roles), language),
            result.key,
            result.grid.roles,
            *switched,
            *corpus_view(result.key.model, language),
        )

    @guarded(3)
    def find(key_value, roles_value, query_value, key_token):
        language = current_language()
        if key_value is None or query_value is None or key_token is None:
            return not_yet(BUTTON, 3, language)
        found = heads.find(key_value, query_value, key_token)
        return gr.skip(), figure(found.figure, language), table(found.table(roles_value), language)

    @guarded(3)
    def grid_clicked(key_value, action, heads_text, evt: gr.SelectData):
        if key_value is None or evt.index is None or evt.index[1] == 0:
            return gr.skip(), gr.skip(), gr.skip()  # the layer column names no head
        layer, head = int(evt.index[0]), int(evt.index[1]) - 1
        if action == ADD:
            listed = [item.strip() for item in (heads_text or "").split(",") if item.strip()]
            if f"{layer}.{head}" not in listed:
                listed.append(f"{layer}.{head}")
            return gr.skip(), ", ".join(listed), gr.skip()
        return gr.skip(), gr.skip(), in_page_link("attention", key_value.text, key_value.model, layer, head)

    @guarded(2)
    def ranking_clicked(key_value, evt: gr.SelectData):
        if key_value is None or evt.index is None or not evt.row_value:
            return gr.skip(), gr.skip()
        layer, head = int(evt.row_value[1]), int(evt.row_value[2])
        return gr.skip(), in_page_link("attention", key_value.text, key_value.model, layer, head)

    @guarded(len(ablate_outputs))
    def switch_off(text_value, model_name, heads_text):
        language = current_language()
        result = heads.ablate(text_value, model_name, heads_text)
        return status(result, language=language), table(result.comparison, language), figure(result.attention, language)

    @guarded(2)
    def measure(text_value, model_name, progress=gr.Progress()):
        language = current_language()

        def report(done: int, total: int) -> None:
            progress(done / total, desc=render(Msg("heads.progress", done=done, total=total), language))

        result = heads.importance(text_value, model_name, report)
        return status(result, language=language), figure(result.figure, language)

    inputs = [text, model, chosen, click_action]

    def pick_example(name, text_value, heads_text, action, progress=gr.Progress()):
        """An example sets the model menu and runs the tab (results never stay under another text). The
        box is emptied again, so the same example picked twice runs twice; that second change does nothing."""
        if not name:
            return (gr.skip(),) * (2 + len(outputs))
        result = analyze(text_value, name, heads_text, action, progress)
        return (gr.Dropdown(value=name), "", *result)

    # A round trip first: an example sets the text and this box together, and the change of the box was
    # seen to reach the server with the text of the example before (the wrong text run with the new model).
    example_model.change(lambda: None, None, None, api_visibility="private", queue=False).then(
        pick_example, [example_model, text, chosen, click_action], [model, example_model, *outputs], api_visibility="private"
    )
    click_action.change(lambda action: hint(action, current_language()), click_action, click_hint, api_visibility="private")
    run = with_model_menu((analyze, inputs, outputs), model)
    gr.on([button.click, text.submit], *run, api_visibility="private", trigger_mode="always_last")
    gr.on(
        [query.input, key.input],
        find,
        [analysed, roles, query, key],
        [message, finder_plot, finder_table],
        api_visibility="private",
        trigger_mode="always_last",
    )
    grid.select(grid_clicked, [analysed, click_action, chosen], [message, chosen, opens], api_visibility="private")
    finder_table.select(ranking_clicked, [analysed], [message, opens], api_visibility="private")
    gr.on([ablate_button.click, chosen.submit], switch_off, [text, model, chosen], ablate_outputs, api_visibility="private")
    # The sweep runs n_layers x n_heads copies of the input: one at a time for the whole server, so a
    # class pressing it together queues here instead of starving everyone else's requests.
    importance_button.click(
        measure,
        [text, model],
        [importance_message, importance_plot],
        api_visibility="private",
        concurrency_limit=1,
        concurrency_id="expensive",
    )
    return TabHandle(run, text=text, shareable={"text": text, "model": model}, opens=opens, opens_tabs=("attention",))
