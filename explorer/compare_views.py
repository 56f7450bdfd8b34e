"""Figures of the Compare tab (pure: arrays in, plotly specs out, words as messages)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import views
from .messages import Msg, Text


def difference_heatmap(difference: np.ndarray, labels: Sequence[str], title: Text) -> views.PlotlySpec:
    """B − A over the aligned units: red where B attends more, blue where it attends less (zero white)."""
    labels = views.unique_labels(list(labels))
    limit = float(max(np.abs(difference).max(initial=0.0), 1e-3))
    trace = dict(
        type="heatmap",
        z=views.typed_array(np.asarray(difference, dtype=np.float64)),
        x=labels,
        y=labels,
        colorscale=[[0.0, "#2166ac"], [0.5, "#ffffff"], [1.0, "#b2182b"]],
        zmid=0.0,
        zmin=-limit,
        zmax=limit,
        hovertemplate=Msg("compare.hover_difference", query="%{y}", key="%{x}", value="%{z:+.3f}"),
        colorbar=dict(title=dict(text=Msg("compare.difference_axis")), thickness=18),
    )
    plan = views.heatmap_ticks(labels, labels)
    layout = views._spec_layout(
        title,
        plan["height"],
        xaxis=views._category_axis(labels, Msg("fig.key_axis"), plan=plan["x"]),
        yaxis=views._category_axis(labels, Msg("fig.query_axis"), plan=plan["y"], rotated=False, autorange="reversed"),
    )
    return views.PlotlySpec(data=[trace], layout=layout)


def divergence_grid(divergence: np.ndarray, title: Text, selected: tuple[int, int] | None = None) -> views.PlotlySpec:
    """Layer x head grid of Jensen–Shannon divergences, each cell written in it; the shown head outlined."""
    n_layers, n_heads = divergence.shape
    limit = float(max(divergence.max(initial=0.0), 1e-3))
    trace = dict(
        type="heatmap",
        z=[[round(float(v), 4) for v in row] for row in divergence],
        x=list(range(n_heads)),
        y=list(range(n_layers)),
        text=[[f"{v:.2f}" if limit >= 0.1 else f"{v:.3f}" for v in row] for row in divergence],
        texttemplate="%{text}",
        textfont=dict(size=13),
        colorscale=views.ATTENTION_SCALE,
        zmin=0.0,
        zmax=limit,
        hovertemplate=Msg("compare.hover_divergence", layer="%{y}", head="%{x}", value="%{z:.4f}"),
        colorbar=dict(title=dict(text="JS"), thickness=16),
        xgap=2,
        ygap=2,
    )
    shapes = []
    if selected is not None:
        layer, head = selected
        shapes.append(
            dict(type="rect", x0=head - 0.5, x1=head + 0.5, y0=layer - 0.5, y1=layer + 0.5, line=dict(color="#E69F00", width=4))
        )
    layout = views._spec_layout(
        title,
        max(320, 46 * n_layers + 170),
        xaxis=dict(title=dict(text=Msg("ui.head")), tickmode="array", tickvals=list(range(n_heads)), automargin=True),
        yaxis=dict(
            title=dict(text=Msg("ui.layer")),
            tickmode="array",
            tickvals=list(range(n_layers)),
            autorange="reversed",
            automargin=True,
        ),
        shapes=shapes,
    )
    layout["margin"] = dict(l=20, r=20, t=110, b=20)
    return views.PlotlySpec(data=[trace], layout=layout)
