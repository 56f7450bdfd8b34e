"""Pure functions from arrays (and token strings) to plotly figures.

No gradio and no torch here. Words inside figures (titles, axis names, legend entries,
hover templates) are ``messages.Msg`` keys, rendered in the page's language at the UI edge
(``messages.render_tree``). Every figure uses large fonts and a high-contrast
colour scale so it stays legible on a classroom projector. Token axes are numeric
with text tick labels, because plotly merges repeated category names (two "the").
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from .messages import Msg, Text

# Latin fonts first (IPAGothic is monospaced for Latin), then a Japanese fallback.
FONT = dict(
    family="'Source Sans Pro', Arial, 'Liberation Sans', 'DejaVu Sans', 'Noto Sans CJK JP', 'IPAPGothic', sans-serif",
    size=16,
    color="#111",
)
ATTENTION_SCALE = [[0.0, "#ffffff"], [0.15, "#c6dbef"], [0.4, "#4292c6"], [0.7, "#08519c"], [1.0, "#08153a"]]
DIVERGING_SCALE = "RdBu"
MAX_LABELLED_TOKENS = 80  # rows grow with the token count: past this, label every n-th token
MAX_LABELLED_COLUMNS = 40  # the width is fixed (half a 1920 px screen): rotated labels need ~15 px each
THUMBNAIL_CELLS = 32  # head-grid thumbnails (~170 px wide) are mean-pooled to at most this many cells a side


def _spec_layout(title: Text, height: int, **extra) -> dict:
    return dict(
        title=dict(text=title, font=dict(size=20)),
        font=FONT,
        height=height,
        margin=dict(l=20, r=20, t=70, b=20),
        paper_bgcolor="white",
        plot_bgcolor="white",
        **extra,
    )


def _tick_step(n: int, most: int = MAX_LABELLED_TOKENS) -> int:
    return max(1, int(np.ceil(n / most)))


def _token_axis(labels: Sequence[str]) -> dict:
    step = _tick_step(len(labels))
    ticks = list(range(0, len(labels), step))
    return dict(
        tickmode="array",
        tickvals=ticks,
        ticktext=[labels[i] for i in ticks],
        tickfont=dict(size=15 if len(labels) <= 40 else 12),
        automargin=True,
        showgrid=False,
        zeroline=False,
    )


class PlotlySpec(dict):
    """A plotly figure as the JSON that plotly.js reads: ``{"data": [...], "layout": {...}}``.

    The attention views are rebuilt on every layer/head switch. ``go.Figure`` validates and
    deep-copies every array (~20 ms for one 128-token heatmap), so these views write the JSON
    directly, arrays as base64 typed arrays (``{"dtype": "f4", "bdata": ...}``, which plotly.js
    reads natively). ``gr.Plot`` serialises any non-matplotlib/bokeh value with ``.to_json()``,
    so a spec can be returned wherever a figure can; ``.figure()`` gives the validated
    ``go.Figure`` (tests, notebooks).
    """

    def to_json(self) -> str:
        # Messages left unrendered (a caller outside the UI) are written in English.
        return json.dumps(self, separators=(",", ":"), ensure_ascii=False, default=str)

    def figure(self, language: str = "en") -> go.Figure:
        """The validated ``go.Figure``, its words rendered in ``language``."""
        from .messages import render_tree

        return go.Figure(render_tree(dict(self), language))


def typed_array(values: np.ndarray) -> dict:
    """plotly.js typed-array JSON of a float array, as float32."""
    array = np.ascontiguousarray(values, dtype="<f4")
    spec = {"dtype": "f4", "bdata": base64.b64encode(array.tobytes()).decode("ascii")}
    if array.ndim > 1:
        spec["shape"] = ", ".join(str(n) for n in array.shape)
    return spec


def decode_array(value) -> np.ndarray:
    """The numpy array behind a typed-array JSON (or a plain list)."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype="<" + value["dtype"])
        shape = value.get("shape")
        return array.reshape([int(n) for n in shape.split(",")]) if shape else array
    return np.asarray(value)


