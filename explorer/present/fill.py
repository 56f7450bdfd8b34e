"""Fill-mask tab: what a masked-LM head predicts for each [MASK], and where the [MASK] looks (3.6);
BERT's masking recipe drawn on the user's text, with the shares converging over many draws (問題3)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import backend, fill_mask, fill_views, masking, readability, views
from ..analysis import Analysis, AnalysisKey, check_index, whole_number
from ..fill_mask import MASK
from ..messages import Msg
from ..mlm_head import HEAD_FOLDER
from ..models import OFFLINE_DEFAULT, load_model
from .common import LayerHeadResult, Result, Table, fit_index, layer_head, with_fallback

MEAN_OF_HEADS = -1  # the head control's value for "mean of all heads"
MAX_DRAWS = 10_000
PREDICTION_HEADERS = (Msg("fill.col.mask"), Msg("fill.col.rank"), Msg("fill.col.token"), Msg("fill.col.probability"))
MASKING_HEADERS = (
    Msg("fill.col.position"),
    Msg("fill.col.token"),
    Msg("fill.col.outcome"),
    Msg("fill.col.input"),
    Msg("fill.col.label"),
)
CARD = "assets/models/mlm/MODEL_CARD.md"
METRICS = HEAD_FOLDER / "metrics.json"


@dataclass(frozen=True)
class FillResult(LayerHeadResult):
    head_kind: str
    predictions: tuple[fill_mask.MaskPrediction, ...]
    filled: list[tuple[str, str | None]]
    table: Table
    candidates: views.PlotlySpec
    attention: views.PlotlySpec

    def api(self) -> dict:
        return {
            "model": self.key.model,
            "head": self.head_kind,
            "masks": [
                {
                    "position": p.position,
                    "candidates": [
                        {"token": token, "probability": round(float(prob), 6)}
                        for token, prob in zip(p.tokens, p.probabilities, strict=True)
                    ],
                }
                for p in self.predictions
            ],
            **self.messages(),
        }


def mask_label(number: int, analysis: Analysis, position: int) -> str:
    return f"#{number} ({position})"


def mask_attention(analysis: Analysis, positions: list[int], layer: int, head: int) -> views.PlotlySpec:
    """The attention rows of the [MASK] positions (``head=-1``: the mean over heads)."""
    layer = check_index(layer, analysis.n_layers, "layer")
    if head != MEAN_OF_HEADS:
        head = check_index(head, analysis.n_heads, "head")
    weights = analysis.mean_attention(layer) if head == MEAN_OF_HEADS else analysis.attention(layer, head)
    which = Msg("qa.mean_of_heads") if head == MEAN_OF_HEADS else Msg("fig.head_n", head=head)
    title = Msg("fill.title_attention", layer=layer, which=which)
    if len(positions) == 1:  # one row: bars read better than a one-row heatmap
        return views.attention_row(np.asarray(weights, dtype=np.float32)[positions[0]], analysis.token_labels(), title=title)
    rows = [mask_label(i + 1, analysis, p) for i, p in enumerate(positions)]
    return views.attention_heatmap(
        np.asarray(weights, dtype=np.float32)[positions],
        rows,
        analysis.token_labels(),
        title=title,
    )


def filled_text(
    analysis: Analysis, mask_token: str, predictions: tuple[fill_mask.MaskPrediction, ...]
) -> list[tuple[str, str | None]]:
    """The text with each [MASK] replaced by its best token, labelled by the mask's number."""
    parts = analysis.text.split(mask_token)
    pieces: list[tuple[str, str | None]] = []
    for index, part in enumerate(parts):
        if part:
            pieces.append((part, None))
        if index < len(parts) - 1:
            if index < len(predictions):
                best = predictions[index].tokens[0]
                pieces.append((best.removeprefix("##"), f"#{index + 1}"))
            else:  # beyond the model's window: not predicted
                pieces.append((MASK, None))
    return pieces


