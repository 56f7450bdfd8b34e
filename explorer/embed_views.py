"""Figures of the Embeddings tab (pure: arrays in, plotly specs out, words as messages)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import views
from .messages import Msg, Text

LABEL_CHARACTERS = 26  # a sentence's label on an axis: its number and its start


def sentence_label(index: int, sentence: str) -> str:
    short = sentence if len(sentence) <= LABEL_CHARACTERS else sentence[: LABEL_CHARACTERS - 1].rstrip() + "…"
    return f"{index + 1}: {short}"


def similarity_heatmap(similarity: np.ndarray, labels: Sequence[str], title: Text) -> views.PlotlySpec:
    """Sentence x sentence cosine similarity, each value written in its cell (projectors wash colours out)."""
    n = len(labels)
    trace = dict(
        type="heatmap",
        z=[[round(float(v), 4) for v in row] for row in similarity],
        x=list(range(n)),
        y=list(range(n)),
        customdata=[[[labels[i], labels[j]] for j in range(n)] for i in range(n)],
        text=[[f"{v:.2f}" for v in row] for row in similarity],
        texttemplate="%{text}" if n <= 16 else None,
        textfont=dict(size=14),
        colorscale=views.DIVERGING_SCALE,  # plotly's RdBu: -1 blue, +1 red
        zmid=0.0,
        zmin=-1.0,
        zmax=1.0,
        hovertemplate=Msg("embed.hover_similarity", a="%{customdata[0]}", b="%{customdata[1]}", value="%{z:.3f}"),
        colorbar=dict(title=dict(text="cos"), thickness=16),
        xgap=1,
        ygap=1,
    )
    numbers = [str(i + 1) for i in range(n)]
    layout = views._spec_layout(
        title,
        min(900, max(420, 36 * n + 200)),
        xaxis=dict(tickmode="array", tickvals=list(range(n)), ticktext=numbers, automargin=True, showgrid=False),
        yaxis=dict(
            tickmode="array",
            tickvals=list(range(n)),
            ticktext=list(labels),
            autorange="reversed",
            automargin=True,
            showgrid=False,
        ),
    )
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
    label on the point when few)."""
    point_text = list(labels) if point_text is None else list(point_text)
    traces = []
    groups = np.asarray(groups)
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
                    color=views.LINE_COLOURS[group % len(views.LINE_COLOURS)],
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


def layer_curves(curves: dict[str, np.ndarray], title: Text) -> views.PlotlySpec:
    """Cosine between two contextual vectors of one word, per layer (0 = the embedding output)."""
    traces = []
    for index, (name, values) in enumerate(curves.items()):
        traces.append(
            dict(
                type="scatter",
                mode="lines+markers",
                x=list(range(len(values))),
                y=[round(float(v), 4) for v in values],
                name=name,
                line=dict(width=3, color=views.LINE_COLOURS[index % len(views.LINE_COLOURS)]),
                marker=dict(size=8),
                hovertemplate=Msg("embed.hover_layer", layer="%{x}", value="%{y:.3f}"),
            )
        )
    n_layers = max((len(values) for values in curves.values()), default=1)
    layout = views._spec_layout(
        title,
        440,
        xaxis=dict(title=dict(text=Msg("embed.layer_axis")), tickmode="array", tickvals=list(range(n_layers)), automargin=True),
        yaxis=dict(title=dict(text="cos"), gridcolor="#ddd", automargin=True),
        legend=dict(font=dict(size=13)),
    )
    return views.PlotlySpec(data=traces, layout=layout)
