"""What every presenter shares: results, tables, the model fallback, index checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .. import backend, readability
from ..analysis import Analysis, AnalysisKey, WindowedAnalysis, check_index, whole_number
from ..errors import ModelUnavailable
from ..messages import DEFAULT_LANGUAGE, Msg, render, render_tree
from ..models import OFFLINE_DEFAULT, resolve

T = TypeVar("T")


@dataclass(frozen=True)
class Table:
    """Column names (messages) and rows of plain values (a cell may be a ``Msg``)."""

    columns: tuple[Msg, ...]
    rows: list[list[Any]]

    def headers(self, language: str) -> list[str]:
        return [render(column, language) for column in self.columns]

    def cells(self, language: str) -> list[list[Any]]:
        """Rows for a table on screen: messages rendered, yes/no in words."""
        words = {True: Msg("word.yes"), False: Msg("word.no")}
        return render_tree([[words[cell] if isinstance(cell, bool) else cell for cell in row] for row in self.rows], language)

    def records(self) -> list[dict[str, Any]]:
        """Rows as ``{column key's last part: value}`` for the API."""
        names = [column.key.rsplit(".", 1)[-1] for column in self.columns]
        return [dict(zip(names, render_tree(row, DEFAULT_LANGUAGE), strict=True)) for row in self.rows]


@dataclass(frozen=True)
class Result:
    """Base of every presenter's result: status lines and warnings, as messages."""

    lines: tuple[Msg, ...] = field(default=(), kw_only=True)
    warnings: tuple[Msg, ...] = field(default=(), kw_only=True)

    def messages(self, language: str = DEFAULT_LANGUAGE) -> dict[str, list[str]]:
        return {
            "notes": [render(line, language) for line in self.lines],
            "warnings": [render(line, language) for line in self.warnings],
        }


@dataclass(frozen=True)
class LayerHeadResult(Result):
    """A result drawn for one layer and head of one analysis (the tab's sliders are rebuilt from it)."""

    key: AnalysisKey
    n_layers: int
    n_heads: int
    layer: int
    head: int


def layer_head(analysis: Analysis | WindowedAnalysis, layer: int, head: int) -> dict[str, Any]:
    """The ``LayerHeadResult`` fields of ``analysis`` at ``layer``/``head``."""
    return dict(key=key_of(analysis), n_layers=analysis.n_layers, n_heads=analysis.n_heads, layer=layer, head=head)


def with_fallback(run: Callable[[str], T], model: str | None, task: str | None) -> tuple[T, tuple[Msg, ...]]:
    """``run(model)``; if that model cannot be loaded, ``run(offline default of the task)`` and say why.

    Only a model that exists but cannot be loaded here (no network, a missing package) falls
    back: an unknown name or a wrong type is refused (``resolve`` raises), since nothing was
    asked for that could ever load.
    """
    fallback = OFFLINE_DEFAULT[task]
    name = resolve(model or fallback, task).name
    try:
        return run(name), ()
    except ModelUnavailable as error:
        if name == fallback:
            raise
        return run(fallback), (error.msg, Msg("fallback.used", model=fallback))


def analysis_for(text: str, model: str | None, task: str | None = None, pair: str | None = None) -> tuple[Any, tuple[Msg, ...]]:
    """The cached analysis (or windowed analysis, for a pair) with the fallback warnings, and the
    warnings for a text the model cannot read (``readability``: every tab that analyses text says so)."""
    analysis, warnings = with_fallback(lambda name: backend.run(AnalysisKey(name, text, pair)), model, task)
    return analysis, warnings + readability.check(analysis, task)[1]


def measured_quality(model_name: str) -> tuple[Msg, ...]:
    """How often a shipped task model is right, from its recipe's own ``metrics.json`` (read each time,
    so a retrained model brings its numbers): a confident label on the page stands next to the score
    that says how far to trust it. ``()`` for hub models and where no metrics are shipped."""
    try:
        spec = resolve(model_name)
        if not spec.adapter:
            return ()
        metrics = json.loads((Path(spec.adapter) / "metrics.json").read_text(encoding="utf-8"))
        if spec.task == "sentiment":
            hard = metrics["hard_cases"]
            return (
                Msg(
                    "quality.sentiment",
                    heldout=f"{metrics['heldout_movie_accuracy']:.1%}",
                    negation=f"{hard['negation']['accuracy']:.1%}",
                ),
            )
        if spec.task == "ner":
            gold = metrics["gold"]
            return (Msg("quality.ner", f1=f"{gold['f1']:.2f}", n_misc=f"{gold['per_type_f1']['MISC']:.2f}"),)
        if spec.task == "qa":
            natural = metrics["natural_questions"]
            return (Msg("quality.qa", em=f"{natural['exact_match']:.0%}", f1=f"{natural['f1']:.2f}", n=natural["n"]),)
    except (OSError, ValueError, KeyError, TypeError, ModelUnavailable):
        return ()
    return ()


def key_of(analysis: Analysis | WindowedAnalysis) -> AnalysisKey:
    if isinstance(analysis, WindowedAnalysis):
        return AnalysisKey(analysis.model_name, analysis.question, analysis.context, analysis.intervention)
    return AnalysisKey(analysis.model_name, analysis.text, analysis.pair, analysis.intervention)


def fit_index(value: Any, size: int, what: str, fit: bool) -> tuple[int, tuple[Msg, ...]]:
    """``check_index``; with ``fit`` (a UI control kept from another model), clamp and say so."""
    if fit:
        number = whole_number(value, what)
        if not 0 <= number < size:
            clamped = min(max(number, 0), size - 1)
            return clamped, (Msg("index.fitted", what=Msg("word." + what), value=number, size=size, used=clamped),)
    return check_index(value, size, what), ()


def fit_layer_head(layer: Any, head: Any, shape: Any, fit: bool) -> tuple[int, int, tuple[Msg, ...]]:
    """Layer and head checked against ``shape`` (an analysis: ``n_layers``, ``n_heads``), with the fitting notes."""
    layer, fitted_layer = fit_index(layer, shape.n_layers, "layer", fit)
    head, fitted_head = fit_index(head, shape.n_heads, "head", fit)
    return layer, head, fitted_layer + fitted_head


def token_choices(analysis: Analysis) -> list[tuple[str, int]]:
    return [(label, index) for index, label in enumerate(analysis.token_labels())]


def rounded(values: np.ndarray, decimals: int = 4) -> list:
    return np.round(np.asarray(values, dtype=np.float64), decimals).tolist()
