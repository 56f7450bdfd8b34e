"""Attention tab: one head, its query row, the mean over heads, all heads; bertviz; the numpy check (3.2, 3.3).

Every heatmap reads either the weights ``alpha_ij`` or, with ``norms``, the norms
``||alpha_ij f(x_j)||`` (Kobayashi et al. 2020; ``explorer.norms``): the same cells, each weight
times the norm of the value vector it mixes in. The special-token share is given under both.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import backend, bertviz_views, japanese, readability, scratch, views
from ..analysis import Analysis, AnalysisKey, check_flag, check_index
from ..errors import InputError
from ..messages import Msg
from ..models import load_model
from ..norms import weighted_norms
from .common import LayerHeadResult, Result, analysis_for, fit_index, fit_layer_head, layer_head, rounded, token_choices


@dataclass(frozen=True)
class SpecialShares:
    """Share of each query row's total that goes to the special tokens ([CLS], [SEP]...), mean over the
    rows, for one head and for the mean of its layer's heads, as weights and as norms (``None`` when the
    analysis has no value norms). Measured on all tokens, whatever the view hides."""

    layer: int
    head: int
    n_heads: int
    head_weights: float
    layer_weights: float
    head_norms: float | None
    layer_norms: float | None

    def message(self) -> Msg:
        if self.head_norms is None or self.layer_norms is None:
            return Msg("att.special_share_weights", layer=self.layer, head=self.head, weights=percent(self.head_weights))
        return Msg(
            "att.special_share",
            layer=self.layer,
            head=self.head,
            heads=self.n_heads,
            weights=percent(self.head_weights),
            norms=percent(self.head_norms),
            layer_weights=percent(self.layer_weights),
            layer_norms=percent(self.layer_norms),
        )

    def api(self) -> dict:
        def share(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        return {
            "weights": share(self.head_weights),
            "norms": share(self.head_norms),
            "layer_weights": share(self.layer_weights),
            "layer_norms": share(self.layer_norms),
        }


@dataclass(frozen=True)
class AttentionView:
    head: views.PlotlySpec
    row: views.PlotlySpec
    mean: views.PlotlySpec
    grid: views.PlotlySpec
    weights: np.ndarray  # (T', T') the head's weights as drawn (cropped, renormalised)
    tokens: tuple[str, ...]  # the drawn tokens
    shares: SpecialShares  # how much of each row goes to the special tokens, as weights and as norms
    norms: np.ndarray | None = None  # (T', T') the head's ||alpha f(x)|| as drawn, when the heatmaps show norms
    client: ClientLayer | None = None  # the layer's heads for redraws in the page


@dataclass(frozen=True)
class AttentionResult(LayerHeadResult):
    token_choices: list[tuple[str, int]]
    query: int
    view: AttentionView

    def api(self) -> dict:
        norms = {} if self.view.norms is None else {"norms": rounded(self.view.norms)}
        return {
            "model": self.key.model,
            "layers": self.n_layers,
            "heads": self.n_heads,
            "layer": self.layer,
            "head": self.head,
            "query": self.query,
            "tokens": list(self.view.tokens),
            "weights": rounded(self.view.weights),
            **norms,
            "special_share": self.view.shares.api(),
            **self.messages(),
        }


def percent(share: float) -> str:
    return f"{100 * share:.0f}%"


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


def layer_norms(analysis: Analysis, layer: int) -> np.ndarray:
    """``(H, T, T)`` ``||alpha_ij f(x_j)||`` of every head of ``layer`` (``explorer.norms``)."""
    if analysis.value_norms is None:
        raise InputError("att.no_norms", model=analysis.model_name)
    return weighted_norms(analysis.attention(layer), analysis.value_norms[layer])


def special_share(weights: np.ndarray, special: np.ndarray, key_norms: np.ndarray | None = None) -> np.ndarray:
    """``(H, T, T)`` weights -> ``(H,)``: the share of each row's total on the ``special`` keys, mean over
    the rows; with ``key_norms`` ``(H, T)`` (``||f(x_j)||``), of the row of norms ``alpha_ij ||f(x_j)||``.
    Matrix products, so no ``(H, T, T)`` copy is made on every redraw."""
    n_heads, n_keys = weights.shape[0], weights.shape[-1]
    scale = np.ones((n_heads, n_keys), dtype=np.float32) if key_norms is None else np.asarray(key_norms, dtype=np.float32)
    totals = (weights @ scale[..., None])[..., 0]  # (H, T): each row's sum
    on_special = (weights[..., special] @ scale[:, special, None])[..., 0]
    return (on_special.astype(np.float64) / np.maximum(totals, 1e-12)).mean(axis=-1)


def special_shares_of_layer(analysis: Analysis, layer: int) -> tuple[SpecialShares, ...]:
    """``SpecialShares`` of every head of ``layer``."""
    special = np.asarray(analysis.special_mask, dtype=bool)
    alpha = analysis.attention(layer)
    weights = special_share(alpha, special)  # (H,)
    norms = None if analysis.value_norms is None else special_share(alpha, special, analysis.value_norms[layer])
    return tuple(
        SpecialShares(
            layer=layer,
            head=head,
            n_heads=analysis.n_heads,
            head_weights=float(weights[head]),
            layer_weights=float(weights.mean()),
            head_norms=None if norms is None else float(norms[head]),
            layer_norms=None if norms is None else float(norms.mean()),
        )
        for head in range(analysis.n_heads)
    )


def as_norms(spec: views.PlotlySpec) -> views.PlotlySpec:
    """An attention figure of ``views`` relabelled for norms: colour bar, hover text and value axis say
    ``||alpha f(x)||`` instead of "weight" (the figures themselves are drawn from whatever array they get)."""
    for trace in spec["data"]:
        hover = dict(trace["hovertemplate"].params)
        if trace["type"] == "bar":
            trace["hovertemplate"] = Msg("att.hover_bar_norm", token="%{x}", norm="%{y:.3f}")
            continue
        if "head" in hover:  # a head-grid thumbnail
            trace["hovertemplate"] = Msg("att.hover_grid_norm", head=hover["head"], query="%{y}", key="%{x}", norm="%{z:.3f}")
        else:
            trace["hovertemplate"] = Msg("att.hover_norm", query="%{y}", key="%{x}", norm="%{z:.3f}")
        trace["colorbar"]["title"]["text"] = Msg("att.colorbar_norm")
    if spec["data"][0]["type"] == "bar":
        spec["layout"]["yaxis"]["title"]["text"] = Msg("att.axis_norm")
    return spec


TOKEN_PLACEHOLDER = "{token}"  # the page writes the query token's label here (``ClientLayer``)


def head_title(layer: int, head: int, norms: bool, suffix: Msg | str) -> Msg:
    return Msg("att.title_head_norms" if norms else "att.title_head", layer=layer, head=head, suffix=suffix)


def row_title(layer: int, head: int, token: str, norms: bool) -> Msg:
    return Msg("att.title_row_norms" if norms else "att.title_row", layer=layer, head=head, token=token)


def mean_title(layer: int, heads: int, norms: bool, suffix: Msg | str) -> Msg:
    return Msg("att.title_mean_norms" if norms else "att.title_mean", layer=layer, heads=heads, suffix=suffix)


def grid_title(layer: int, heads: int, norms: bool) -> Msg:
    return Msg("att.title_grid_norms" if norms else "att.title_grid", layer=layer, heads=heads)


def title_suffix(hidden: bool, renormalize: bool) -> Msg | str:
    """What the titles add when [CLS]/[SEP] are hidden: hidden, or hidden and renormalised."""
    return Msg("att.suffix_renormalised" if renormalize else "att.suffix_hidden") if hidden else ""


def state_of(hide_special: bool, renormalize: bool) -> str:
    """The toggles as the page's pack names them: "00", "01", "10", "11" (hide, renormalise)."""
    return f"{int(bool(hide_special))}{int(bool(renormalize))}"