def unique_labels(labels: Sequence[str]) -> list[str]:
    """Labels made distinct with zero-width spaces: a categorical axis would merge two "the"."""
    seen: set[str] = set()
    out = []
    for label in labels:
        label = str(label)
        while label in seen:
            label += "\u200b"
        seen.add(label)
        out.append(label)
    return out


def _category_axis(labels: list[str], title: Text | None = None, most: int = MAX_LABELLED_TOKENS, **extra) -> dict:
    step = _tick_step(len(labels), most)
    ticks = labels[::step]
    axis = dict(
        type="category",
        tickmode="array",
        tickvals=ticks,
        ticktext=ticks,
        tickfont=dict(size=15 if len(labels) <= 40 else 12),
        automargin=True,
        showgrid=False,
        zeroline=False,
        **extra,
    )
    if title:
        axis["title"] = dict(text=title)
    return axis


def attention_heatmap(
    weights: np.ndarray,
    query_labels: Sequence[str],
    key_labels: Sequence[str] | None = None,
    title: Text = "",
    zmax: float | None = None,
) -> PlotlySpec:
    """Heatmap of one ``(query, key)`` attention matrix; rows are queries (y), columns keys (x).

    Token labels are categories, so hover reads "query → key" from the axes: no T² hover strings.
    """
    key_labels = unique_labels(query_labels if key_labels is None else key_labels)
    query_labels = unique_labels(query_labels)
    if weights.shape != (len(query_labels), len(key_labels)):
        raise ValueError(f"weights {weights.shape} do not match {len(query_labels)} x {len(key_labels)} labels")
    trace = dict(
        type="heatmap",
        z=typed_array(weights),
        x=key_labels,
        y=query_labels,
        hovertemplate=Msg("hover.attention", query="%{y}", key="%{x}", weight="%{z:.3f}"),
        colorscale=ATTENTION_SCALE,
        zmin=0.0,
        zmax=float(max(weights.max(initial=0.0), 1e-6)) if zmax is None else zmax,
        colorbar=dict(title=dict(text=Msg("fig.weight")), thickness=18),
    )
    side = min(1400, max(520, 22 * len(query_labels) + 220))
    layout = _spec_layout(
        title,
        side,
        xaxis=_category_axis(key_labels, Msg("fig.key_axis"), most=MAX_LABELLED_COLUMNS, tickangle=-60),
        yaxis=_category_axis(query_labels, Msg("fig.query_axis"), autorange="reversed"),
    )
    return PlotlySpec(data=[trace], layout=layout)


def pool_blocks(weights: np.ndarray, cells: int) -> np.ndarray:
    """Mean-pool the last two axes of ``(..., T, T)`` down to at most ``cells`` a side."""
    size = weights.shape[-1]
    if size <= cells:
        return weights
    edges = np.linspace(0, size, cells + 1).astype(int)  # block boundaries, as even as possible
    rows = np.add.reduceat(weights, edges[:-1], axis=-2) / np.diff(edges)[:, None]
    return np.add.reduceat(rows, edges[:-1], axis=-1) / np.diff(edges)[None, :]


def pooled_title(title: Text, n_tokens: int) -> Text:
    """The head grid's title, saying how many tokens a thumbnail cell averages when there are more
    tokens than ``THUMBNAIL_CELLS``."""
    if n_tokens <= THUMBNAIL_CELLS:
        return title
    return Msg("fig.pooled", title=title, tokens=f"{n_tokens / THUMBNAIL_CELLS:.0f}")


