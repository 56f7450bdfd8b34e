"""Pure figures of the "Inside a head" tab: matrices side by side, the encoder stack, the T² plot.

Same rules as ``views``: plotly JSON written directly (typed arrays), words as ``Msg`` keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .messages import Msg, Text
from .views import ATTENTION_SCALE, DIVERGING_SCALE, PlotlySpec, _spec_layout, tick_plan, typed_array, unique_labels

MAX_COLUMNS = 384  # dimensions drawn per matrix (d_ff = 1536 would be ~1 MB at 128 tokens)
MAX_ROW_LABELS = 40  # past this, label every n-th token


@dataclass(frozen=True)
class Panel:
    """One matrix of a figure: rows are tokens (queries), columns keys or dimensions."""

    matrix: np.ndarray
    title: Text
    columns: Sequence[str] | None = None  # key-token labels; None: numbered dimensions
    kind: str = "values"  # "weights" (0..1, the attention scale) or "values" (diverging around 0)


def _clip(matrix: np.ndarray) -> float:
    """Symmetric colour limit: the 99th percentile of |value| (a few outliers would wash out the rest)."""
    return float(np.percentile(np.abs(matrix), 99)) or 1.0 if matrix.size else 1.0


def panels_figure(
    panels: Sequence[Panel], rows: Sequence[str], title: Text, query: int | None = None, height: int | None = None
) -> PlotlySpec:
    """Heatmaps side by side sharing the token rows; the query token's row is outlined in each."""
    rows = unique_labels(rows)
    n_rows = len(rows)
    gap = 0.06 if len(panels) > 1 else 0.0
    width = (1.0 - gap * (len(panels) - 1)) / len(panels)
    height = height or min(1100, max(440, 20 * n_rows + 300))
    # rows share what the title block (160 px) and the rotated key labels below (~120 px) leave
    step, size = tick_plan(n_rows, height - 160 - 120, rotated=False)
    step = max(step, int(np.ceil(n_rows / MAX_ROW_LABELS)))
    layout = _spec_layout(title, height, annotations=[], shapes=[])
    layout["margin"] = dict(l=20, r=20, t=160, b=20)  # the title, its subtitle, panel titles of up to three lines
    traces = []
    limit = max((_clip(np.asarray(p.matrix)[:, :MAX_COLUMNS]) for p in panels if p.kind != "weights"), default=1.0)
    for index, panel in enumerate(panels):
        axis = "" if index == 0 else str(index + 1)
        left = index * (width + gap)
        matrix = np.asarray(panel.matrix, dtype=np.float64)
        shown = matrix[:, :MAX_COLUMNS]
        panel_title = panel.title
        if matrix.shape[1] > MAX_COLUMNS:
            panel_title = Msg("stepfig.first_columns", title=panel.title, shown=MAX_COLUMNS, total=matrix.shape[1])
        columns = unique_labels(panel.columns) if panel.columns is not None else list(range(shown.shape[1]))
        trace = dict(
            type="heatmap",
            z=typed_array(shown),
            x=columns,
            y=list(range(n_rows)),
            xaxis=f"x{axis}",
            yaxis=f"y{axis}",
            customdata=[[label] * shown.shape[1] for label in rows] if n_rows * shown.shape[1] <= 20_000 else None,
            hovertemplate=Msg("hover.step", row="%{y}", column="%{x}", value="%{z:.4f}"),
            colorbar=dict(thickness=14, len=0.9),
            showscale=index == len(panels) - 1,  # one colour bar: the panels share one scale
        )
        if trace["customdata"] is None:
            del trace["customdata"]
        if panel.kind == "weights":
            trace.update(colorscale=ATTENTION_SCALE, zmin=0.0, zmax=1.0)
        else:
            trace.update(colorscale=DIVERGING_SCALE, zmid=0.0, zmin=-limit, zmax=limit)
        traces.append(trace)
        token_axis = panel.columns is not None
        layout[f"xaxis{axis}"] = dict(
            domain=[left, left + width - (0.06 if index == len(panels) - 1 else 0.0)],
            anchor=f"y{axis}",
            showgrid=False,
            zeroline=False,
            automargin=True,
            tickangle=-60 if token_axis else 0,
            type="category" if token_axis else "linear",
            title=dict(text=Msg("fig.key_axis") if token_axis else Msg("fig.dimension"), font=dict(size=14)),
        )
        layout[f"yaxis{axis}"] = dict(
            anchor=f"x{axis}",
            autorange="reversed",
            showgrid=False,
            zeroline=False,
            automargin=True,
            tickmode="array",
            tickvals=list(range(0, n_rows, step)),
            ticktext=rows[::step] if index == 0 else [""] * len(range(0, n_rows, step)),
            tickfont=dict(size=size),
        )
        layout["annotations"].append(
            dict(
                text=panel_title,
                x=left + width / 2,
                y=1.0,
                xref="paper",
                yref="paper",
                yanchor="bottom",
                showarrow=False,
                font=dict(size=14),
            )
        )
        if query is not None and 0 <= query < n_rows:
            layout["shapes"].append(
                dict(
                    type="rect",
                    xref=f"x{axis} domain",
                    yref=f"y{axis}",
                    x0=0,
                    x1=1,
                    y0=query - 0.5,
                    y1=query + 0.5,
                    line=dict(color="#d94801", width=3),
                )
            )
    return PlotlySpec(data=traces, layout=layout)


