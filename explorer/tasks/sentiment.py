"""Sequence classification (sentiment): class probabilities from an analysis' logits."""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis import Analysis
from ..errors import ExplorerError
from . import softmax


@dataclass(frozen=True)
class Prediction:
    label: str
    probabilities: dict[str, float]  # every class, in the model's label order


def class_probabilities(analysis: Analysis) -> dict[str, float]:
    """``{label: probability}`` of a sequence classifier's analysis."""
    if analysis.logits is None or analysis.logits.ndim != 1:
        raise ExplorerError("sent.not_classifier", model=analysis.model_name)
    names = analysis.labels or tuple(f"LABEL_{i}" for i in range(analysis.logits.shape[0]))
    return {name: float(p) for name, p in zip(names, softmax(analysis.logits), strict=True)}


def predict(analysis: Analysis) -> Prediction:
    probabilities = class_probabilities(analysis)
    return Prediction(max(probabilities, key=probabilities.get), probabilities)
