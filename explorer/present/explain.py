"""Explain tab: six token-importance methods for one prediction, side by side, and how faithful each is.

Gradio-free: ``present`` runs the chosen methods (``explorer.attribution``) and keeps only small
arrays (one score per token and method), so a tab can redraw another method without re-running;
``show`` draws one method; ``measure`` runs the ERASER faithfulness table.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import attribution, readability, views
from ..analysis import Analysis, check_text, whole_number
from ..errors import InputError
from ..messages import Msg
from ..models import OFFLINE_DEFAULT
from .common import Result, Table, with_fallback
from .sentiment import class_name

TASKS = ("sentiment", "ner", "qa")
DEFAULT_MODEL = OFFLINE_DEFAULT["sentiment"]
DEFAULT_METHODS = attribution.METHODS
ANSWER = "answer"
UNREADABLE_SHARE = 0.1  # more [UNK] tokens than this: the prediction explained is one the model cannot read
IG_TOLERANCE = 0.05  # a completeness gap above 5 % of f(x) - f(baseline): suggest more steps
BEATS_RANDOM_BY = 0.01  # comprehensiveness above the random ranking's by more than noise
COLUMNS = ("rank", "method", "comprehensiveness", "sufficiency", "beats_random", "seconds")  # faithfulness table


def method_name(method: str) -> Msg:
    return Msg(f"explain.method.{method}")


@dataclass(frozen=True)
class ExplainView:
    overlay: list[tuple[str, float | None]]  # the text, each token scored in [-1, 1]
    bars: views.PlotlySpec
    grid: views.PlotlySpec


@dataclass(frozen=True)
class ExplainResult(Result):
    """Every chosen method's scores for one prediction (small arrays only: cheap to keep in a tab's state)."""

    model: str
    text: str  # as typed (QA: question on the first line)
    target: str  # what was explained, as the target menu's value
    prediction: dict  # attribution.Subject.describe()
    tokens: tuple[str, ...]
    special_mask: np.ndarray
    pieces: tuple[tuple[str, int | None], ...]  # the text cut into (characters, token index or None)
    scores: dict[str, np.ndarray]  # method -> (T,) raw scores
    extras: dict[str, dict]  # method -> e.g. integrated gradients' delta, f_x, f_baseline
    seconds: dict[str, float]
    targets: tuple[tuple[Msg | str, str], ...]  # the target menu: (label, value)
    shown: str = field(default="")

    def api(self) -> dict:
        return {
            "model": self.model,
            "tokens": list(self.tokens),
            "prediction": self.prediction,
            "methods": {
                method: {"scores": [round(float(s), 6) for s in scores], **self.extras.get(method, {})}
                for method, scores in self.scores.items()
            },
            **self.messages(),
        }


def text_pieces(analysis: Analysis) -> tuple[tuple[str, int | None], ...]:
    """The input cut at token boundaries: ``(characters, token)``; a pair is question, a line break, context."""
    sources = [(analysis.text, 0), (analysis.pair, 1)] if analysis.pair is not None else [(analysis.text, None)]
    pieces: list[tuple[str, int | None]] = []
    for number, (source, sequence) in enumerate(sources):
        if number:
            pieces.append(("\n", None))
        cursor = 0
        for index, span in enumerate(analysis.offsets):
            if span is None or span[0] < cursor:
                continue
            if sequence is not None and analysis.sequence_ids[index] != sequence:
                continue
            if span[0] > cursor:
                pieces.append((source[cursor : span[0]], None))
            pieces.append((source[span[0] : span[1]], index))
            cursor = span[1]
        if cursor < len(source):
            pieces.append((source[cursor:], None))
    return tuple(pieces)


def target_choices(subject: attribution.Subject) -> tuple[tuple[Msg | str, str], ...]:
    """What the target menu offers: every class; every word-start token with its tag; the answer."""
    analysis = subject.analysis
    if subject.task == "sentiment":
        return tuple((class_name(label), label) for label in analysis.labels)
    if subject.task == "ner":
        from ..tasks.ner import token_tags

        tags = token_tags(analysis)
        return tuple(
            (f"{index} {analysis.token_text(index)} ({tags[index][0]})", str(index))
            for index in np.flatnonzero(~analysis.special_mask)
        )
    spans = attribution.answer_spans(analysis)
    return tuple(
        (
            Msg("explain.target_answer", answer=text) if rank == 0 else Msg("explain.target_other", rank=rank + 1, answer=text),
            ANSWER if rank == 0 else f"{ANSWER}:{rank}",
        )
        for rank, (_, _, text) in enumerate(spans)
    )


def check_methods(methods: Any) -> tuple[str, ...]:
    chosen = [methods] if isinstance(methods, str) else list(methods or ())
    found = tuple(attribution.check_method(method) for method in chosen)
    if not found:
        raise InputError("explain.no_methods")
    return tuple(method for method in attribution.METHODS if method in found)  # the table's order


def summary(model: str, prediction: dict) -> Msg:
    probability = f"{prediction['probability']:.1%}"
    if prediction["kind"] == "class":
        return Msg("explain.summary_class", model=model, label=class_name(prediction["label"]), probability=probability)
    if prediction["kind"] == "token":
        return Msg(
            "explain.summary_token", model=model, tag=prediction["label"], token=prediction["text"], probability=probability
        )
    return Msg("explain.summary_answer", model=model, answer=prediction["label"], probability=probability)


def target_name(prediction: dict) -> Msg | str:
    """What is explained, short enough for a figure title: a class, "B-PER “Angela”", "“Paris”"."""
    if prediction["kind"] == "class":
        return class_name(prediction["label"])
    label = prediction["label"] if len(prediction["label"]) <= 30 else prediction["label"][:29] + "…"
    if prediction["kind"] == "token":
        return f"{label} “{prediction['text']}”"
    return f"“{label}”"


def delta_line(extra: dict) -> Msg:
    """Integrated gradients' completeness: how far the attributions' sum is from f(x) − f(baseline)."""
    change = extra["f_x"] - extra["f_baseline"]
    share = abs(extra["delta"]) / abs(change) if change else 0.0
    return Msg(
        "explain.delta" if share <= IG_TOLERANCE else "explain.delta_loose",
        delta=f"{extra['delta']:+.4f}",
        share=f"{share:.1%}",
        f_x=f"{extra['f_x']:.3f}",
        f_baseline=f"{extra['f_baseline']:.3f}",
        steps=extra["n_steps"],
    )


def present(
    text: str,
    model: str | None = DEFAULT_MODEL,
    target: Any = "",
    methods: Sequence[str] | str = DEFAULT_METHODS,
    n_steps: int = attribution.DEFAULT_STEPS,
    shown: str = "",
) -> ExplainResult:
    """Run ``methods`` for ``model``'s prediction on ``text`` (``target`` empty: the model's own answer)."""
    return explained(
        check_text(text, "text"),
        model or DEFAULT_MODEL,
        str(target or ""),
        check_methods(methods),
        whole_number(n_steps, "steps"),
        str(shown or ""),
    )


@functools.lru_cache(maxsize=32)  # a language switch re-runs every tab: the same request costs nothing
def explained(text: str, model: str, target: str, methods: tuple[str, ...], n_steps: int, shown: str) -> ExplainResult:

    skipped: list[str] = []

    def run(name: str) -> tuple[attribution.Subject, dict[str, attribution.Attribution]]:
        subject = attribution.subject_for(text, name, target)
        chosen = methods
        if subject.analysis.n_tokens > attribution.MAX_COSTLY_TOKENS and set(methods) - attribution.COSTLY:
            # a long text still gets the cheap methods; the costly ones say why they are missing
            chosen = tuple(method for method in methods if method not in attribution.COSTLY)
            skipped.extend(method for method in methods if method in attribution.COSTLY)
        return subject, {method: attribution.attribute_subject(subject, method, n_steps) for method in chosen}

    task = attribution.resolve(model).task
    (subject, found), warnings = with_fallback(run, model, task if task in TASKS else "sentiment")
    analysis = subject.analysis
    target_value = (
        (ANSWER if not subject.index else f"{ANSWER}:{subject.index}")
        if subject.kind == "answer"
        else str(subject.position if subject.kind == "token" else subject.label)
    )
    lines = [summary(analysis.model_name, subject.describe())]
    if "integrated_gradients" in found:
        lines.append(delta_line(found["integrated_gradients"].extra))
    unknown = sum(token == subject.loaded.tokenizer.unk_token for token in analysis.tokens)
    warnings = warnings + readability.check(analysis, subject.task)[1]  # the warning every tab gives
    if unknown > UNREADABLE_SHARE * int((~analysis.special_mask).sum()):
        warnings = warnings + (
            Msg("explain.unreadable", count=unknown, total=int((~analysis.special_mask).sum()), model=analysis.model_name),
        )
    lines.extend(analysis.notes)
    if subject.task == "qa" and analysis.truncated:
        lines.append(Msg("explain.first_window"))
    return ExplainResult(
        model=analysis.model_name,
        text=text,
        target=target_value,
        prediction=subject.describe(),
        tokens=analysis.tokens,
        special_mask=np.asarray(analysis.special_mask),
        pieces=text_pieces(analysis),
        scores={method: one.scores for method, one in found.items()},
        extras={method: one.extra for method, one in found.items() if one.extra},
        seconds={method: one.seconds for method, one in found.items()},
        targets=target_choices(subject),
        shown=shown if shown in found else methods[0],
        lines=tuple(lines),
        warnings=warnings
        + tuple(
            Msg("explain.costly_skipped", tokens=analysis.n_tokens, limit=attribution.MAX_COSTLY_TOKENS) for _ in skipped[:1]
        ),
    )


def show(result: ExplainResult, method: str = "") -> ExplainView:
    """One method as an overlay and a bar chart, and every method as a methods × tokens grid."""
    method = method if method in result.scores else result.shown
    keep = ~result.special_mask
    scaled = {name: views.scaled_scores(scores, keep) for name, scores in result.scores.items()}
    labels = [f"{index} {token}" for index, token in enumerate(result.tokens)]
    overlay = [
        (characters, None if token is None else round(float(scaled[method][token]), 3)) for characters, token in result.pieces
    ]
    return ExplainView(
        overlay=overlay,
        bars=views.token_scores_bar(
            np.where(keep, result.scores[method], 0.0),  # special tokens blank, as on the text and in the grid
            labels,
            Msg("explain.title_bars", method=method_name(method), target=target_name(result.prediction)),
            Msg("explain.axis_score"),
        ),
        grid=views.method_grid(
            np.stack([scaled[name] for name in result.scores]),
            [method_name(name) for name in result.scores],
            labels,
            Msg("explain.title_grid_steps", steps=result.extras["integrated_gradients"]["n_steps"])
            if "integrated_gradients" in result.extras
            else Msg("explain.title_grid"),
        ),
    )


# ---------------------------------------------------------------- faithfulness


@dataclass(frozen=True)
class FaithfulnessResult(Result):
    faithfulness: attribution.Faithfulness
    table: Table
    curves: views.PlotlySpec

    def api(self) -> dict:
        return {**self.faithfulness.api(), **self.messages()}


def faithfulness_table(found: attribution.Faithfulness) -> Table:
    """Methods by comprehensiveness (higher = the method found what the model needs), with sufficiency
    (lower = its top tokens alone keep the answer) and whether it beats the random ranking."""
    reference = found.comprehensiveness[attribution.REFERENCE]
    rows = []
    for rank, name in enumerate(found.order, start=1):
        is_reference = name == attribution.REFERENCE
        rows.append(
            [
                rank,
                method_name(name),
                round(found.comprehensiveness[name], 3),
                round(found.sufficiency[name], 3),
                Msg("explain.reference") if is_reference else found.comprehensiveness[name] > reference + BEATS_RANDOM_BY,
                "" if is_reference else f"{found.attributions[name].seconds:.2f}",
            ]
        )
    return Table(tuple(Msg(f"explain.col.{column}") for column in COLUMNS), rows)


def measure(
    text: str,
    model: str | None = DEFAULT_MODEL,
    target: Any = "",
    n_steps: int = attribution.DEFAULT_STEPS,
    progress: Callable[[float, str], None] | None = None,
) -> FaithfulnessResult:
    """The ERASER table for ``model``'s prediction on ``text``: every method, re-runs batched."""
    found = attribution.faithfulness(text, model or DEFAULT_MODEL, target, n_steps, progress=progress)
    curves = {  # in the methods' own order, so a method keeps its colour from one input to the next
        method_name(name): [(fraction, probability) for fraction, _, probability in found.curves[name]]
        for name in (*attribution.METHODS, attribution.REFERENCE)
        if name in found.curves
    }
    reference = found.comprehensiveness[attribution.REFERENCE]
    best = next(name for name in found.order if name != attribution.REFERENCE)
    verdict = (
        Msg("explain.faithfulness_summary", best=method_name(best), seconds=f"{found.seconds:.1f}")
        if found.comprehensiveness[best] > reference + BEATS_RANDOM_BY
        else Msg("explain.none_beats_random", seconds=f"{found.seconds:.1f}")
    )
    return FaithfulnessResult(
        faithfulness=found,
        table=faithfulness_table(found),
        curves=views.deletion_curves(curves, method_name(attribution.REFERENCE), Msg("explain.title_curves")),
        lines=(
            summary(found.subject.analysis.model_name, found.subject.describe()),
            verdict,
        ),
    )