@dataclass(frozen=True)
class ClientLayer:
    """What the page needs to redraw the layer on screen without the server (issue 11): another head,
    another query token, [CLS]/[SEP] hidden or shown, rows renormalised or not.

    ``cells`` are every head's matrix over all tokens, uncropped (weights, or norms with the norms
    scale); the page crops, renormalises, averages and pools them as ``attention_view`` does. They
    travel as uint16 fractions, base64 (0.39 MB at 12 heads x 128 tokens, 0.52 MB as text), of two
    scales per row: its largest value on the visible tokens, and on [CLS]/[SEP]. So a cell is within
    ``scale / 131070`` of the server's float32 (at most 8e-6 for weights). After hiding [CLS]/[SEP] and
    renormalising, a row is divided by its visible share (often ~0.01-0.1, which one scale for the
    whole row would have multiplied the error by); there the row's sum carries every cell's rounding
    (within 5e-5, tested in the browser).
    Words come rendered by the server, per toggle state: titles (with "[CLS]/[SEP] hidden"
    or "renormalised"), each head's special-token share line. ``stamp`` names the text, model, layer
    and scale; the page redraws only figures whose ``layout.meta`` starts with it, so a pack never
    paints over another text's or layer's figures.
    """

    stamp: str
    layer: int
    norms: bool
    cells: np.ndarray  # (H, T, T) float32, all tokens
    visible: np.ndarray  # token indices drawn when [CLS]/[SEP] are hidden
    labels: tuple[str, ...]  # (T,) every token's label, as in the titles
    titles: dict[str, dict[str, Any]]  # state -> {"head": [Msg per head], "mean": Msg, "grid": Msg}
    row_titles: tuple[Msg, ...]  # per head, the query token as TOKEN_PLACEHOLDER
    shares: tuple[Msg, ...]  # per head

    def _ticks(self, keep) -> dict:
        """The figures' height and tick plans (``views.tick_plan``) when ``keep`` tokens are drawn."""
        shown = views.unique_labels([self.labels[i] for i in keep])
        heatmap = views.heatmap_ticks(shown, shown)
        return {"height": heatmap["height"], "x": heatmap["x"], "y": heatmap["y"], "row": views.bar_ticks(shown)}

    def payload(self) -> dict:
        """JSON-ready (Msgs still to render): see ``explorer/ui/attention_client.js``."""
        special = np.ones(self.cells.shape[-1], dtype=bool)
        special[self.visible] = False
        scales = np.zeros((*self.cells.shape[:2], 2), dtype=np.float32)  # (H, T, [visible, special])
        scales[..., 0] = self.cells[..., ~special].max(axis=-1, initial=0.0)
        scales[..., 1] = self.cells[..., special].max(axis=-1, initial=0.0)
        per_cell = np.maximum(np.where(special, scales[..., 1:2], scales[..., 0:1]), 1e-30)  # (H, T, T)
        fractions = np.rint(np.clip(self.cells / per_cell, 0.0, 1.0) * 65535).astype("<u2")
        return {
            "stamp": self.stamp,
            "layer": self.layer,
            "norms": self.norms,
            "heads": int(self.cells.shape[0]),
            "size": int(self.cells.shape[-1]),
            "cells": base64.b64encode(fractions.tobytes()).decode("ascii"),
            "scales": base64.b64encode(scales.astype("<f4").tobytes()).decode("ascii"),  # (H, T, 2)
            "special": special.tolist(),
            "visible": self.visible.tolist(),
            "labels": list(self.labels),
            "titles": self.titles,
            "row_titles": list(self.row_titles),
            "shares": list(self.shares),
            "ticks": {"0": self._ticks(range(len(self.labels))), "1": self._ticks(self.visible)},
            "thumbnail_cells": views.THUMBNAIL_CELLS,
        }


