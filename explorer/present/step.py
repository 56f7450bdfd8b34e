"""Inside a head: one block of the model, step by step, with its own weights and numbers (3.1-3.6, 問題1).

``present`` analyses the text (cached) and recomputes block ``layer`` for head ``head``
(``stepwise.step_through``, no forward pass); ``view`` redraws any step for any query token
from the cached step-through. ``toy_view`` is the chapter's numpy example, ``cross_view`` the
cross-attention exercise, ``measure_quadratic`` times the forward pass against T.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .. import backend, step_views, stepwise, weights
from ..analysis import Analysis, AnalysisKey, check_flag, check_index, check_text, whole_number
from ..errors import InputError
from ..messages import Msg
from ..models import load_model
from ..views import PlotlySpec
from .common import LayerHeadResult, Result, Table, analysis_for, fit_index, fit_layer_head, layer_head, rounded, token_choices

STEPS = ("input", "qkv", "scores", "masks", "weights", "head_output", "ffn", "stack")
STACK_PART = {
    "input": "embeddings",
    "qkv": "qkv",
    "scores": "scores",
    "masks": "scores",
    "weights": "softmax",
    "head_output": "concat",
    "ffn": "ffn",
    "stack": "output",
}
# Catalog keys per step and per stage, written out (the message test reads literal keys).
TITLE_KEYS = {
    "input": "step.title_input",
    "qkv": "step.title_qkv",
    "scores": "step.title_scores",
    "masks": "step.title_masks",
    "weights": "step.title_weights",
    "head_output": "step.title_head_output",
    "ffn": "step.title_ffn",
    "stack": "step.title_stack",
}
FORMULA_KEYS = {
    "input": "step.formula_input",
    "qkv": "step.formula_qkv",
    "scores": "step.formula_scores",
    "masks": "step.formula_masks",
    "weights": "step.formula_weights",
    "head_output": "step.formula_head_output",
    "ffn": "step.formula_ffn",
    "stack": "step.formula_stack",
}
ROW_KEYS = {
    "query": "step.row_query",
    "key": "step.row_key",
    "value": "step.row_value",
    "head_output": "step.row_head_output",
    "concat": "step.row_concat",
    "projected": "step.row_projected",
    "residual_1": "step.row_residual_1",
    "norm_1": "step.row_norm_1",
    "ffn_hidden": "step.row_ffn_hidden",
    "ffn_output": "step.row_ffn_output",
    "residual_2": "step.row_residual_2",
    "layer_output": "step.row_layer_output",
}
QKV_FIGURE_KEYS = {"query": "stepfig.query", "key": "stepfig.key", "value": "stepfig.value"}
SHOWN_DIMENSIONS = 8  # numbers shown per vector in a table (the API returns whole rows)
MAX_KEY_ROWS = 24  # a table of 128 keys is unreadable on a projector (and slow to draw); the API has every key
SEED_RANGE = (0, 2**31 - 1)
QUADRATIC_LENGTHS = (16, 32, 64, 128, 256, 512)
# Chapter 3.6's table (layers, hidden size, heads, parameters); d_ff = 4 x hidden, d_k = hidden / heads.
BERT_SIZES = (("BERT-Base", 12, 768, 12, "110M"), ("BERT-Large", 24, 1024, 16, "340M"))
# What the chapter prints for weights[0] of its example (section 3.2), quoted as it stands.
CHAPTER_PRINTED = """[[0.21 0.19 0.20 0.18 0.22]
[0.20 0.21 0.19 0.20 0.20]
[0.19 0.20 0.21 0.20 0.20]
[0.20 0.20 0.19 0.21 0.20]
[0.22 0.18 0.20 0.19 0.21]]"""


_STEP_CACHE_SIZE = 8  # ~10 MB each at 512 MiniLM tokens; the query token and the step only pick rows
_steps: OrderedDict[tuple, tuple[Analysis, stepwise.StepThrough]] = OrderedDict()
_steps_lock = threading.Lock()


def _step_through(key: AnalysisKey, layer: int, head: int) -> stepwise.StepThrough:
    """The step-through of ``key``'s cached analysis, kept while that very analysis is the cached one."""
    analysis = backend.run(key)
    with _steps_lock:
        found = _steps.get((key, layer, head))
        if found is not None and found[0] is analysis:
            _steps.move_to_end((key, layer, head))
            return found[1]
    through = stepwise.step_through(analysis, weights.block_weights(analysis.model_name, layer), layer, head)
    with _steps_lock:
        _steps[(key, layer, head)] = (analysis, through)
        while len(_steps) > _STEP_CACHE_SIZE:
            _steps.popitem(last=False)
    return through


