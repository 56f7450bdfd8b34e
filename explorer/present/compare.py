"""Compare tab: two inputs, one model, side by side — and which heads changed most.

Presets follow the chapter: "…because it was too tired" / "…too wide" (which noun "it" attends to),
and a word-order shuffle with and without the model's position embeddings (問題2: without them
the shuffled sentence gets the same attention, permuted — the difference is zero).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import backend, compare, compare_views, readability, views
from ..analysis import Analysis, AnalysisKey, check_flag
from ..interventions import PositionsOff
from ..messages import Msg
from ..models import resolve
from ..tasks import ner as ner_task
from ..tasks.sentiment import class_probabilities
from .common import LayerHeadResult, Table, fit_layer_head, key_of, with_fallback
from .sentiment import class_name

TOP_HEADS = 3  # heads named in the summary line
TOP_TABLE = 8  # rows of the heads table


@dataclass(frozen=True)
class CompareView:
    heatmap_a: views.PlotlySpec
    heatmap_b: views.PlotlySpec
    difference: views.PlotlySpec


@dataclass(frozen=True)
class CompareResult(LayerHeadResult):
    key_b: AnalysisKey
    alignment: compare.Alignment
    divergence: np.ndarray  # (L, H) Jensen–Shannon divergence, bits
    outputs: Table | None
    heads: Table
    view: CompareView
    grid: views.PlotlySpec

    def api(self) -> dict:
        return {
            "model": self.key.model,
            "text_a": self.key.text,
            "text_b": self.key_b.text,
            "positions_off": isinstance(self.key.intervention, PositionsOff),
            "alignment": {
                "kind": self.alignment.kind,
                "units": list(self.alignment.labels),
                "a_tokens": [list(unit) for unit in self.alignment.a_units],
                "b_tokens": [list(unit) for unit in self.alignment.b_units],
                "unmatched_a": self.alignment.unmatched_a,
                "unmatched_b": self.alignment.unmatched_b,
            },
            "layer": self.layer,
            "head": self.head,
            "divergence": np.round(self.divergence, 6).tolist(),
            "outputs": None if self.outputs is None else self.outputs.records(),
            **self.messages(),
        }


def intervention_for(positions_off: bool) -> PositionsOff | None:
    return PositionsOff() if positions_off else None


def analyses(text_a: str, text_b: str, model: str | None, positions_off: bool) -> tuple[Analysis, Analysis, tuple[Msg, ...]]:
    """Both analyses (cached), with the same model: a fallback for one is a fallback for both."""
    intervention = intervention_for(positions_off)

    def run(name: str) -> tuple[Analysis, Analysis]:
        return backend.analyze(text_a, name, intervention), backend.analyze(text_b, name, intervention)

    task = resolve(model).task if model else None
    (a, b), warnings = with_fallback(run, model, task)
    return a, b, warnings + readability.check([a, b], task)[1]


def task_outputs(a: Analysis, b: Analysis) -> Table | None:
    """The task head's answer for both texts: sentiment probabilities, or the entities found."""
    task = resolve(a.model_name).task
    if task == "sentiment":
        pa, pb = class_probabilities(a), class_probabilities(b)
        rows = [[name, round(pa[name], 4), round(pb[name], 4), round(pb[name] - pa[name], 4)] for name in pa]
        columns = (Msg("compare.col.class"), Msg("compare.col.a"), Msg("compare.col.b"), Msg("compare.col.change"))
        return Table(columns, rows)
    if task == "ner":
        found = [ner_task.entities(analysis, "simple") for analysis in (a, b)]
        rows = [
            [side, entity.text, entity.type, round(entity.score, 4)]
            for side, entities in zip(("A", "B"), found, strict=True)
            for entity in entities
        ]
        columns = (Msg("compare.col.side"), Msg("compare.col.entity"), Msg("compare.col.type"), Msg("compare.col.score"))
        return Table(columns, rows)
    return None


def outputs_line(outputs: Table | None, task: str | None) -> Msg | None:
    """The task outputs in one status line (the table is for the API)."""
    if outputs is None:
        return None
    if task == "sentiment":
        best = {side: max(outputs.rows, key=lambda row, i=i: row[i]) for side, i in (("a", 1), ("b", 2))}
        return Msg(
            "compare.outputs_sentiment",
            a=class_name(best["a"][0]),
            pa=f"{best['a'][1]:.1%}",
            b=class_name(best["b"][0]),
            pb=f"{best['b'][2]:.1%}",
        )
    listed = {
        side: ", ".join(f"{text} ({kind})" for row_side, text, kind, _ in outputs.rows if row_side == side)
        or Msg("compare.no_entities")
        for side in ("A", "B")
    }
    return Msg("compare.outputs_ner", a=listed["A"], b=listed["B"])