# The encoder block as the chapter draws it (3.1, 3.3, 3.5): (part, message key), bottom to top.
STACK_PARTS = (
    ("embeddings", "stepfig.part_embeddings"),
    ("qkv", "stepfig.part_qkv"),
    ("scores", "stepfig.part_scores"),
    ("softmax", "stepfig.part_softmax"),
    ("concat", "stepfig.part_concat"),
    ("norm_1", "stepfig.part_norm_1"),
    ("ffn", "stepfig.part_ffn"),
    ("norm_2", "stepfig.part_norm_2"),
    ("output", "stepfig.part_output"),
)


def encoder_stack(sizes: dict, highlight: str) -> PlotlySpec:
    """The encoder as boxes bottom-up, with the model's real sizes; ``highlight`` is the current part.

    ``sizes``: layers, heads, d_model, d_k, d_ff, vocab, tokens, the parameter counts, and
    ``layer``, the current layer counted from 1.
    """
    shapes, annotations = [], []
    box_height, gap = 0.8, 0.25
    block = ("qkv", "scores", "softmax", "concat", "norm_1", "ffn", "norm_2")
    for index, (part, key) in enumerate(STACK_PARTS):
        y0 = index * (box_height + gap)
        current = part == highlight
        inside = part in block
        shapes.append(
            dict(
                type="rect",
                x0=0.6 if inside else 0.2,
                x1=3.4 if inside else 3.8,
                y0=y0,
                y1=y0 + box_height,
                line=dict(color="#d94801" if current else "#08519c", width=5 if current else 2),
                fillcolor="#fde0c5" if current else ("#eef4fb" if inside else "#f4f4f4"),
            )
        )
        annotations.append(
            dict(text=Msg(key, **sizes), x=2.0, y=y0 + box_height / 2, showarrow=False, font=dict(size=15, color="#111"))
        )
        if index:
            annotations.append(
                dict(
                    x=2.0,
                    y=y0,
                    ax=2.0,
                    ay=y0 - gap,
                    xref="x",
                    yref="y",
                    axref="x",
                    ayref="y",
                    showarrow=True,
                    arrowhead=2,
                    arrowwidth=2,
                    text="",
                )
            )
    top = len(STACK_PARTS) * (box_height + gap)
    first, last = 1 * (box_height + gap) - 0.1, 7 * (box_height + gap) + box_height + 0.1 - (box_height + gap)
    shapes.append(dict(type="rect", x0=0.45, x1=3.55, y0=first, y1=last, line=dict(color="#555", dash="dash", width=2)))
    annotations.append(
        dict(
            text=Msg("stepfig.block_repeat", **sizes),
            x=3.6,
            y=(first + last) / 2,
            showarrow=False,
            textangle=-90,
            font=dict(size=14),
        )
    )
    layout = _spec_layout(
        Msg("stepfig.stack_title", **sizes),
        520,
        shapes=shapes,
        annotations=annotations,
        xaxis=dict(visible=False, range=[0, 4.0], fixedrange=True),
        yaxis=dict(visible=False, range=[-0.2, top], fixedrange=True),
        showlegend=False,
    )
    layout["margin"] = dict(l=10, r=10, t=70, b=10)
    return PlotlySpec(data=[], layout=layout)


PARAMETER_PARTS = (
    ("embeddings", "stepfig.params_embeddings"),
    ("attention", "stepfig.params_attention"),
    ("ffn", "stepfig.params_ffn"),
    ("norms", "stepfig.params_norms"),
    ("other", "stepfig.params_other"),
)