def step_through(
    analysis_or_text: Analysis | str, layer: int = 0, head: int = 0, query: int = 0, model: str | None = None
) -> dict:
    """The ``/step`` JSON of one head: every stage's shape and the query token's row, and the distances to the model.

    ``analysis_or_text``: an ``Analysis`` (its model is used) or a text (analysed with ``model``).
    """
    if isinstance(analysis_or_text, Analysis):
        analysis = analysis_or_text
        layer = check_index(layer, analysis.n_layers, "layer")
        step = stepwise.step_through(analysis, weights.block_weights(analysis.model_name, layer), layer, head)
        return stage_json(step, fit_index(query, step.n_tokens, "token", False)[0])
    return present(analysis_or_text, model, layer, head, query).api()


def stage_json(step: stepwise.StepThrough, query: int) -> dict:
    return {
        "model": step.model_name,
        "layer": step.layer,
        "head": step.head,
        "query": query,
        "tokens": list(step.tokens),
        "d_model": step.d_model,
        "d_k": step.d_k,
        "d_ff": step.d_ff,
        "stages": [
            {"name": name, "shape": list(matrix.shape), "row": rounded(matrix[query], 6)} for name, matrix in step.stages.items()
        ],
        "max_abs_diff_weights": step.max_abs_diff_weights,
        "max_abs_diff_layer_output": step.max_abs_diff_layer_output,
        "attention_storage": step.storage_dtype,
    }


@dataclass(frozen=True)
class StepPanel:
    """What the tab shows for one step and one query token."""

    step: str
    formula: Msg  # Markdown with LaTeX
    figure: PlotlySpec
    numbers: Table
    stack: PlotlySpec
    check: Msg  # what was measured against the model, or what to notice
    summary: Msg  # the status line: model, layer, head, and the two distances to the model


@dataclass(frozen=True)
class StepResult(LayerHeadResult):
    step_through: stepwise.StepThrough
    token_choices: list[tuple[str, int]]
    query: int
    panel: StepPanel

    def api(self) -> dict:
        return {**stage_json(self.step_through, self.query), **self.messages()}


def _sizes(step: stepwise.StepThrough) -> dict:
    counts = weights.parameter_counts(step.model_name)
    return dict(
        layers=step.n_layers,
        heads=step.n_heads,
        d_model=step.d_model,
        d_k=step.d_k,
        d_ff=step.d_ff,
        tokens=step.n_tokens,
        vocab=load_model(step.model_name).tokenizer.vocab_size,
        params=f"{counts['total'] / 1e6:.1f}M",
        embedding_params=f"{counts['embeddings'] / 1e6:.2f}M",
        attention_params=f"{counts['attention_per_layer'] / 1e6:.2f}M",
        ffn_params=f"{counts['ffn_per_layer'] / 1e6:.2f}M",
        layer_params=f"{counts['per_layer'] / 1e6:.2f}M",
        layer=step.layer,
    )


def _vector_table(rows: list[tuple[Msg, np.ndarray]]) -> Table:
    """The query token's vectors side by side: one column per quantity, its first dimensions, then its norm."""
    width = min(SHOWN_DIMENSIONS, max(len(vector) for _, vector in rows))
    body: list[list] = [
        [Msg("step.col_dim", dim=i), *(round(float(vector[i]), 4) if i < len(vector) else "" for _, vector in rows)]
        for i in range(width)
    ]
    body.append([Msg("step.col_norm"), *(round(float(np.linalg.norm(vector)), 4) for _, vector in rows)])
    return Table((Msg("step.col_dimension"), *(name for name, _ in rows)), body)


def _cell(value) -> float | str:
    return value if isinstance(value, str) else round(float(value), 4)