def attention_view(
    analysis: Analysis,
    layer: int,
    head: int,
    query: int = 0,
    hide_special: bool = False,
    renormalize: bool = False,
    norms: bool = False,
) -> AttentionView:
    """All attention figures for one (layer, head) of a cached analysis: no forward pass.

    ``norms``: the heatmaps, the row and the head grid show ``||alpha f(x)||`` instead of the weights;
    hiding and renormalising work the same (a renormalised row of norms is divided by its sum).
    """
    layer = check_index(layer, analysis.n_layers, "layer")
    head = check_index(head, analysis.n_heads, "head")
    query = check_index(query, analysis.n_tokens, "token")
    keep = visible_tokens(analysis, hide_special)
    all_labels = analysis.token_labels()
    labels = [all_labels[i] for i in keep]
    full_weights = analysis.attention(layer).astype(np.float32)  # (H, T, T)
    full = layer_norms(analysis, layer) if norms else full_weights  # what the heatmaps draw, all tokens
    layer_weights = crop(full_weights, keep, renormalize)  # (H, T', T')
    drawn = crop(full, keep, renormalize) if norms else layer_weights  # (H, T', T')
    suffix = title_suffix(len(keep) < analysis.n_tokens, renormalize)
    # The chosen query may be a hidden special token: fall back to the first visible one.
    query_position = int(np.searchsorted(keep, query)) if query in keep else 0
    heads = analysis.n_heads
    top = views.layer_top(drawn)  # one colour scale for the head heatmap and the thumbnails
    figures = dict(
        head=views.attention_heatmap(drawn[head], labels, title=head_title(layer, head, norms, suffix), zmax=top),
        row=views.attention_row(drawn[head, query_position], labels, title=row_title(layer, head, labels[query_position], norms)),
        mean=views.attention_heatmap(drawn.mean(axis=0), labels, title=mean_title(layer, heads, norms, suffix)),
        grid=views.head_grid(drawn, labels, title=grid_title(layer, heads, norms), zmax=top),
    )
    if norms:
        figures = {name: as_norms(spec) for name, spec in figures.items()}
    every_share = special_shares_of_layer(analysis, layer)
    stamp = view_stamp(analysis, layer, norms)
    for spec in figures.values():
        # what the page's redraws check (``ClientLayer``); benchmarks wait for a new one
        spec["layout"]["meta"] = f"{stamp}-{state_of(hide_special, renormalize)}"
    hidden_keep = visible_tokens(analysis, True)
    titles = {}
    for hide in (False, True):
        for renorm in (False, True):
            shown = len(hidden_keep) if hide else analysis.n_tokens
            state_suffix = title_suffix(shown < analysis.n_tokens, renorm)
            titles[state_of(hide, renorm)] = {
                "head": [head_title(layer, h, norms, state_suffix) for h in range(heads)],
                "mean": mean_title(layer, heads, norms, state_suffix),
                "grid": views.pooled_title(grid_title(layer, heads, norms), shown),
            }
    client = ClientLayer(
        stamp=stamp,
        layer=layer,
        norms=norms,
        cells=full,
        visible=hidden_keep,
        labels=tuple(all_labels),
        titles=titles,
        row_titles=tuple(row_title(layer, h, TOKEN_PLACEHOLDER, norms) for h in range(heads)),
        shares=tuple(share.message() for share in every_share),
    )
    return AttentionView(
        **figures,
        weights=layer_weights[head],
        tokens=tuple(analysis.tokens[i] for i in keep),
        shares=every_share[head],
        norms=drawn[head] if norms else None,
        client=client,
    )