def head_grid(layer_weights: np.ndarray, labels: Sequence[str], title: Text = "", columns: int = 4) -> PlotlySpec:
    """Small multiples: one thumbnail heatmap per head of a layer, ``(H, T, T)``.

    Axes are laid out by hand rather than with ``make_subplots``, which costs ~15×
    more time for the same figure (it validates and copies every trace per cell).
    """
    n_heads = layer_weights.shape[0]
    rows = int(np.ceil(n_heads / columns))
    pooled = pool_blocks(layer_weights, THUMBNAIL_CELLS)
    n_tokens = layer_weights.shape[-1]
    starts = np.linspace(0, n_tokens, pooled.shape[-1] + 1).astype(int)[:-1].tolist()  # first token of each cell
    title = pooled_title(title, n_tokens)
    h_gap, v_gap = 0.03, 0.08 if rows > 1 else 0.1
    width = (0.92 - h_gap * (columns - 1)) / columns  # the right 8% holds the colour bar
    height = (1.0 - v_gap * (rows - 1)) / rows
    layout = _spec_layout(title, 260 * rows + 90, annotations=[])
    traces = []
    for head in range(n_heads):
        row, col = divmod(head, columns)
        axis = head + 1
        left, top = col * (width + h_gap), 1.0 - row * (height + v_gap)
        hidden = dict(showticklabels=False, showgrid=False, zeroline=False)
        layout[f"xaxis{axis}"] = dict(domain=[left, left + width], anchor=f"y{axis}", **hidden)
        layout[f"yaxis{axis}"] = dict(domain=[top - height, top], anchor=f"x{axis}", autorange="reversed", **hidden)
        layout["annotations"].append(
            dict(
                text=Msg("fig.head_n", head=head),
                x=left + width / 2,
                y=top,
                xref="paper",
                yref="paper",
                showarrow=False,
                yanchor="bottom",
                font=dict(size=17),
            )
        )
        traces.append(
            dict(
                type="heatmap",
                z=typed_array(pooled[head]),
                x=starts,
                y=starts,
                xaxis=f"x{axis}",
                yaxis=f"y{axis}",
                hovertemplate=Msg("hover.grid", head=head, query="%{y}", key="%{x}", weight="%{z:.3f}"),
                colorscale=ATTENTION_SCALE,
                zmin=0.0,
                zmax=1.0,
                showscale=head == 0,
                colorbar=dict(title=dict(text=Msg("fig.weight")), thickness=18),
            )
        )
    return PlotlySpec(data=traces, layout=layout)


def attention_row(row: np.ndarray, labels: Sequence[str], title: Text = "") -> PlotlySpec:
    """Bar chart of where one query token's attention goes."""
    labels = unique_labels(labels)
    trace = dict(
        type="bar",
        x=labels,
        y=typed_array(row),
        hovertemplate=Msg("hover.bar", token="%{x}", weight="%{y:.3f}"),
        marker=dict(color="#08519c"),
    )
    layout = _spec_layout(
        title,
        460,
        xaxis=_category_axis(labels, most=MAX_LABELLED_COLUMNS, tickangle=-60),
        yaxis=dict(
            title=dict(text=Msg("fig.attention_weight"), standoff=12), rangemode="tozero", gridcolor="#ddd", automargin=True
        ),
    )
    return PlotlySpec(data=[trace], layout=layout)


def encoding_heatmap(matrix: np.ndarray, title: Text) -> PlotlySpec:
    """Positions (x) × dimensions (y), as the chapter's imshow of the PE matrix."""
    # A few outlier dimensions of learned embeddings would wash everything else out:
    # clip the colour scale at the 99th percentile of |value| (hover shows true values).
    limit = float(np.percentile(np.abs(matrix), 99)) if matrix.size else 1.0
    trace = dict(
        type="heatmap",
        z=typed_array(matrix.T),
        colorscale=DIVERGING_SCALE,
        zmid=0.0,
        zmin=-(limit or 1.0),
        zmax=limit or 1.0,
        hovertemplate=Msg("hover.encoding", position="%{x}", dimension="%{y}", value="%{z:.3f}"),
        colorbar=dict(thickness=18),
    )
    plain = dict(showgrid=False, zeroline=False, automargin=True)  # room for the tick labels and minus signs
    layout = _spec_layout(
        title,
        520,
        xaxis=dict(title=dict(text=Msg("fig.position")), **plain),
        yaxis=dict(title=dict(text=Msg("fig.dimension")), **plain),
    )
    return PlotlySpec(data=[trace], layout=layout)