def _key_table(
    step: stepwise.StepThrough,
    columns: tuple[Msg, ...],
    values: list,
    rank_by: np.ndarray | None = None,
    pads: np.ndarray | None = None,
) -> Table:
    """One row per key token; past ``MAX_KEY_ROWS`` keys, those with the largest ``rank_by`` (or, without it,
    the first and last ones, where padding is), in token order, and a row saying how many are left out."""
    keys = np.arange(step.n_tokens)
    if step.n_tokens > MAX_KEY_ROWS:
        if rank_by is None:
            keys = np.r_[keys[: MAX_KEY_ROWS // 2], keys[-(MAX_KEY_ROWS // 2) :]]
        else:
            keys = np.sort(np.argsort(-np.asarray(rank_by, dtype=np.float64), kind="stable")[:MAX_KEY_ROWS])
    labels = [step.labels[k] if pads is None or pads[k] else f"{k} [PAD]" for k in keys]
    rows = [[label, *(_cell(v[k]) for v in values)] for label, k in zip(labels, keys, strict=True)]
    return Table((Msg("step.col_key"), *columns), rows)


def _with_subset(check: Msg, step: stepwise.StepThrough, ranked: bool) -> Msg:
    """Say when the key table shows only some keys, and which."""
    if step.n_tokens <= MAX_KEY_ROWS:
        return check
    which = "step.more_keys_ranked" if ranked else "step.more_keys_ends"
    return Msg("step.check_and", first=check, second=Msg(which, shown=MAX_KEY_ROWS, total=step.n_tokens))


def panel(step: stepwise.StepThrough, query: int, name: str, causal: bool = False) -> StepPanel:
    """One step for one query token, from the step-through (no model call)."""
    if name not in STEPS:
        raise InputError("step.unknown_step", step=str(name), steps=", ".join(STEPS))
    query = fit_index(query, step.n_tokens, "token", False)[0]
    causal = check_flag(causal, "causal")
    s, labels, q = step.stages, list(step.labels), query
    where = dict(layer=step.layer, head=step.head, token=step.labels[q])
    sizes = _sizes(step)
    dims = dict(
        d_model=step.d_model,
        d_k=step.d_k,
        d_ff=step.d_ff,
        heads=step.n_heads,
        tokens=step.n_tokens,
        sqrt_d_k=f"{np.sqrt(step.d_k):.2f}",
    )
    panels: list[step_views.Panel]
    if name == "input":
        panels = [step_views.Panel(s["input"], Msg("stepfig.x", **dims))]
        numbers = _vector_table([(Msg("step.row_x", token=labels[q]), s["input"][q])])
        check = Msg("step.check_input", layer=step.layer, **dims)
    elif name == "qkv":
        panels = [step_views.Panel(s[n], Msg(QKV_FIGURE_KEYS[n], **dims)) for n in ("query", "key", "value")]
        numbers = _vector_table([(Msg(ROW_KEYS[n], token=labels[q]), s[n][q]) for n in ("query", "key", "value")])
        check = Msg("step.check_qkv", **dims)
    elif name == "scores":
        unscaled, scaled = step.unscaled_weights, s["weights"]
        panels = [
            step_views.Panel(unscaled, Msg("stepfig.unscaled"), labels, "weights"),
            step_views.Panel(scaled, Msg("stepfig.scaled", **dims), labels, "weights"),
        ]
        columns = (Msg("step.col_score"), Msg("step.col_scaled", **dims), Msg("step.col_weight_unscaled"), Msg("step.col_weight"))
        numbers = _key_table(step, columns, [s["scores"][q], s["scaled_scores"][q], unscaled[q], scaled[q]], scaled[q])
        check = Msg(
            "step.check_scores",
            entropy_unscaled=f"{stepwise.entropy(unscaled).mean():.2f}",
            entropy_scaled=f"{stepwise.entropy(scaled).mean():.2f}",
            uniform=f"{np.log(step.n_tokens):.2f}",
            max_unscaled=f"{unscaled.max(axis=-1).mean():.2f}",
            max_scaled=f"{scaled.max(axis=-1).mean():.2f}",
        )
        check = _with_subset(check, step, ranked=True)
    elif name == "masks":
        pair = stepwise.padded_pair(step)
        second = (
            step_views.Panel(stepwise.causal_weights(step), Msg("stepfig.causal"), labels, "weights")
            if causal
            else step_views.Panel(s["weights"], Msg("stepfig.no_mask"), labels, "weights")
        )
        padded_labels = [label if pair.key_mask[i] else f"{i} [PAD]" for i, label in enumerate(labels)]
        panels = [step_views.Panel(pair.weights, Msg("stepfig.padded", length=pair.length), padded_labels, "weights"), second]
        row = min(q, pair.length - 1)
        added = ["0" if value == 0 else f"{value:.2e}" for value in pair.additive]  # float32's minimum, written short
        values = [[str(int(m)) for m in pair.key_mask], added, pair.weights[row]]
        columns: tuple[Msg, ...] = (Msg("step.col_mask"), Msg("step.col_added"), Msg("step.col_weight_padded", row=row))
        if causal:
            causal_row = stepwise.causal_weights(step)[q]
            values.append(causal_row)
            columns += (Msg("step.col_weight_causal"),)
        numbers = _key_table(step, columns, values, pads=pair.key_mask)  # the first and the last keys: the padding
        check = Msg("step.check_masks", length=pair.length, tokens=step.n_tokens, difference=f"{pair.max_abs_diff:.1e}")
        if row != q:  # the chosen query is a [PAD] row of the shorter input
            check = Msg("step.check_and", first=check, second=Msg("step.query_is_pad", token=labels[q], row=row))
        if causal:
            check = Msg("step.check_masks_causal", masks=check)
        check = _with_subset(check, step, ranked=False)
    elif name == "weights":
        panels = [
            step_views.Panel(s["weights"], Msg("stepfig.ours"), labels, "weights"),
            step_views.Panel(step.model_weights, Msg("stepfig.model", dtype=step.storage_dtype), labels, "weights"),
        ]
        difference = np.abs(s["weights"][q] - step.model_weights[q])
        numbers = _key_table(
            step,
            (Msg("step.col_weight"), Msg("step.col_model"), Msg("step.col_difference")),
            [s["weights"][q], step.model_weights[q], difference],
            s["weights"][q],
        )
        check = Msg("step.check_weights", difference=f"{step.max_abs_diff_weights:.1e}", dtype=step.storage_dtype)
        check = _with_subset(check, step, ranked=True)
    elif name == "head_output":
        panels = [
            step_views.Panel(s["head_output"], Msg("stepfig.head_output", **dims)),
            step_views.Panel(s["norm_1"], Msg("stepfig.norm_1", **dims)),
        ]
        numbers = _vector_table(
            [(Msg(ROW_KEYS[n], token=labels[q]), s[n][q]) for n in ("head_output", "concat", "projected", "residual_1", "norm_1")]
        )
        check = Msg("step.check_head_output", **dims)
    elif name == "ffn":
        panels = [
            step_views.Panel(s["ffn_hidden"], Msg("stepfig.ffn_hidden", activation=step.activation, **dims)),
            step_views.Panel(s["layer_output"], Msg("stepfig.layer_output", **dims)),
        ]
        rows = [(Msg(ROW_KEYS[n], token=labels[q]), s[n][q]) for n in ("ffn_hidden", "ffn_output", "residual_2", "layer_output")]
        rows.append((Msg("step.row_model_next", layer=step.layer + 1, token=labels[q]), step.model_next_hidden[q]))
        numbers = _vector_table(rows)
        active = float((s["ffn_hidden"][q] > 0).mean())
        check = Msg(
            "step.check_ffn",
            difference=f"{step.max_abs_diff_layer_output:.1e}",
            next=step.layer + 1,
            active=f"{active:.0%}",
            **dims,
        )
    else:  # the encoder stack: where the parameters are
        panels = []
        counts = weights.parameter_counts(step.model_name)
        numbers = Table(
            (
                Msg("step.col_model_name"),
                Msg("step.col_layers"),
                Msg("step.col_hidden"),
                Msg("step.col_heads"),
                Msg("step.col_dk"),
                Msg("step.col_dff"),
                Msg("step.col_params"),
            ),
            [[n, layers, hidden, heads, hidden // heads, 4 * hidden, params] for n, layers, hidden, heads, params in BERT_SIZES]
            + [[step.model_name, step.n_layers, step.d_model, step.n_heads, step.d_k, step.d_ff, sizes["params"]]],
        )
        check = Msg("step.check_stack", **sizes)
    stack = step_views.encoder_stack(sizes, STACK_PART[name])
    title = Msg("step.titled", title=Msg(TITLE_KEYS[name]), **where)
    if panels:
        figure = step_views.panels_figure(panels, labels, title, query=q)
    else:
        figure = step_views.parameter_bars(counts, title)
    summary = Msg(
        "step.summary",
        model=step.model_name,
        layer=step.layer,
        head=step.head,
        tokens=step.n_tokens,
        weights=f"{step.max_abs_diff_weights:.1e}",
        output=f"{step.max_abs_diff_layer_output:.1e}",
    )
    return StepPanel(name, Msg(FORMULA_KEYS[name], **dims, layer=step.layer), figure, numbers, stack, check, summary)


def present(
    text: str,
    model: str | None = None,
    layer: int = 0,
    head: int = 0,
    query: int = 0,
    step: str = "input",
    causal: bool = False,
    fit: bool = False,
) -> StepResult:
    """Analyse ``text`` (cached), recompute block ``layer`` for head ``head``, show step ``step`` for token ``query``."""
    analysis, warnings = analysis_for(text, model)
    layer, head, fitted = fit_layer_head(layer, head, analysis, fit)
    query, fitted_query = fit_index(query, analysis.n_tokens, "token", fit)
    through = _step_through(analysis_key(analysis), layer, head)
    return StepResult(
        **layer_head(analysis, layer, head),
        step_through=through,
        token_choices=token_choices(analysis),
        query=query,
        panel=(shown := panel(through, query, step, causal)),
        lines=(shown.summary, *fitted, *fitted_query, *analysis.notes),
        warnings=warnings,
    )


def analysis_key(analysis: Analysis) -> AnalysisKey:
    return AnalysisKey(analysis.model_name, analysis.text, analysis.pair, analysis.intervention)


def view(key: AnalysisKey, layer: int, head: int, query: int = 0, step: str = "input", causal: bool = False) -> StepPanel:
    """Redraw from the cached analysis and step-through of ``key``: no forward pass."""
    analysis = backend.run(key)
    layer, head, _ = fit_layer_head(layer, head, analysis, False)
    return panel(_step_through(key, layer, head), query or 0, step, causal)


# ---------------------------------------------------------------- the chapter's toy example (3.2)


@dataclass(frozen=True)
class ToyResult(Result):
    toy: stepwise.Toy
    figure: PlotlySpec
    printed: str  # what the chapter's code prints for weights[0]
    chapter_printed: str  # what the chapter shows
    numbers: Table


def toy_view(seed: int = 0) -> ToyResult:
    """The chapter's example with ``np.random.seed(seed)``: each step, and why its printed weights differ from the book's."""
    seed = whole_number(seed, "seed")
    if not SEED_RANGE[0] <= seed <= SEED_RANGE[1]:
        raise InputError("index.not_between", what=Msg("word.seed"), value=seed, low=SEED_RANGE[0], high=SEED_RANGE[1])
    example = stepwise.toy(seed)
    labels = [f"{i}" for i in range(example.weights.shape[-1])]
    panels = [
        step_views.Panel(example.scaled_scores[0], Msg("stepfig.toy_scores", d_k=example.d_k), labels),
        step_views.Panel(example.weights[0], Msg("stepfig.toy_weights", d_k=example.d_k), labels, "weights"),
        step_views.Panel(example.weights_over_d_k[0], Msg("stepfig.toy_over_d_k", d_k=example.d_k), labels, "weights"),
    ]
    figure = step_views.panels_figure(panels, labels, Msg("step.toy_title", seed=seed), height=440)
    rows = []
    for i in range(example.weights.shape[-1]):
        rows.append(
            [
                i,
                round(float(example.weights[0, i].max()), 4),
                round(float(stepwise.entropy(example.weights[0, i])), 3),
                round(float(example.weights_over_d_k[0, i].max()), 4),
            ]
        )
    numbers = Table((Msg("step.col_row"), Msg("step.col_max_sqrt"), Msg("step.col_entropy"), Msg("step.col_max_d_k")), rows)
    note = Msg(
        "step.toy_note",
        std=f"{example.scaled_scores.std():.2f}",
        max_sqrt=f"{example.weights.max(axis=-1).mean():.2f}",
        max_d_k=f"{example.weights_over_d_k.max(axis=-1).mean():.2f}",
        d_k=example.d_k,
    )
    return ToyResult(example, figure, example.printed, CHAPTER_PRINTED, numbers, lines=(note,))


# ---------------------------------------------------------------- cross-attention (問題1)


@dataclass(frozen=True)
class CrossResult(Result):
    figure: PlotlySpec
    self_figure: PlotlySpec
    cross: stepwise.CrossAttention


def cross_view(key: AnalysisKey, other: str, layer: int, head: int) -> CrossResult:
    """Queries from the analysed text, keys and values from ``other`` (same model, layer, head's projections)."""
    first = backend.run(key)
    other = check_text(other, "other")
    second, warnings = analysis_for(other, first.model_name)
    layer, head, _ = fit_layer_head(layer, head, first, False)
    block = weights.block_weights(first.model_name, layer)
    cross = stepwise.cross_attention(first, second, block, layer, head)
    through = _step_through(key, layer, head)
    where = dict(layer=layer, head=head)
    figure = step_views.panels_figure(
        [step_views.Panel(cross.weights, Msg("stepfig.cross"), list(cross.key_labels), "weights")],
        list(cross.query_labels),
        Msg("step.cross_title", **where),
    )
    self_figure = step_views.panels_figure(
        [step_views.Panel(through.stages["weights"], Msg("stepfig.self"), list(through.labels), "weights")],
        list(through.labels),
        Msg("step.self_title", **where),
    )
    note = Msg("step.cross_note", queries=len(cross.query_labels), keys=len(cross.key_labels))
    return CrossResult(figure, self_figure, cross, lines=(note, *second.notes), warnings=warnings)


# ---------------------------------------------------------------- why quadratic (3.1)


@dataclass(frozen=True)
class QuadraticResult(Result):
    lengths: tuple[int, ...]
    seconds: tuple[float, ...]
    attention_bytes: tuple[int, ...]
    figure: PlotlySpec

    def api(self) -> dict:
        return {"lengths": list(self.lengths), "seconds": list(self.seconds), "attention_bytes": list(self.attention_bytes)}


QUADRATIC_TEXT = "Attention compares every token with every other token, so its cost grows with the square of the length. "


def measure_quadratic(model: str | None = None, repeats: int = 3) -> QuadraticResult:
    """Time the forward pass (best of ``repeats``) and size the attention maps for T = 16 … 512 tokens, here and now."""
    (loaded, warnings) = _loaded(model)
    lengths = tuple(t for t in QUADRATIC_LENGTHS if t <= loaded.max_length)
    text = QUADRATIC_TEXT * 40  # > 512 tokens in any of the offered tokenizers
    seconds, sizes = [], []
    for length in lengths:
        batch = backend.preprocess(loaded, text, max_length=length)
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            output = backend.forward(loaded, batch)
            best = min(best, time.perf_counter() - start)
        seconds.append(best)
        sizes.append(int(sum(a.numel() * a.element_size() for a in output.attentions)))
    figure = step_views.quadratic(lengths, seconds, sizes, Msg("step.quadratic_title", model=loaded.spec.name))
    ratio = seconds[-1] / seconds[0] if seconds and seconds[0] > 0 else float("nan")
    note = Msg(
        "step.quadratic_note",
        shortest=lengths[0],
        longest=lengths[-1],
        ms_short=f"{seconds[0] * 1000:.1f}",
        ms_long=f"{seconds[-1] * 1000:.1f}",
        ratio=f"{ratio:.0f}",
        mib=f"{sizes[-1] / 1024**2:.1f}",
        device=str(loaded.device),
        crossover=6 * int(getattr(loaded.model.config, "hidden_size", None) or loaded.model.config.dim),
    )
    return QuadraticResult(lengths, tuple(seconds), tuple(sizes), figure, lines=(note,), warnings=warnings)


def _loaded(model: str | None):
    from .common import with_fallback

    return with_fallback(load_model, model, None)
