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
import re
import unicodedata
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

# The narrowest a figure is drawn, in CSS px: half of a 1280 px screen in projection mode (zoom 1.3).
# Figures are as wide as their column, which the server does not know: tick labels and titles are
# sized so they still fit there (wider screens just get more room between them).
DESIGN_WIDTH = 440
TITLE_SIZE = 20
TITLE_LINE = 32  # px of top margin per added title line (a line is ~26 px; see fit_titles)
TICK_SIZES = (15, 13, 12)  # tick label font sizes tried, largest first, before labels are thinned
SIN_ROTATION = 0.866  # labels are rotated 60°: neighbours clear each other when dx * sin(60°) > font size


def _spec_layout(title: Text, height: int, **extra) -> dict:
    return dict(
        title=dict(text=title, font=dict(size=TITLE_SIZE)),
        font=FONT,
        height=height,
        margin=dict(l=20, r=20, t=70, b=20),
        paper_bgcolor="white",
        plot_bgcolor="white",
        **extra,
    )


def text_width(text: str, size: float) -> float:
    """Rough width in px of ``text`` at font ``size``: full-width (CJK) characters are 1 em, narrow
    Latin letters and punctuation ~0.3 em, the rest ~0.55-0.7 em (a little wide, to be safe)."""
    ems = 0.0
    for char in re.sub(r"<[^>]*>", "", text):
        if unicodedata.east_asian_width(char) in "WF":
            ems += 1.0
        elif char in " .,:;'|!il()[]·\u200b":
            ems += 0.32 if char != "\u200b" else 0.0
        elif char.isupper() or char in "mwMW@%":
            ems += 0.72
        else:
            ems += 0.56
    return ems * size


# Where a title may break: after a space or CJK punctuation, before an opening bracket, between CJK.
_CJK = "\u3040-\u30ff\u4e00-\u9fff"
_BREAK = re.compile(rf"(?<= )(?!\d)|(?<=[、。：:,，・·）)\]])|(?=[（(\[])|(?<=[{_CJK}])(?=[{_CJK}])")


def wrap_title(text: str, width: float = DESIGN_WIDTH - 30, size: float = TITLE_SIZE) -> str:
    """``text`` with ``<br>`` where it would run past ``width`` px (plotly never wraps a title)."""
    lines = []
    for line in str(text).split("<br>"):
        if text_width(line, size) <= width:
            lines.append(line)
            continue
        pieces = [piece for piece in _BREAK.split(line) if piece]
        current = ""
        for piece in pieces:
            if current and text_width(current + piece, size) > width:
                lines.append(current.rstrip())
                current = piece.lstrip()
            else:
                current += piece
        lines.append(current.rstrip())
    return "<br>".join(lines)


def wrap_titles(titles):
    """Every string in nested lists/dicts of rendered titles, wrapped (``wrap_title``)."""
    if isinstance(titles, str):
        return wrap_title(titles)
    if isinstance(titles, dict):
        return {key: wrap_titles(value) for key, value in titles.items()}
    if isinstance(titles, list | tuple):
        return [wrap_titles(value) for value in titles]
    return titles


def title_lines(text: str) -> int:
    return str(text).count("<br>") + 1


def fit_titles(spec):
    """A rendered figure (words in one language) with its title wrapped to ``DESIGN_WIDTH`` and the
    top margin grown by the lines added."""
    if not isinstance(spec, dict):
        return spec
    layout = spec.get("layout") or {}
    title = layout.get("title")
    if not isinstance(title, dict) or not isinstance(title.get("text"), str) or not title["text"]:
        return spec
    before = title_lines(title["text"])
    title["text"] = wrap_title(title["text"], size=(title.get("font") or {}).get("size", TITLE_SIZE))
    added = title_lines(title["text"]) - before
    if added > 0:
        # plotly puts the first line's baseline half way down the top margin and the next lines below it:
        # a margin TITLE_LINE px taller per added line keeps the last line clear of the plot
        margin = layout.setdefault("margin", {})
        margin["t"] = margin.get("t", 70) + TITLE_LINE * added
    return spec


