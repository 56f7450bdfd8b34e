"""Attention tab: one head, its query row, the mean over heads, all heads; bertviz; the numpy check (3.2, 3.3)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import backend, bertviz_views, scratch, views
from ..analysis import Analysis, AnalysisKey, check_flag, check_index
from ..messages import Msg
from .common import LayerHeadResult, Result, analysis_for, fit_index, fit_layer_head, layer_head, rounded, token_choices


@dataclass(frozen=True)
class AttentionView:
    head: views.PlotlySpec
    row: views.PlotlySpec
    mean: views.PlotlySpec
    grid: views.PlotlySpec
    weights: np.ndarray  # (T', T') the head's weights as drawn
    tokens: tuple[str, ...]  # the drawn tokens


@dataclass(frozen=True)
class AttentionResult(LayerHeadResult):
    token_choices: list[tuple[str, int]]
    query: int
    view: AttentionView

    def api(self) -> dict:
        return {
            "model": self.key.model,
            "layers": self.n_layers,
            "heads": self.n_heads,
            "layer": self.layer,
            "head": self.head,
            "query": self.query,
            "tokens": list(self.view.tokens),
            "weights": rounded(self.view.weights),
            **self.messages(),
        }


def visible_tokens(analysis: Analysis, hide_special: bool) -> np.ndarray:
    """Indices of the tokens to draw; all of them unless special tokens are hidden."""
    if hide_special and not analysis.special_mask.all():
        return np.flatnonzero(~analysis.special_mask)
    return np.arange(analysis.n_tokens)


def crop(weights: np.ndarray, keep: np.ndarray, renormalize: bool) -> np.ndarray:
    """Keep rows/columns ``keep`` of ``(..., T, T)`` weights; optionally rows sum to 1 again."""
    cropped = weights[..., keep, :][..., :, keep]
    if renormalize:
        cropped = cropped / np.maximum(cropped.sum(axis=-1, keepdims=True), 1e-12)
    return cropped


def attention_view(
    analysis: Analysis, layer: int, head: int, query: int = 0, hide_special: bool = False, renormalize: bool = False
) -> AttentionView:
    """All attention figures for one (layer, head) of a cached analysis: no forward pass."""
    layer = check_index(layer, analysis.n_layers, "layer")
    head = check_index(head, analysis.n_heads, "head")
    query = check_index(query, analysis.n_tokens, "token")
    keep = visible_tokens(analysis, hide_special)
    all_labels = analysis.token_labels()
    labels = [all_labels[i] for i in keep]
    layer_weights = crop(analysis.attention(layer).astype(np.float32), keep, renormalize)  # (H, T', T')
    hidden = len(keep) < analysis.n_tokens
    suffix = Msg("att.suffix_renormalised" if renormalize else "att.suffix_hidden") if hidden else ""
    # The chosen query may be a hidden special token: fall back to the first visible one.
    query_position = int(np.searchsorted(keep, query)) if query in keep else 0
    return AttentionView(
        head=views.attention_heatmap(
            layer_weights[head], labels, title=Msg("att.title_head", layer=layer, head=head, suffix=suffix)
        ),
        row=views.attention_row(
            layer_weights[head, query_position],
            labels,
            title=Msg("att.title_row", layer=layer, head=head, token=labels[query_position]),
        ),
        mean=views.attention_heatmap(
            layer_weights.mean(axis=0), labels, title=Msg("att.title_mean", layer=layer, heads=analysis.n_heads, suffix=suffix)
        ),
        grid=views.head_grid(layer_weights, labels, title=Msg("att.title_grid", layer=layer, heads=analysis.n_heads)),
        weights=layer_weights[head],
        tokens=tuple(analysis.tokens[i] for i in keep),
    )


def present(
    text: str,
    model: str | None = None,
    layer: int = 0,
    head: int = 0,
    query: int = 0,
    hide_special: bool = False,
    renormalize: bool = False,
    fit: bool = False,
) -> AttentionResult:
    """Analyse ``text`` (cached) and draw one layer/head. ``fit``: clamp indices kept from another model."""
    hide_special, renormalize = check_flag(hide_special, "hide_special"), check_flag(renormalize, "renormalize")
    analysis, warnings = analysis_for(text, model)
    layer, head, fitted = fit_layer_head(layer, head, analysis, fit)
    query, _ = fit_index(query, analysis.n_tokens, "token", fit)
    summary = Msg(
        "att.summary", model=analysis.model_name, layers=analysis.n_layers, heads=analysis.n_heads, tokens=analysis.n_tokens
    )
    return AttentionResult(
        **layer_head(analysis, layer, head),
        token_choices=token_choices(analysis),
        query=query,
        view=attention_view(analysis, layer, head, query, hide_special, renormalize),
        lines=(summary, *fitted, *analysis.notes),
        warnings=warnings,
    )


def view(
    key: AnalysisKey, layer: int, head: int, query: int = 0, hide_special: bool = False, renormalize: bool = False
) -> AttentionView:
    """Redraw from the cached analysis of ``key``: no forward pass."""
    return attention_view(backend.run(key), layer, head, query or 0, hide_special, renormalize)


def scratch_check(key: AnalysisKey, layer: int) -> Msg:
    """Recompute a layer's attention with the chapter's numpy formulas and say how close it is.

    Input to layer ``l`` is ``hidden_states[l]``; the weights are the model's own. The stated
    precision is the storage precision of this analysis (float32 up to 12 x 12 heads x 512 tokens).
    """
    analysis = backend.run(key)
    layer = check_index(layer, analysis.n_layers, "layer")
    params = backend.self_attention_weights(analysis.model_name, layer)
    X = analysis.hidden_states[layer].astype(np.float64)  # noqa: N806 (the chapter's name)
    _, weights = scratch.multi_head_self_attention(
        X, params["W_Q"], params["W_K"], params["W_V"], int(params["num_heads"]), params["b_Q"], params["b_K"], params["b_V"]
    )
    difference = float(np.abs(weights - analysis.attention(layer)).max())
    dtype = str(analysis.attentions.dtype)
    return Msg(
        "att.check", layer=layer, difference=f"{difference:.2e}", heads=analysis.n_heads, tokens=analysis.n_tokens, dtype=dtype
    )


@dataclass(frozen=True)
class BertvizResult(Result):
    rendered: bertviz_views.BertvizView

    def api(self) -> dict:
        return {
            "html": self.rendered.html,
            "layers": list(self.rendered.layers),
            "tokens": self.rendered.n_tokens,
            "threshold": self.rendered.threshold,
            "bytes": self.rendered.total_bytes,
            **self.messages(),
        }


def bertviz(text: str, model: str | None = None, layer: int = 0, kind: str = "head") -> BertvizResult:
    analysis, warnings = analysis_for(text, model)
    return bertviz_of(analysis, layer, kind, warnings)


def bertviz_of(analysis: Analysis, layer: int, kind: str, warnings: tuple = ()) -> BertvizResult:
    layer = check_index(layer, analysis.n_layers, "layer")
    rendered = bertviz_views.render(analysis, kind, layer)
    return BertvizResult(rendered, lines=analysis.notes + rendered.notes, warnings=warnings)


def bertviz_view(key: AnalysisKey, layer: int, kind: str) -> BertvizResult:
    """bertviz of the cached analysis of ``key``: no forward pass."""
    return bertviz_of(backend.run(key), layer, kind)
