"""Sentiment tab: the classifier's prediction, its attention, and which words reached [CLS] (3.7)."""

from __future__ import annotations

from dataclasses import dataclass

from .. import backend, readability, views
from ..analysis import Analysis, AnalysisKey, check_index
from ..messages import Msg
from ..tasks.attribution import token_scores
from ..tasks.sentiment import predict
from .common import LayerHeadResult, analysis_for, fit_layer_head, layer_head, measured_quality

TASK = "sentiment"


@dataclass(frozen=True)
class SentimentView:
    heatmap: views.PlotlySpec
    cls_row: views.PlotlySpec


@dataclass(frozen=True)
class SentimentResult(LayerHeadResult):
    label: str
    probabilities: dict[str, float]
    rollout: list[tuple[str, float | None]]
    truncated: bool
    view: SentimentView
    unreliable: Msg | None = None  # why the label must not be trusted (``readability``), None when it may

    def api(self) -> dict:
        return {
            "model": self.key.model,
            "label": self.label,
            "reliable": self.unreliable is None,
            "probabilities": {name: round(p, 6) for name, p in self.probabilities.items()},
            "rollout": [{"text": piece, "score": score} for piece, score in self.rollout],
            "truncated": self.truncated,
            **self.messages(),
        }


def class_name(label: str) -> Msg | str:
    """A known class name as a message (translated); any other label stays as the model wrote it."""
    return Msg(f"label.{label.lower()}") if label.lower() in ("positive", "negative", "neutral") else label


def sentiment_view(analysis: Analysis, layer: int, head: int) -> SentimentView:
    layer = check_index(layer, analysis.n_layers, "layer")
    head = check_index(head, analysis.n_heads, "head")
    labels = analysis.token_labels()
    weights = analysis.attention(layer, head)
    return SentimentView(
        heatmap=views.attention_heatmap(weights, labels, title=Msg("sent.title_heatmap", layer=layer, head=head)),
        cls_row=views.attention_row(weights[0], labels, title=Msg("sent.title_cls_row", layer=layer, head=head)),
    )


def present(text: str, model: str | None = None, layer: int = 5, head: int = 0, fit: bool = False) -> SentimentResult:
    analysis, warnings = analysis_for(text, model, TASK)
    prediction = predict(analysis)
    layer, head, fitted = fit_layer_head(layer, head, analysis, fit)
    scores = token_scores(analysis.attentions, analysis.special_mask)
    best = prediction.probabilities[prediction.label]
    unreliable = readability.unreliable(readability.of_analysis(analysis))
    return SentimentResult(
        **layer_head(analysis, layer, head),
        label=prediction.label,
        probabilities=prediction.probabilities,
        rollout=views.token_highlights(analysis.text, analysis.offsets, [round(float(score), 3) for score in scores]),
        truncated=analysis.truncated,
        view=sentiment_view(analysis, layer, head),
        unreliable=unreliable,
        lines=(
            Msg(
                "read.summary_sentiment" if unreliable else "sent.summary",
                model=analysis.model_name,
                label=class_name(prediction.label),
                probability=f"{views.shown_share(best):.0%}",  # as the label box shows it
            ),
            *measured_quality(analysis.model_name),
            *fitted,
            *analysis.notes,
        ),
        warnings=warnings,
    )


def view(key: AnalysisKey, layer: int, head: int) -> SentimentView:
    return sentiment_view(backend.run(key), layer, head)