def top_heads(divergence: np.ndarray, count: int = TOP_TABLE) -> Table:
    order = np.argsort(-divergence, axis=None, kind="stable")[:count]
    rows = [
        [int(layer), int(head), round(float(divergence[layer, head]), 4)]
        for layer, head in zip(*np.unravel_index(order, divergence.shape), strict=True)
    ]
    return Table((Msg("compare.col.layer"), Msg("compare.col.head"), Msg("compare.col.divergence")), rows)


def alignment_of(a: Analysis, b: Analysis) -> compare.Alignment:
    return compare.align(a.tokens, b.tokens, a.special_mask.tolist(), b.special_mask.tolist())


def compare_view(a: Analysis, b: Analysis, alignment: compare.Alignment, layer: int, head: int) -> CompareView:
    weights_a, weights_b = a.attention(layer, head), b.attention(layer, head)
    aligned_a, aligned_b = compare.aligned_pair(weights_a, weights_b, alignment)
    zmax = float(max(weights_a.max(), weights_b.max(), 1e-6))  # one colour scale for both sides
    where = Msg("compare.where", layer=layer, head=head)
    return CompareView(
        heatmap_a=views.attention_heatmap(weights_a, a.token_labels(), title=Msg("compare.title_a", where=where), zmax=zmax),
        heatmap_b=views.attention_heatmap(weights_b, b.token_labels(), title=Msg("compare.title_b", where=where), zmax=zmax),
        difference=compare_views.difference_heatmap(
            aligned_b - aligned_a,
            list(alignment.labels),
            Msg("compare.title_difference", where=where, kind=Msg(f"compare.kind.{alignment.kind}")),
        ),
    )


def summary_lines(
    a: Analysis, b: Analysis, alignment: compare.Alignment, divergence: np.ndarray, positions_off: bool
) -> tuple[Msg, ...]:
    lines = [
        Msg(
            f"compare.aligned.{alignment.kind}",
            units=alignment.size,
            dropped_a=alignment.unmatched_a,
            dropped_b=alignment.unmatched_b,
        )
    ]
    order = np.argsort(-divergence, axis=None, kind="stable")[:TOP_HEADS]
    top = ", ".join(
        f"L{layer}.H{head} ({divergence[layer, head]:.3f})"
        for layer, head in zip(*np.unravel_index(order, divergence.shape), strict=True)
    )
    lines.append(Msg("compare.summary", model=a.model_name, top=top, mean=f"{float(divergence.mean()):.3f}"))
    if positions_off:
        lines.append(Msg("compare.positions_off"))
    return tuple(lines) + a.notes + b.notes


def present(
    text_a: str,
    text_b: str,
    model: str | None = None,
    layer: int = 0,
    head: int = 0,
    positions_off: bool = False,
    fit: bool = False,
) -> CompareResult:
    positions_off = check_flag(positions_off, "positions_off")
    a, b, warnings = analyses(text_a, text_b, model, positions_off)
    layer, head, fitted = fit_layer_head(layer, head, a, fit)
    alignment = alignment_of(a, b)
    aligned_a, aligned_b = compare.aligned_pair(a.attentions, b.attentions, alignment)
    divergence = compare.head_divergence(aligned_a, aligned_b)
    outputs = task_outputs(a, b)
    said = outputs_line(outputs, resolve(a.model_name).task)
    grid = compare_views.divergence_grid(divergence, Msg("compare.title_grid"), selected=(layer, head))
    return CompareResult(
        key=key_of(a),
        key_b=key_of(b),
        n_layers=a.n_layers,
        n_heads=a.n_heads,
        layer=layer,
        head=head,
        alignment=alignment,
        divergence=divergence,
        outputs=outputs,
        heads=top_heads(divergence),
        view=compare_view(a, b, alignment, layer, head),
        grid=grid,
        lines=(said,) * (said is not None) + summary_lines(a, b, alignment, divergence, positions_off),
        warnings=warnings + fitted,
    )


def view(key_a: AnalysisKey, key_b: AnalysisKey, layer: int, head: int) -> tuple[CompareView, views.PlotlySpec]:
    """Redraw for another layer/head from the cached analyses (no forward pass)."""
    a, b = backend.run(key_a), backend.run(key_b)
    layer, head, _ = fit_layer_head(layer, head, a, True)
    alignment = alignment_of(a, b)
    aligned_a, aligned_b = compare.aligned_pair(a.attentions, b.attentions, alignment)
    grid = compare_views.divergence_grid(
        compare.head_divergence(aligned_a, aligned_b), Msg("compare.title_grid"), selected=(layer, head)
    )
    return compare_view(a, b, alignment, layer, head), grid