def offline_scores(path: Path = METRICS) -> Msg | None:
    """The offline head's held-out top-5 next to the unigram baseline's, from the recipe's own metrics
    (read each time: a retrained head brings its numbers), or ``None`` when they are not shipped."""
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
        top5, baseline = float(metrics["heldout"]["top5"]), float(metrics["unigram_baseline"]["top5"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Msg("fill.offline_scores", top5=f"{top5:.1%}", baseline=f"{baseline:.1%}")


def predict(text: str, model: str | None, top_k: int) -> tuple[fill_mask.FillMaskResult, tuple[Msg, ...]]:
    """``fill_mask`` with the usual fallback to the embedded model, only where that model can fill
    masks: without its head the fallback could only fail, and its error would hide the real one."""
    if fill_mask.can_fill(OFFLINE_DEFAULT[None]):
        return with_fallback(lambda name: fill_mask.fill_mask(text, name, top_k), model, None)
    return fill_mask.fill_mask(text, model, top_k), ()


def present(
    text: str, model: str | None = None, top_k: int = 5, layer: int = -1, head: int = MEAN_OF_HEADS, fit: bool = False
) -> FillResult:
    top_k, layer, head = whole_number(top_k, "top_k"), whole_number(layer, "layer"), whole_number(head, "head")
    found, warnings = predict(text, model, top_k)
    analysis = found.analysis
    layer_value = analysis.n_layers - 1 if layer == -1 else layer
    layer, fitted_layer = fit_index(layer_value, analysis.n_layers, "layer", fit)
    fitted_head: tuple[Msg, ...] = ()
    if head != MEAN_OF_HEADS:
        head, fitted_head = fit_index(head, analysis.n_heads, "head", fit)
    tokenizer = load_model(analysis.model_name).tokenizer
    positions = [p.position for p in found.predictions]
    rows = [
        [number + 1, rank + 1, token, round(float(prob), 4)]
        for number, p in enumerate(found.predictions)
        for rank, (token, prob) in enumerate(zip(p.tokens, p.probabilities, strict=True))
    ]
    panels = [
        (Msg("fill.panel", number=number + 1, best=p.tokens[0]), list(p.tokens), p.probabilities)
        for number, p in enumerate(found.predictions)
    ]
    best = ", ".join(f"#{i + 1} {p.tokens[0]} ({p.probabilities[0]:.1%})" for i, p in enumerate(found.predictions))
    made_by = Msg("fill.by_offline", layer=found.layer, card=CARD) if found.head == "offline" else Msg("fill.by_hub")
    lines = [Msg("fill.summary", model=analysis.model_name, count=len(positions), best=best), made_by]
    scores = offline_scores() if found.head == "offline" else None
    if scores is not None:
        lines.append(scores)
    if len(found.predictions) > fill_views.MAX_PANELS:
        lines.append(Msg("fill.panels_capped", shown=fill_views.MAX_PANELS, count=len(found.predictions)))
    return FillResult(
        **layer_head(analysis, layer, head),
        head_kind=found.head,
        predictions=found.predictions,
        filled=filled_text(analysis, tokenizer.mask_token, found.predictions),
        table=Table(PREDICTION_HEADERS, rows),
        candidates=fill_views.candidates(panels, Msg("fill.title_candidates", k=len(found.predictions[0].tokens))),
        attention=mask_attention(analysis, positions, layer, head),
        lines=tuple(lines) + analysis.notes,
        warnings=warnings + readability.check(analysis)[1] + fitted_layer + fitted_head,
    )


def view(key: AnalysisKey, layer: Any, head: Any) -> views.PlotlySpec:
    """The [MASK] rows for another layer/head, from the cached analysis (no forward pass)."""
    layer, head = whole_number(layer, "layer"), whole_number(head, "head")
    analysis = backend.run(key)
    mask_id = load_model(analysis.model_name).tokenizer.mask_token_id
    positions = [int(p) for p in np.flatnonzero(np.asarray(analysis.token_ids) == mask_id)][: fill_mask.MAX_MASKS]
    layer, _ = fit_index(layer, analysis.n_layers, "layer", True)
    if head != MEAN_OF_HEADS:
        head, _ = fit_index(head, analysis.n_heads, "head", True)
    return mask_attention(analysis, positions, layer, head)


# ---------------------------------------------------------------- the masking recipe (問題3)


@dataclass(frozen=True)
class MaskingResult(Result):
    model: str
    seed: int
    draws: int
    outcome: tuple[str, ...]  # per token, one of masking.OUTCOMES
    chosen: list[tuple[str, Msg | None]]  # the text's tokens, each with its outcome (None: not chosen)
    model_input: list[tuple[str, Msg | None]]  # what the model reads; chosen positions carry the loss
    table: Table
    figure: views.PlotlySpec
    shares: dict[str, float]

    def api(self) -> dict:
        return {
            "model": self.model,
            "seed": self.seed,
            "draws": self.draws,
            "tokens": [token for token, _ in self.chosen],
            "outcome": list(self.outcome),
            "model_input": [token for token, _ in self.model_input],
            "shares": {name: round(value, 6) for name, value in self.shares.items()},
            **self.messages(),
        }


OUTCOME_NAMES = {name: Msg(f"fill.outcome.{name}") for name in masking.OUTCOMES}


def spaced(pieces: list[tuple[str, Msg | None]]) -> list[tuple[str, Msg | None]]:
    """Tokens with a plain space between them: unlabelled neighbours would otherwise run together."""
    out: list[tuple[str, Msg | None]] = []
    for index, piece in enumerate(pieces):
        if index:
            out.append((" ", None))
        out.append(piece)
    return out


def simulate(text: str, model: str | None = None, seed: Any = 0, draws: Any = 1000, fit: bool = False) -> MaskingResult:
    seed, asked = whole_number(seed, "seed"), whole_number(draws, "draws")  # before any model loads
    analysis, warnings = with_fallback(lambda name: backend.analyze(text, name), model, None)
    tokenizer = load_model(analysis.model_name).tokenizer
    seed = min(max(seed, 0), 2**31 - 1)
    draws = min(max(asked, 1), MAX_DRAWS)
    fitted = (Msg("fill.draws_fitted", asked=asked, used=draws),) if draws != asked else ()
    ids, special = np.asarray(analysis.token_ids), np.asarray(analysis.special_mask)
    vocab = len(tokenizer)
    one = masking.simulate(ids, special, vocab, tokenizer.mask_token_id, seed)
    outcome, inputs, labels = one.outcome[0], one.input_ids[0], one.labels[0]
    shown = tokenizer.convert_ids_to_tokens([int(i) for i in inputs])
    chosen = [
        (token, None if kind == "not_chosen" else OUTCOME_NAMES[kind])
        for token, kind in zip(analysis.tokens, outcome, strict=True)
    ]
    model_input = [
        (token, Msg("fill.loss_here") if kind != "not_chosen" else None) for token, kind in zip(shown, outcome, strict=True)
    ]
    rows = [
        [position, analysis.tokens[position], OUTCOME_NAMES[kind], shown[position], int(labels[position])]
        for position, kind in enumerate(outcome)
    ]
    many = masking.convergence(masking.simulate(ids, special, vocab, tokenizer.mask_token_id, seed, draws), special)
    curves = {"chosen": many.chosen, "mask": many.mask, "random": many.random, "unchanged": many.unchanged}
    targets = {
        "chosen": masking.RATE,
        "mask": masking.MASK_SHARE,
        "random": masking.RANDOM_SHARE,
        "unchanged": 1 - masking.MASK_SHARE - masking.RANDOM_SHARE,
    }
    names = {key: Msg(f"fill.share.{key}") for key in curves}
    last = {key: float(values[-1]) if not np.isnan(values[-1]) else 0.0 for key, values in curves.items()}
    n_chosen = int(np.sum(outcome != "not_chosen"))
    lines = (
        Msg("fill.masking_summary", model=analysis.model_name, tokens=many.eligible, chosen=n_chosen, seed=seed),
        Msg(
            "fill.masking_shares",
            draws=draws,
            chosen=f"{last['chosen']:.1%}",
            mask=f"{last['mask']:.1%}",
            random=f"{last['random']:.1%}",
            unchanged=f"{last['unchanged']:.1%}",
        ),
        Msg("fill.masking_loss", ignored=masking.IGNORED),
    )
    return MaskingResult(
        model=analysis.model_name,
        seed=seed,
        draws=draws,
        outcome=tuple(str(kind) for kind in outcome),
        chosen=chosen,
        model_input=model_input,
        table=Table(MASKING_HEADERS, rows),
        figure=fill_views.outcome_shares(curves, targets, names, Msg("fill.title_shares", draws=draws, seed=seed)),
        shares=last,
        lines=lines + analysis.notes,
        warnings=warnings + fitted,
    )