def parameter_bars(counts: dict[str, int], title: Text) -> PlotlySpec:
    """Where a model's parameters are: embeddings, all layers' attention, FFNs, LayerNorms, the rest (millions)."""
    layers = counts["layers"]
    values = {
        "embeddings": counts["embeddings"],
        "attention": layers * counts["attention_per_layer"],
        "ffn": layers * counts["ffn_per_layer"],
        "norms": layers * counts["layer_norms_per_layer"],
        "other": counts["total"]
        - counts["embeddings"]
        - layers * (counts["attention_per_layer"] + counts["ffn_per_layer"] + counts["layer_norms_per_layer"]),
    }
    millions = [values[part] / 1e6 for part, _ in PARAMETER_PARTS]
    trace = dict(
        type="bar",
        orientation="h",
        y=[Msg(key, layers=layers) for _, key in PARAMETER_PARTS],
        x=millions,
        text=[f"{m:.2f}M ({m * 1e6 / max(counts['total'], 1):.0%})" for m in millions],
        textposition="auto",
        marker=dict(color="#08519c"),
        hovertemplate="%{y}: %{x:.3f}M<extra></extra>",
    )
    layout = _spec_layout(
        title,
        420,
        xaxis=dict(title=dict(text=Msg("stepfig.millions")), gridcolor="#ddd", automargin=True, rangemode="tozero"),
        yaxis=dict(autorange="reversed", automargin=True),
    )
    return PlotlySpec(data=[trace], layout=layout)


def quadratic(lengths: Sequence[int], seconds: Sequence[float], attention_bytes: Sequence[int], title: Text) -> PlotlySpec:
    """Forward time and attention memory against T, each beside its best fit a + b·T + c·T²."""
    t = np.asarray(lengths, dtype=np.float64)
    seconds_ms = np.asarray(seconds, dtype=np.float64) * 1000
    megabytes = np.asarray(attention_bytes, dtype=np.float64) / 1024**2  # MiB
    dense = np.linspace(t.min(), t.max(), 60)

    def fit(values: np.ndarray) -> np.ndarray:
        """Least squares a + bT + cT² with c ≥ 0 (a noisy run must not draw a curve bending down)."""
        design = np.stack([np.ones_like(t), t, t**2], axis=1)
        coefficients, *_ = np.linalg.lstsq(design, values, rcond=None)
        if coefficients[2] < 0:
            coefficients, *_ = np.linalg.lstsq(design[:, :2], values, rcond=None)
            coefficients = np.r_[coefficients, 0.0]
        return coefficients[0] + coefficients[1] * dense + coefficients[2] * dense**2

    traces = [
        dict(
            type="scatter",
            mode="markers",
            x=t.tolist(),
            y=seconds_ms.tolist(),
            name=Msg("stepfig.time"),
            marker=dict(size=11, color="#08519c"),
            xaxis="x",
            yaxis="y",
        ),
        dict(
            type="scatter",
            mode="lines",
            x=dense.tolist(),
            y=fit(seconds_ms).tolist(),
            name=Msg("stepfig.fit"),
            line=dict(color="#08519c", dash="dot"),
            xaxis="x",
            yaxis="y",
        ),
        dict(
            type="scatter",
            mode="markers",
            x=t.tolist(),
            y=megabytes.tolist(),
            name=Msg("stepfig.memory"),
            marker=dict(size=11, color="#d94801", symbol="square"),
            xaxis="x2",
            yaxis="y2",
        ),
        dict(
            type="scatter",
            mode="lines",
            x=dense.tolist(),
            y=fit(megabytes).tolist(),
            name=Msg("stepfig.fit"),
            line=dict(color="#d94801", dash="dot"),
            xaxis="x2",
            yaxis="y2",
            showlegend=False,
        ),
    ]
    axis = dict(gridcolor="#ddd", automargin=True, title=dict(text=Msg("stepfig.tokens_axis")))
    layout = _spec_layout(
        title,
        460,
        xaxis=dict(domain=[0, 0.44], **axis),
        yaxis=dict(title=dict(text=Msg("stepfig.ms_axis")), gridcolor="#ddd", automargin=True, rangemode="tozero"),
        xaxis2=dict(domain=[0.56, 1.0], anchor="y2", **axis),
        yaxis2=dict(title=dict(text=Msg("stepfig.mb_axis")), gridcolor="#ddd", automargin=True, anchor="x2", rangemode="tozero"),
        legend=dict(orientation="h", y=-0.25, font=dict(size=15)),
    )
    return PlotlySpec(data=traces, layout=layout)
