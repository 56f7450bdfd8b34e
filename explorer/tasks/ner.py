"""Named-entity recognition: CoNLL-03 tags and pure post-processing (no model here).

Tags follow the chapter's model (dbmdz/bert-large-cased-finetuned-conll03-english):
B-/I- prefixes over PER, ORG, LOC and MISC. ``tags_from_spans`` projects character
spans onto tokens (for training and scoring); ``group_entities`` turns per-token
probabilities back into entities with character spans, like the transformers
token-classification pipeline's aggregation strategies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ENTITY_TYPES = ("PER", "ORG", "LOC", "MISC")
LABELS = ["O"] + [f"{prefix}-{kind}" for kind in ENTITY_TYPES for prefix in ("B", "I")]
STRATEGIES = ("none", "simple", "first", "average", "max")

Span = tuple[int, int]


@dataclass(frozen=True)
class Entity:
    type: str  # PER, ORG, LOC, MISC (or a B-/I- tag for strategy "none")
    start: int  # character offsets into the text
    end: int
    score: float
    text: str


def tags_from_spans(offsets: Sequence[Span | None], entities: Sequence[tuple[int, int, str]]) -> list[str]:
    """BIO tag per token: B- on the first token that starts inside an entity, I- on the rest.

    ``offsets`` are token character spans (None for special tokens, tagged "O").
    """
    tags = []
    for span in offsets:
        tag = "O"
        if span is not None:
            for start, end, kind in entities:
                if start <= span[0] < end:
                    tag = ("B-" if span[0] == start or not tags or not tags[-1].endswith(kind) else "I-") + kind
                    break
        tags.append(tag)
    return tags


def _words(offsets: Sequence[Span | None], text: str) -> list[list[int]]:
    """Group token indices into words, as WordPiece's ``##`` pieces do.

    A token continues the previous word when it starts exactly where that one ended and
    both touching characters are letters or digits ("cup|ert|ino"); punctuation is a
    word of its own ("Berlin" + ".").
    """
    words: list[list[int]] = []
    previous_end = None
    for index, span in enumerate(offsets):
        if span is None:
            previous_end = None
            continue
        touching = previous_end is not None and span[0] == previous_end and words
        if touching and text[span[0] - 1 : span[0]].isalnum() and text[span[0] : span[0] + 1].isalnum():
            words[-1].append(index)
        else:
            words.append([index])
        previous_end = span[1]
    return words


def group_entities(
    probabilities: np.ndarray,
    offsets: Sequence[Span | None],
    text: str,
    strategy: str = "simple",
    labels: Sequence[str] = LABELS,
) -> list[Entity]:
    """Entities from per-token label probabilities ``(T, n_labels)``.

    - ``none``: every non-O token on its own, with its B-/I- tag.
    - ``simple``: argmax tag per token; neighbouring tokens of one type merge
      (a B- tag starts a new entity); score = mean of the tokens' scores.
    - ``first`` / ``average`` / ``max``: first decide one tag per *word* (from its
      first sub-token, the mean of its sub-tokens' probabilities, or its most
      confident sub-token), then merge words as in ``simple``.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"Unknown aggregation strategy '{strategy}'; choose one of {', '.join(STRATEGIES)}.")
    labels = list(labels)
    units: list[tuple[list[int], np.ndarray]] = []  # token indices, probabilities for the unit
    if strategy in ("none", "simple"):
        units = [([i], probabilities[i]) for i, span in enumerate(offsets) if span is not None]
    else:
        for word in _words(offsets, text):
            rows = probabilities[word]
            if strategy == "first":
                vector = rows[0]
            elif strategy == "average":
                vector = rows.mean(axis=0)
            else:  # max: the sub-token whose best label is most confident decides
                vector = rows[int(rows.max(axis=1).argmax())]
            units.append((word, vector))

    entities: list[Entity] = []
    current: dict | None = None

    def close() -> None:
        nonlocal current
        if current is not None:
            start, end = current["start"], current["end"]
            entities.append(Entity(current["type"], start, end, float(np.mean(current["scores"])), text[start:end]))
        current = None

    for tokens, vector in units:
        best = int(np.argmax(vector))
        tag, score = labels[best], float(vector[best])
        start, end = offsets[tokens[0]][0], offsets[tokens[-1]][1]
        if tag == "O":
            close()
            continue
        prefix, kind = tag.split("-", 1)
        if strategy == "none":
            entities.append(Entity(tag, start, end, score, text[start:end]))
            continue
        if current is not None and current["type"] == kind and prefix == "I":
            current["end"] = end
            current["scores"].append(score)
        else:
            close()
            current = {"type": kind, "start": start, "end": end, "scores": [score]}
    close()
    return entities


def check_tagger(analysis) -> None:
    from ..errors import ExplorerError

    if analysis.logits is None or analysis.logits.ndim != 2 or not analysis.labels:
        raise ExplorerError("ner.not_tagger", model=analysis.model_name)


def entities(analysis, strategy: str = "simple") -> list[Entity]:
    """Entities with character spans from a token classifier's ``Analysis``."""
    from . import softmax

    check_tagger(analysis)
    return group_entities(softmax(analysis.logits), analysis.offsets, analysis.text, strategy, analysis.labels)


def token_tags(analysis) -> list[tuple[str, float]]:
    """The predicted tag of every token and its probability."""
    from . import softmax

    check_tagger(analysis)
    probabilities = softmax(analysis.logits)
    best = probabilities.argmax(axis=-1)
    return [(analysis.labels[int(b)], float(probabilities[i, b])) for i, b in enumerate(best)]