def encoding_curves(matrix: np.ndarray, dims: Sequence[int], title: Text) -> PlotlySpec:
    """Value of chosen dimensions along the positions: sin/cos waves of falling frequency."""
    positions = typed_array(np.arange(matrix.shape[0]))
    traces = [
        dict(
            type="scatter",
            x=positions,
            y=typed_array(matrix[:, dim]),
            mode="lines",
            name=Msg("fig.dim_n", dim=dim),
            line=dict(width=3),
        )
        for dim in dims
    ]
    layout = _spec_layout(
        title,
        460,
        xaxis=dict(title=dict(text=Msg("fig.position")), gridcolor="#ddd", automargin=True),
        yaxis=dict(title=dict(text=Msg("fig.value"), standoff=12), gridcolor="#ddd", automargin=True),
        legend=dict(font=dict(size=16)),
    )
    return PlotlySpec(data=traces, layout=layout)


def similarity_heatmap(similarity: np.ndarray, title: Text) -> PlotlySpec:
    """Position × position similarity (cosine), e.g. of positional encodings."""
    trace = dict(
        type="heatmap",
        z=typed_array(similarity),
        colorscale=DIVERGING_SCALE,
        zmid=0.0,
        zmin=-1.0,
        zmax=1.0,
        hovertemplate=Msg("hover.similarity", a="%{y}", b="%{x}", value="%{z:.3f}"),
        colorbar=dict(title=dict(text=Msg("fig.cosine")), thickness=18),
    )
    plain = dict(showgrid=False, zeroline=False, automargin=True)  # room for the tick labels and minus signs
    layout = _spec_layout(
        title,
        520,
        xaxis=dict(title=dict(text=Msg("fig.position")), **plain),
        yaxis=dict(title=dict(text=Msg("fig.position")), autorange="reversed", **plain),
    )
    return PlotlySpec(data=[trace], layout=layout)


def token_highlights(
    text: str, offsets: Sequence[tuple[int, int] | None], labels: Sequence[str | float]
) -> list[tuple[str, str | float | None]]:
    """``gr.HighlightedText`` value: the text cut into token spans, each labelled (or scored).

    Characters no token covers (spaces, dropped characters) stay unlabelled.
    """
    pieces: list[tuple[str, str | float | None]] = []
    cursor = 0
    for span, label in zip(offsets, labels, strict=True):
        if span is None or span[0] < cursor:
            continue
        start, end = span
        if start > cursor:
            pieces.append((text[cursor:start], None))
        pieces.append((text[start:end], label))
        cursor = end
    if cursor < len(text):
        pieces.append((text[cursor:], None))
    return pieces


def span_probabilities(start: np.ndarray, end: np.ndarray, labels: Sequence[str], title: Text) -> PlotlySpec:
    """Start and end probabilities of every token (QA): the answer is where both peak."""
    positions = list(range(len(labels)))
    traces = [
        dict(
            type="bar",
            x=positions,
            y=typed_array(values),
            name=Msg(name),
            marker=dict(color=colour),
            customdata=list(labels),
            hovertemplate=Msg("hover.span", token="%{customdata}", what=Msg(name), value="%{y:.3f}"),
        )
        for values, name, colour in ((start, "fig.start", "#08519c"), (end, "fig.end", "#d94801"))
    ]
    layout = _spec_layout(
        title,
        460,
        xaxis=dict(tickangle=-60, **_token_axis(labels)),
        yaxis=dict(title=dict(text=Msg("fig.probability"), standoff=12), rangemode="tozero", gridcolor="#ddd", automargin=True),
        barmode="group",
        legend=dict(font=dict(size=16)),
    )
    return PlotlySpec(data=traces, layout=layout)


# ---------------------------------------------------------------- attributions (which tokens drove a prediction)

SUPPORT_COLOUR, AGAINST_COLOUR = "#EF443C", "#805AD5"  # gradio HighlightedText's positive / negative scores
LINE_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")  # Okabe-Ito