def tick_plan(n: int, extent: float, rotated: bool = True) -> tuple[int, int]:
    """``(step, font size)`` for ``n`` token labels along ``extent`` px: the largest font of
    ``TICK_SIZES`` at which every label fits, else the smallest font and every ``step``-th label."""
    for size in TICK_SIZES:
        pitch = size / SIN_ROTATION if rotated else size * 1.5  # a label box is ~1.45 em tall (Noto Sans CJK)
        most = max(1, int(extent // pitch))
        if n <= most:
            return 1, size
    return int(np.ceil(n / most)), TICK_SIZES[-1]


def label_margin(labels: Sequence[str], size: int = TICK_SIZES[0]) -> float:
    """Width in px that the longest label (capped) takes beside an axis."""
    return min(130.0, max((text_width(str(label), size) for label in labels), default=0.0) + 8)


def shown_share(probability: float) -> float:
    """A probability at the whole percent ``gr.Label`` shows (it rounds: 0.999 read "100%" beside a line
    saying 99.9%), never 100% or 0% unless exactly so. Lines that quote a label write this, as ``.0%``."""
    probability = float(probability)
    if 0.0 < probability < 1.0:
        return min(max(round(probability * 100), 1), 99) / 100
    return probability


def percent_ticks(top: float, most: int = 4) -> dict:
    """Axis settings for probabilities from 0 to ``top``: at most ``most`` steps of a round size, each
    written with the decimals it needs (".0%" on a 0–3% axis wrote "1%, 1%, 2%, 2%")."""
    top = max(float(top), 1e-6)
    step = 10.0 ** np.floor(np.log10(top / most))
    for factor in (1, 2, 2.5, 5, 10):
        if top / (step * factor) <= most:
            step *= factor
            break
    decimals = next(d for d in range(8) if abs(round(step * 100, d) - step * 100) < 1e-9)
    return dict(range=[0, top], tick0=0, dtick=float(step), tickformat=f".{decimals}%")


def _token_axis(labels: Sequence[str], extent: float) -> dict:
    step, size = tick_plan(len(labels), extent)
    ticks = list(range(0, len(labels), step))
    return dict(
        tickmode="array",
        tickvals=ticks,
        ticktext=[labels[i] for i in ticks],
        tickfont=dict(size=size),
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


def _category_axis(
    labels: list[str],
    title: Text | None = None,
    extent: float = 400.0,
    rotated: bool = True,
    plan: tuple[int, int] | None = None,
    **extra,
) -> dict:
    """A token axis labelled as densely as ``extent`` px allow (``tick_plan``)."""
    step, size = plan or tick_plan(len(labels), extent, rotated)
    ticks = labels[::step]
    if rotated:
        extra.setdefault("tickangle", -60)
    axis = dict(
        type="category",
        tickmode="array",
        tickvals=ticks,
        ticktext=ticks,
        tickfont=dict(size=size),
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
    plan = heatmap_ticks(key_labels, query_labels)
    layout = _spec_layout(
        title,
        plan["height"],
        xaxis=_category_axis(key_labels, Msg("fig.key_axis"), plan=plan["x"]),
        yaxis=_category_axis(query_labels, Msg("fig.query_axis"), plan=plan["y"], rotated=False, autorange="reversed"),
    )
    return PlotlySpec(data=[trace], layout=layout)


def heatmap_height(n_rows: int) -> int:
    return min(1400, max(520, 22 * n_rows + 220))


def heatmap_ticks(key_labels: Sequence[str], query_labels: Sequence[str]) -> dict:
    """Height and tick plans (``tick_plan``) of a token × token heatmap at ``DESIGN_WIDTH``: the
    plot is what the y labels, the axis titles, the colour bar and the margins leave."""
    height = heatmap_height(len(query_labels))
    width = DESIGN_WIDTH - 40 - 28 - label_margin(query_labels) - 85
    rows = height - 70 - TITLE_LINE - 28 - SIN_ROTATION * label_margin(key_labels)  # room for a 2-line title
    return dict(height=height, x=tick_plan(len(key_labels), width), y=tick_plan(len(query_labels), rows, rotated=False))


def bar_ticks(labels: Sequence[str]) -> tuple[int, int]:
    """Tick plan of a bar chart's token axis: the plot is what the value axis and margins leave."""
    return tick_plan(len(labels), DESIGN_WIDTH - 40 - 80)


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


def layer_top(layer_weights: np.ndarray) -> float:
    """The top of the colour scale shared by a layer's thumbnails and its head heatmap: the layer's
    largest weight, so one head looks the same in both (a fixed 0–1 thumbnail next to a 0–0.4 heatmap
    would not)."""
    return float(max(np.max(layer_weights, initial=0.0), 1e-6))


def head_grid(
    layer_weights: np.ndarray, labels: Sequence[str], title: Text = "", columns: int = 4, zmax: float | None = None
) -> PlotlySpec:
    """Small multiples: one thumbnail heatmap per head of a layer, ``(H, T, T)``, on one colour scale
    (``zmax``, by default ``layer_top``); hover names the query and key token (the first of a pooled cell).

    Axes are laid out by hand rather than with ``make_subplots``, which costs ~15×
    more time for the same figure (it validates and copies every trace per cell).
    """
    n_heads = layer_weights.shape[0]
    rows = int(np.ceil(n_heads / columns))
    pooled = pool_blocks(layer_weights, THUMBNAIL_CELLS)
    n_tokens = layer_weights.shape[-1]
    starts = np.linspace(0, n_tokens, pooled.shape[-1] + 1).astype(int)[:-1].tolist()  # first token of each cell
    names = unique_labels(labels)
    cell_labels = [names[start] for start in starts]
    zmax = layer_top(layer_weights) if zmax is None else zmax
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
        hidden = dict(type="category", showticklabels=False, showgrid=False, zeroline=False)
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
                font=dict(size=14),  # four titles side by side in a ~100 px column each at DESIGN_WIDTH
            )
        )
        traces.append(
            dict(
                type="heatmap",
                z=typed_array(pooled[head]),
                x=cell_labels,
                y=cell_labels,
                xaxis=f"x{axis}",
                yaxis=f"y{axis}",
                hovertemplate=Msg("hover.grid", head=head, query="%{y}", key="%{x}", weight="%{z:.3f}"),
                colorscale=ATTENTION_SCALE,
                zmin=0.0,
                zmax=zmax,
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
        xaxis=_category_axis(labels, plan=bar_ticks(labels)),
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
        xaxis=dict(tickangle=-60, **_token_axis(labels, DESIGN_WIDTH - 40 - 80)),
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
        xaxis=_category_axis(labels, plan=bar_ticks(labels)),
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
    step, size = tick_plan(n_tokens, DESIGN_WIDTH - 40 - 130 - 70)  # method names at the left, the colour bar
    layout = _spec_layout(
        title,
        140 + 46 * n_methods,
        xaxis=dict(
            tickmode="array",
            tickvals=list(range(0, n_tokens, step)),
            ticktext=[labels[i] for i in range(0, n_tokens, step)],
            tickangle=-60,
            tickfont=dict(size=size),
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
