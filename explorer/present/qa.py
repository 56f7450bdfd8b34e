"""QA tab: the answer in the context, alternatives, start/end probabilities, answer-to-question attention (3.7)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import backend, readability, views
from ..analysis import AnalysisKey, WindowedAnalysis, check_index
from ..messages import Msg
from ..tasks import softmax
from ..tasks.qa import Answer, decode, doubts
from .common import LayerHeadResult, Table, analysis_for, fit_index, layer_head, measured_quality

TASK = "qa"
ANSWER_COLUMNS = tuple(Msg(f"col.{name}") for name in ("rank", "answer", "score", "start", "end"))
MEAN_OF_HEADS = -1  # the head control's value for "mean of all heads"


@dataclass(frozen=True)
class QAResult(LayerHeadResult):
    answers: list[Answer]
    no_answer: float
    highlights: list[tuple[str, Msg | None]]
    table: Table
    probabilities: views.PlotlySpec
    attention: views.PlotlySpec
    unreliable: Msg | None = None  # why the answer must not be trusted (``readability``), None when it may

    def api(self) -> dict:
        best = self.answers[0] if self.answers else None
        return {
            "model": self.key.model,
            "reliable": self.unreliable is None,
            "answer": best.text if best else "",
            "start": best.start if best else None,
            "end": best.end if best else None,
            "score": round(best.score, 4) if best else 0.0,
            "no_answer_score": round(self.no_answer, 4),
            "alternatives": [
                {"answer": a.text, "start": a.start, "end": a.end, "score": round(a.score, 4)} for a in self.answers
            ],
            **self.messages(),
        }


def answer_attention(result: WindowedAnalysis, answers: list[Answer], layer: int, head: int) -> views.PlotlySpec:
    """How the answer tokens attend to the question tokens (``head=-1``: mean over heads)."""
    window = result.windows[answers[0].window if answers else 0]
    layer = check_index(layer, window.n_layers, "layer")
    if head != MEAN_OF_HEADS:
        head = check_index(head, window.n_heads, "head")
    labels = window.token_labels()
    question = [i for i, sid in enumerate(window.sequence_ids) if sid == 0]
    rows = list(range(answers[0].start_token, answers[0].end_token + 1)) if answers else question
    weights = window.attention(layer) if head == MEAN_OF_HEADS else window.attention(layer, head)[None]
    matrix = weights.astype(np.float32).mean(axis=0)[np.ix_(rows, question)]
    which = Msg("qa.mean_of_heads") if head == MEAN_OF_HEADS else Msg("fig.head_n", head=head)
    return views.attention_heatmap(
        matrix,
        [labels[i] for i in rows],
        [labels[i] for i in question],
        title=Msg("qa.title_attention", layer=layer, which=which),
    )


def answer_highlights(context: str, answers: list[Answer], unreliable: bool = False) -> list[tuple[str, Msg | None]]:
    if not answers:
        return [(context, None)]
    best = answers[0]
    badge = Msg("read.unreliable_answer") if unreliable else Msg("qa.badge")
    return [(context[: best.start], None), (context[best.start : best.end], badge), (context[best.end :], None)]


def present(
    question: str, context: str, model: str | None = None, layer: int = 5, head: int = MEAN_OF_HEADS, fit: bool = False
) -> QAResult:
    result, warnings = analysis_for(question, model, TASK, pair=context)
    answers, no_answer = decode(result)
    layer, fitted_layer = fit_index(layer, result.n_layers, "layer", fit)
    if head != MEAN_OF_HEADS:
        head, fitted_head = fit_index(head, result.n_heads, "head", fit)
    else:
        fitted_head = ()
    best = answers[0] if answers else None
    window = result.windows[best.window if best else 0]
    unreliable = readability.unreliable(readability.of_analysis(result))
    if best is None:
        summary = Msg("qa.no_span")
    else:
        summary = Msg(
            "read.summary_qa" if unreliable else "qa.summary",
            model=result.model_name,
            answer=best.text,
            score=f"{best.score:.3f}",
            start=best.start,
            end=best.end,
        )
    concerns = tuple(
        Msg(f"qa.{doubt}", score=f"{best.score:.2f}", no_answer=f"{no_answer:.3f}") for doubt in doubts(best, no_answer)
    )
    return QAResult(
        **layer_head(result, layer, head),
        answers=answers,
        no_answer=no_answer,
        highlights=answer_highlights(result.context, answers, unreliable is not None),
        table=Table(ANSWER_COLUMNS, [[rank + 1, a.text, round(a.score, 4), a.start, a.end] for rank, a in enumerate(answers)]),
        probabilities=views.span_probabilities(
            softmax(window.logits[:, 0]), softmax(window.logits[:, 1]), window.token_labels(), Msg("qa.title_probabilities")
        ),
        attention=answer_attention(result, answers, layer, head),
        unreliable=unreliable,
        lines=(summary, *measured_quality(result.model_name), *fitted_layer, *fitted_head, *result.notes),
        warnings=warnings + concerns,
    )


def view(key: AnalysisKey, layer: int, head: int) -> views.PlotlySpec:
    result = backend.run(key)
    answers, _ = decode(result)
    return answer_attention(result, answers, layer, int(head))
