"""NER tab: entities over the text, the tag of every token, the tagger's attention (3.7)."""

from __future__ import annotations

from dataclasses import dataclass

from .. import backend, readability, views
from ..analysis import Analysis, AnalysisKey, check_index
from ..errors import InputError
from ..messages import Msg
from ..tasks.ner import STRATEGIES, entities, token_tags
from .common import LayerHeadResult, Table, analysis_for, fit_layer_head, layer_head, measured_quality, token_choices

TASK = "ner"
ENTITY_COLUMNS = tuple(Msg(f"col.{name}") for name in ("entity", "type", "score", "start", "end"))
TAG_COLUMNS = tuple(Msg(f"col.{name}") for name in ("index", "token", "tag", "probability"))


@dataclass(frozen=True)
class NerResult(LayerHeadResult):
    token: int
    token_choices: list[tuple[str, int]]
    strategy: str
    highlights: list[tuple[str, str | None]]
    entities: Table
    tags: Table
    attention: views.PlotlySpec
    unreliable: Msg | None = None  # why the tags must not be trusted (``readability``), None when they may

    def api(self) -> dict:
        return {
            "model": self.key.model,
            "strategy": self.strategy,
            "entities": self.entities.records(),
            "reliable": self.unreliable is None,
            **self.messages(),
        }


def token_attention(analysis: Analysis, layer: int, head: int, token: int) -> views.PlotlySpec:
    layer = check_index(layer, analysis.n_layers, "layer")
    head = check_index(head, analysis.n_heads, "head")
    token = check_index(token, analysis.n_tokens, "token")
    labels = analysis.token_labels()
    return views.attention_row(
        analysis.attention(layer, head)[token], labels, title=Msg("ner.title_row", token=labels[token], layer=layer, head=head)
    )


def present(
    text: str, model: str | None = None, strategy: str = "simple", layer: int = 5, head: int = 0, fit: bool = False
) -> NerResult:
    if strategy not in STRATEGIES:
        raise InputError("ner.unknown_strategy", strategy=str(strategy)[:40], known=", ".join(STRATEGIES))
    analysis, warnings = analysis_for(text, model, TASK)
    found = entities(analysis, strategy)
    layer, head, fitted = fit_layer_head(layer, head, analysis, fit)
    # Start on the first token inside an entity: that is what a user wants to inspect.
    first = next((i for i, span in enumerate(analysis.offsets) if span and any(e.start <= span[0] < e.end for e in found)), 0)
    tags = token_tags(analysis)
    unreliable = readability.unreliable(readability.of_analysis(analysis))
    # a text the model cannot read: each entity's label says so, not just the status line
    types = [Msg("read.unreliable_entity", type=e.type) if unreliable else e.type for e in found]
    return NerResult(
        **layer_head(analysis, layer, head),
        token=first,
        token_choices=token_choices(analysis),
        strategy=strategy,
        highlights=views.token_highlights(analysis.text, [(e.start, e.end) for e in found], types),
        entities=Table(ENTITY_COLUMNS, [[e.text, e.type, round(e.score, 4), e.start, e.end] for e in found]),
        tags=Table(
            TAG_COLUMNS,
            [[i, token, tag, round(p, 3)] for i, (token, (tag, p)) in enumerate(zip(analysis.tokens, tags, strict=True))],
        ),
        attention=token_attention(analysis, layer, head, first),
        unreliable=unreliable,
        lines=(
            Msg(
                "read.summary_ner" if unreliable else "ner.summary",
                model=analysis.model_name,
                count=len(found),
                strategy=strategy,
            ),
            *measured_quality(analysis.model_name),
            *fitted,
            *analysis.notes,
        ),
        warnings=warnings,
    )


def view(key: AnalysisKey, layer: int, head: int, token: int) -> views.PlotlySpec:
    return token_attention(backend.run(key), layer, head, token or 0)