def scaled_scores(scores: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Scores divided by the largest ``|score|`` among ``keep`` tokens, so every method spans ``[-1, 1]``;
    tokens outside ``keep`` (special tokens) become 0."""
    scores = np.where(keep, np.asarray(scores, dtype=np.float64), 0.0)
    top = float(np.abs(scores).max(initial=0.0))
    return scores / top if top > 0 else scores


def token_scores_bar(scores: np.ndarray, labels: Sequence[str], title: Text, axis: Text) -> PlotlySpec:
    """Signed importance of every token: red bars help the prediction, purple bars work against it (the
    colours gradio's ``HighlightedText`` gives positive and negative scores, so text and chart agree)."""
    labels = unique_labels(labels)
    colours = [SUPPORT_COLOUR if value >= 0 else AGAINST_COLOUR for value in np.asarray(scores)]
    trace = dict(
        type="bar",
        x=labels,
        y=typed_array(np.asarray(scores, dtype=np.float64)),
        marker=dict(color=colours),
        hovertemplate=Msg("hover.score", token="%{x}", score="%{y:.3f}"),
    )
    layout = _spec_layout(
        title,
        420,
        xaxis=_category_axis(labels, most=MAX_LABELLED_COLUMNS, tickangle=-60),
        yaxis=dict(title=dict(text=axis, standoff=12), gridcolor="#ddd", zeroline=True, zerolinecolor="#888", automargin=True),
    )
    return PlotlySpec(data=[trace], layout=layout)


def method_grid(matrix: np.ndarray, methods: Sequence[Text], labels: Sequence[str], title: Text) -> PlotlySpec:
    """Methods (rows) × tokens (columns), each row scaled to ``[-1, 1]``: where the explanations agree."""
    n_methods, n_tokens = matrix.shape
    trace = dict(
        type="heatmap",
        z=typed_array(np.asarray(matrix, dtype=np.float64)),
        x=list(range(n_tokens)),
        y=list(range(n_methods)),
        customdata=[[labels[column] for column in range(n_tokens)] for _ in range(n_methods)],
        colorscale=[[0.0, AGAINST_COLOUR], [0.5, "#ffffff"], [1.0, SUPPORT_COLOUR]],
        zmid=0.0,
        zmin=-1.0,
        zmax=1.0,
        hovertemplate=Msg("hover.method_score", token="%{customdata}", score="%{z:.2f}"),
        colorbar=dict(thickness=18),
    )
    step = _tick_step(n_tokens, MAX_LABELLED_COLUMNS)
    layout = _spec_layout(
        title,
        140 + 46 * n_methods,
        xaxis=dict(
            tickmode="array",
            tickvals=list(range(0, n_tokens, step)),
            ticktext=[labels[i] for i in range(0, n_tokens, step)],
            tickangle=-60,
            tickfont=dict(size=15 if n_tokens <= 40 else 12),
            automargin=True,
            showgrid=False,
            zeroline=False,
        ),
        yaxis=dict(
            tickmode="array", tickvals=list(range(n_methods)), ticktext=list(methods), autorange="reversed", automargin=True
        ),
    )
    return PlotlySpec(data=[trace], layout=layout)


def deletion_curves(curves: dict[Text, Sequence[tuple[float, float]]], reference: Text, title: Text) -> PlotlySpec:
    """The explained probability as the top-k% tokens of each ranking are removed; the reference dashed."""
    traces = []
    for index, (name, points) in enumerate(curves.items()):
        is_reference = name == reference
        traces.append(
            dict(
                type="scatter",
                mode="lines+markers",
                name=name,
                x=[round(100 * fraction) for fraction, _ in points],
                y=[probability for _, probability in points],
                line=dict(
                    color="#777" if is_reference else LINE_COLOURS[index % len(LINE_COLOURS)],
                    dash="dash" if is_reference else "solid",
                    width=3,
                ),
                hovertemplate=Msg("hover.deletion", name=name, percent="%{x}", probability="%{y:.3f}"),
            )
        )
    layout = _spec_layout(
        title,
        560,
        xaxis=dict(title=dict(text=Msg("fig.removed_percent")), gridcolor="#eee", automargin=True),
        yaxis=dict(title=dict(text=Msg("fig.probability")), range=[0, 1.02], gridcolor="#ddd", automargin=True),
        # below the axis title, in its own margin: a horizontal legend under the plot would cover the title
        legend=dict(orientation="h", yanchor="top", y=-0.26, yref="paper"),
    )
    layout["margin"] = dict(l=20, r=20, t=70, b=170)
    return PlotlySpec(data=traces, layout=layout)
