"""Figures of the Embeddings tab (pure: arrays in, plotly specs out, words as messages).

User text (sentences, tokens, the word followed) reaches plotly's text renderer, which reads a few
HTML tags (``<b>``, ``<a href>``, ``<br>``…): every such string passes through ``plain`` first, so
"<b>bank</b>" is drawn as typed.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from . import views
from .messages import Msg, Text

LABEL_CHARACTERS = 36  # a sentence's label on the matrix's axis (full width): its number and its start
LEGEND_CHARACTERS = 26  # in a map's legend, beside a plot that may be 640 px wide
WORD_CHARACTERS = 24  # the followed word in a title
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "cross")  # a new marker shape after each round of colours


def plain(text: str) -> str:
    """``text`` as plotly draws it literally: ``&``, ``<`` and ``>`` as entities, which plotly decodes."""
    return html.escape(str(text), quote=False)


def shorten(text: str, characters: int) -> str:
    return text if len(text) <= characters else text[: characters - 1].rstrip() + "…"


def sentence_label(index: int, sentence: str, characters: int = LABEL_CHARACTERS) -> str:
    """Its number (from 1, as in the status line) and its start: "3: The bank raised its inte…", escaped."""
    return plain(f"{index + 1}: {shorten(' '.join(sentence.split()), characters)}")


def _cell_text(n: int) -> tuple[int, bool]:
    """Font size of the values written in an ``n`` x ``n`` matrix, and whether to drop the leading 0
    (".85"): 32 sentences still get every value, in cells about 20 px wide on a full-width plot."""
    for most, size in ((8, 16), (12, 14), (16, 12), (24, 10)):
        if n <= most:
            return size, n > 16
    return 9, True


def similarity_heatmap(similarity: np.ndarray, labels: Sequence[str], title: Text) -> views.PlotlySpec:
    """Sentence x sentence cosine similarity, each value written in its cell (projectors wash colours out).

    Rows are named by the sentences' starts (``labels``, already escaped), columns by their numbers,
    so no tick label runs into the next; the hover names both sentences."""
    n = len(labels)
    size, compact = _cell_text(n)
    values = np.asarray(similarity, dtype=np.float64).tolist()
    written = [[f"{round(v, 2) + 0.0:.2f}" for v in row] for row in values]  # + 0.0: no "-0.00"
    if compact:
        written = [[text.replace("0.", ".", 1) if text.lstrip("-").startswith("0.") else text for text in row] for row in written]
    trace = dict(
        type="heatmap",
        z=[[round(float(v), 4) for v in row] for row in similarity],
        x=list(range(n)),
        y=list(range(n)),
        customdata=[[[labels[i], labels[j]] for j in range(n)] for i in range(n)],
        text=written,
        texttemplate="%{text}",
        textfont=dict(size=size),
        colorscale=views.DIVERGING_SCALE,  # plotly's RdBu: -1 blue, +1 red; text colour follows the cell
        zmid=0.0,
        zmin=-1.0,
        zmax=1.0,
        hovertemplate=Msg("embed.hover_similarity", a="%{customdata[0]}", b="%{customdata[1]}", value="%{z:.3f}"),
        colorbar=dict(title=dict(text="cos"), thickness=16),
        xgap=1,
        ygap=1,
    )
    layout = views._spec_layout(
        title,
        min(980, max(420, 26 * n + 220)),
        xaxis=dict(
            tickmode="array",
            tickvals=list(range(n)),
            ticktext=[str(i + 1) for i in range(n)],
            tickfont=dict(size=15 if n <= 16 else 12),
            side="top" if n > 16 else "bottom",  # near the title, where the eye starts reading a tall matrix
            automargin=True,
            showgrid=False,
        ),
        yaxis=dict(
            tickmode="array",
            tickvals=list(range(n)),
            ticktext=list(labels),
            tickfont=dict(size=15 if n <= 16 else 12),
            autorange="reversed",
            automargin=True,
            showgrid=False,
        ),
    )
    if n > 16:
        layout["margin"] = dict(layout["margin"], t=110)  # the title above the top tick numbers
    return views.PlotlySpec(data=[trace], layout=layout)


def _padded_range(values: np.ndarray, share: float = 0.18) -> list[float]:
    """The axis range with room on both sides, so labels written beside the outer points stay inside."""
    low, high = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
    pad = (high - low) * share or 1.0
    return [round(low - pad, 4), round(high + pad, 4)]


def point_map(
    points: np.ndarray,
    labels: Sequence[str],
    groups: Sequence[int],
    group_names: Sequence[str],
    title: Text,
    axes: Sequence[Text],
    text_on_points: bool,
    point_text: Sequence[str] | None = None,
) -> views.PlotlySpec:
    """A 2-D scatter, one colour per group (a sentence), the label on hover (and ``point_text`` or the
    label on the point when few). Past seven groups the colours repeat with another marker shape.

    ``labels``, ``group_names`` and ``point_text`` are drawn as given: escape user text (``plain``)."""
    point_text = list(labels) if point_text is None else list(point_text)
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    traces = []
    groups = np.asarray(groups)
    colours = views.LINE_COLOURS
    for group, name in enumerate(group_names):
        where = np.flatnonzero(groups == group)
        if not len(where):
            continue
        traces.append(
            dict(
                type="scatter",
                mode="markers+text" if text_on_points else "markers",
                x=[round(float(points[i, 0]), 4) for i in where],
                y=[round(float(points[i, 1]), 4) for i in where],
                text=[point_text[i] for i in where],
                customdata=[labels[i] for i in where],
                textposition="top center",
                textfont=dict(size=14),
                name=name,
                marker=dict(
                    size=13 if text_on_points else 9,
                    color=colours[group % len(colours)],
                    symbol=SYMBOLS[(group // len(colours)) % len(SYMBOLS)],
                    line=dict(color="#222", width=1),
                ),
                hovertemplate="%{customdata}<extra>" + "%{fullData.name}" + "</extra>",
            )
        )
    layout = views._spec_layout(
        title,
        520,
        xaxis=dict(
            title=dict(text=axes[0]), range=_padded_range(points[:, 0]), zeroline=False, gridcolor="#ddd", automargin=True
        ),
        yaxis=dict(
            title=dict(text=axes[1]), range=_padded_range(points[:, 1]), zeroline=False, gridcolor="#ddd", automargin=True
        ),
        legend=dict(font=dict(size=13)),
        showlegend=len(group_names) > 1,
    )
    return views.PlotlySpec(data=traces, layout=layout)


def layer_curves(curves: dict[str, np.ndarray], word: str) -> views.PlotlySpec:
    """Cosine between two contextual vectors of ``word``, per layer (0 = the embedding output), one line a pair."""
    traces = []
    for index, (name, values) in enumerate(curves.items()):
        traces.append(
            dict(
                type="scatter",
                mode="lines+markers",
                x=list(range(len(values))),
                y=[round(float(v), 4) for v in values],
                name=plain(name),
                line=dict(width=3, color=views.LINE_COLOURS[index % len(views.LINE_COLOURS)]),
                marker=dict(size=9, symbol=SYMBOLS[(index // len(views.LINE_COLOURS)) % len(SYMBOLS)]),
                hovertemplate=Msg("embed.hover_layer", layer="%{x}", value="%{y:.3f}"),
            )
        )
    n_layers = max((len(values) for values in curves.values()), default=1)
    layout = views._spec_layout(
        Msg("embed.title_word", word=plain(shorten(word, WORD_CHARACTERS))),
        440,
        xaxis=dict(title=dict(text=Msg("embed.layer_axis")), tickmode="array", tickvals=list(range(n_layers)), automargin=True),
        yaxis=dict(title=dict(text="cos"), gridcolor="#ddd", automargin=True),
        legend=dict(font=dict(size=13), title=dict(text=Msg("embed.pair_legend"))),
    )
    return views.PlotlySpec(data=traces, layout=layout)
