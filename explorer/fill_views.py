"""Figures of the Fill-mask tab (pure: arrays in, plotly specs out, words as messages)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import views
from .messages import Msg, Text

MAX_PANELS = 4  # masks drawn as bar panels side by side (the table lists them all)


def candidates(panels: Sequence[tuple[Text, Sequence[str], np.ndarray]], title: Text) -> views.PlotlySpec:
    """One horizontal bar panel per [MASK]: its top-k tokens, best on top, with the probability written."""
    panels = list(panels)[:MAX_PANELS]
    n = max(1, len(panels))
    gap = 0.08
    width = (1 - gap * (n - 1)) / n
    traces, layout_axes, annotations = [], {}, []
    k = max((len(tokens) for _, tokens, _ in panels), default=1)
    for index, (name, tokens, probabilities) in enumerate(panels):
        suffix = "" if index == 0 else str(index + 1)
        left = index * (width + gap)
        traces.append(
            dict(
                type="bar",
                orientation="h",
                x=[round(float(p), 4) for p in probabilities],
                y=list(range(len(tokens))),
                text=[f"{p:.1%}" for p in probabilities],
                textposition="outside",
                cliponaxis=False,
                customdata=list(tokens),
                marker=dict(color="#0072B2", line=dict(color="#222", width=1)),
                hovertemplate=Msg("fill.hover_candidate", token="%{customdata}", probability="%{x:.1%}"),
                xaxis=f"x{suffix}",
                yaxis=f"y{suffix}",
                showlegend=False,
            )
        )
        top = max(float(np.max(probabilities, initial=0.0)), 1e-3)
        layout_axes[f"xaxis{suffix}"] = dict(domain=[left, left + width], gridcolor="#ddd", **views.percent_ticks(top * 1.35))
        layout_axes[f"yaxis{suffix}"] = dict(
            anchor=f"x{suffix}",
            tickmode="array",
            tickvals=list(range(len(tokens))),
            ticktext=list(tokens),
            autorange="reversed",
            automargin=True,
            tickfont=dict(size=16),
        )
        annotations.append(
            dict(
                text=name,
                x=left + width / 2,
                y=1.0,
                xref="paper",
                yref="paper",
                xanchor="center",
                yanchor="bottom",
                showarrow=False,
                font=dict(size=17),
            )
        )
    layout = views._spec_layout(title, max(320, 34 * k + 170), annotations=annotations, **layout_axes)
    layout["margin"] = dict(l=20, r=20, t=110, b=30)
    return views.PlotlySpec(data=traces, layout=layout)


def outcome_shares(
    curves: dict[str, np.ndarray], targets: dict[str, float], names: dict[str, Text], title: Text
) -> views.PlotlySpec:
    """The running shares over the draws, each with its target as a dashed line in the same colour."""
    traces = []
    for index, (key, values) in enumerate(curves.items()):
        colour = views.LINE_COLOURS[index % len(views.LINE_COLOURS)]
        draws = len(values)
        step = max(1, draws // 400)  # a few hundred points draw the curve; 10,000 would only slow the page
        xs = list(range(1, draws + 1, step))
        traces.append(
            dict(
                type="scatter",
                mode="lines",
                x=xs,
                y=[None if np.isnan(values[i - 1]) else round(float(values[i - 1]), 4) for i in xs],
                name=names[key],
                line=dict(width=3, color=colour),
                hovertemplate=Msg("fill.hover_share", draw="%{x}", share="%{y:.1%}"),
            )
        )
        traces.append(
            dict(
                type="scatter",
                mode="lines",
                x=[1, draws],
                y=[targets[key], targets[key]],
                line=dict(width=2, dash="dash", color=colour),
                showlegend=False,
                hoverinfo="skip",
            )
        )
    layout = views._spec_layout(
        title,
        440,
        xaxis=dict(title=dict(text=Msg("fill.draws_axis")), type="log", gridcolor="#ddd", automargin=True),
        yaxis=dict(title=dict(text=Msg("fill.share_axis")), range=[0, 1], tickformat=".0%", gridcolor="#ddd", automargin=True),
        legend=dict(orientation="h", x=1.0, xanchor="right", y=1.0, yanchor="bottom", font=dict(size=14)),
    )
    layout["margin"] = dict(l=20, r=20, t=110, b=20)
    return views.PlotlySpec(data=traces, layout=layout)