def stamp_of(key: AnalysisKey, layer: int, hide_special: bool, renormalize: bool, norms: bool) -> str | None:
    """The ``layout.meta`` of the figures of a cached analysis's layer with these toggles, ``None`` for a
    layer it does not have."""
    analysis = backend.run(key)
    try:
        layer = check_index(layer, analysis.n_layers, "layer")
    except InputError:
        return None
    return f"{view_stamp(analysis, layer, bool(norms))}-{state_of(hide_special, renormalize)}"


def view_stamp(analysis: Analysis, layer: int, norms: bool) -> str:
    """A short name for one layer of one analysis (its text, model, intervention) under one scale."""
    identity = repr((analysis.model_name, analysis.text, analysis.pair, analysis.intervention))
    digest = hashlib.blake2b(identity.encode("utf-8"), digest_size=8).hexdigest()
    return f"{digest}-{layer}-{int(norms)}"


def present(
    text: str,
    model: str | None = None,
    layer: int = 0,
    head: int = 0,
    query: int = 0,
    hide_special: bool = False,
    renormalize: bool = False,
    fit: bool = False,
    norms: bool = False,
) -> AttentionResult:
    """Analyse ``text`` (cached) and draw one layer/head. ``fit``: clamp indices kept from another model;
    ``norms``: draw ``||alpha f(x)||`` instead of the weights."""
    hide_special, renormalize = check_flag(hide_special, "hide_special"), check_flag(renormalize, "renormalize")
    norms = check_flag(norms, "norms")
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
        view=attention_view(analysis, layer, head, query, hide_special, renormalize, norms),
        lines=(summary, *fitted, *analysis.notes),
        warnings=warnings,
    )


def view(
    key: AnalysisKey,
    layer: int,
    head: int,
    query: int = 0,
    hide_special: bool = False,
    renormalize: bool = False,
    norms: bool = False,
) -> AttentionView:
    """Redraw from the cached analysis of ``key``: no forward pass."""
    return attention_view(backend.run(key), layer, head, query or 0, hide_special, renormalize, check_flag(norms, "norms"))


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
    dtype = analysis.storage_dtype
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


@dataclass(frozen=True)
class WordResult(Result):
    """Attention between MeCab words (``japanese.aggregate_words``) for a Japanese model; for any
    other model ``figure`` is ``None`` and the note says which models have it."""

    words: tuple[str, ...]
    weights: np.ndarray | None  # (W, W): rows the query words (mean of pieces), columns the key words (sum)
    figure: views.PlotlySpec | None

    def api(self) -> dict:
        weights = None if self.weights is None else rounded(self.weights)
        return {"words": list(self.words), "weights": weights, **self.messages()}


def word_view(key: AnalysisKey, layer: int, head: int) -> WordResult:
    """One head's attention summed over each MeCab word's pieces as keys and averaged as queries,
    from the cached analysis of ``key`` (no forward pass)."""
    analysis = backend.run(key)
    layer = check_index(layer, analysis.n_layers, "layer")
    head = check_index(head, analysis.n_heads, "head")
    tokenizer = load_model(analysis.model_name).tokenizer
    found = japanese.morpheme_groups(analysis.text, analysis.tokens, analysis.special_mask, tokenizer)
    if found is None or analysis.pair is not None:
        models = ", ".join(readability.japanese_models(None))
        return WordResult((), None, None, lines=(Msg("read.words_none", model=analysis.model_name, models=models),))
    groups, words = found
    weights = japanese.aggregate_words(analysis.attention(layer, head), groups)
    labels = [f"{index} {word}" for index, word in enumerate(words)]
    figure = views.attention_heatmap(weights, labels, title=Msg("read.words_title", layer=layer, head=head))
    summary = Msg("read.words_summary", words=len(words), tokens=analysis.n_tokens)
    return WordResult(tuple(words), weights, figure, lines=(summary,))
