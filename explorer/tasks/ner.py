"""Named-entity recognition: CoNLL-03 tags and pure post-processing (no model here).

Tags follow the chapter's model (dbmdz/bert-large-cased-finetuned-conll03-english):
B-/I- prefixes over PER, ORG, LOC and MISC. ``tags_from_spans`` projects character
spans onto tokens (for training and scoring); ``group_entities`` turns per-token
probabilities back into entities with character spans by the rules of transformers
5.24's ``TokenClassificationPipeline`` (aggregation strategies none / simple / first /
average / max), checked against that pipeline's own post-processing on generated cases
(``tests/test_tasks_ner_parity.py``):

- A *word* is a token and the ``##`` pieces that follow it; ``[UNK]`` always starts a
  word. So "5°C" (5 ##° ##c) and "Apple™" are one word each, and each CJK character is a
  word of its own, as BERT's tokenizer splits them.
- A label without a B-/I- prefix ("PER") counts as I-: it continues a neighbouring
  entity of its type, as in transformers.
- Neighbouring tokens (or words) of one type merge unless the later one is B-; an
  entity's score is the mean of its tokens' (words') scores.

One deliberate exception: transformers decides "continuation piece" by comparing the
piece's length with the length of the text it covers (``##`` adds two characters). When
the tokenizer's normalisation changes that length, the comparison misfires: an uncased
tokenizer drops a decomposed accent ("Sa\\u0303o", 4 characters, becomes the piece
"sao"), transformers glues "São" to the word before it, and "in São Paulo" yields only
"Paulo". Here the ``##`` mark itself decides, so the entity is "São Paulo". Text whose
normalisation keeps every piece's length (everything else) is grouped exactly as
transformers groups it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import UNKNOWN, continues_word

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


def tag_parts(label: str) -> tuple[str, str]:
    """``(B or I, type)`` of a label as transformers reads it: no B-/I- prefix counts as I-."""
    if label.startswith(("B-", "I-")):
        return label[0], label[2:]
    return "I", label


def words(tokens: Sequence[str], offsets: Sequence[Span | None], unk_token: str = UNKNOWN) -> list[list[int]]:
    """Token indices grouped into words: a token and the ``##`` pieces after it ("cup ##ert ##ino").

    Tokens without a span (special tokens) are skipped; ``[UNK]`` always starts a word.
    """
    found: list[list[int]] = []
    for index, (token, span) in enumerate(zip(tokens, offsets, strict=True)):
        if span is None:
            continue
        if found and continues_word(token, unk_token):
            found[-1].append(index)
        else:
            found.append([index])
    return found


def group_entities(
    probabilities: np.ndarray,
    tokens: Sequence[str],
    offsets: Sequence[Span | None],
    text: str,
    strategy: str = "simple",
    labels: Sequence[str] = LABELS,
    unk_token: str = UNKNOWN,
) -> list[Entity]:
    """Entities from per-token label probabilities ``(T, n_labels)`` (see the module docstring).

    - ``none``: every token whose label is not O, on its own, with its full label.
    - ``simple``: argmax label per token; neighbouring tokens of one type merge
      (a B- label starts a new entity); score = mean of the tokens' scores.
    - ``first`` / ``average`` / ``max``: first decide one label per *word* (from its
      first piece, the mean of its pieces' probabilities, or its most confident piece),
      then merge words as in ``simple``.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"Unknown aggregation strategy '{strategy}'; choose one of {', '.join(STRATEGIES)}.")
    labels = list(labels)
    units: list[tuple[list[int], np.ndarray]] = []  # token indices, probabilities for the unit
    if strategy in ("none", "simple"):
        units = [([i], probabilities[i]) for i, span in enumerate(offsets) if span is not None]
    else:
        for word in words(tokens, offsets, unk_token):
            rows = probabilities[word]
            if strategy == "first":
                vector = rows[0]
            elif strategy == "average":
                vector = np.nanmean(rows, axis=0)
            else:  # max: the piece whose best label is most confident decides
                vector = rows[int(rows.max(axis=1).argmax())]
            units.append((word, vector))

    decided = []  # (label, score, start, end) per unit
    for indices, vector in units:
        best = int(np.argmax(vector))
        decided.append((labels[best], float(vector[best]), offsets[indices[0]][0], offsets[indices[-1]][1]))
    if strategy == "none":
        return [Entity(label, start, end, score, text[start:end]) for label, score, start, end in decided if label != "O"]

    # Neighbours merge when they share a type and the later one is not B-; O units form groups too
    # (then dropped), so an O between two names always separates them.
    groups: list[list[tuple[str, float, int, int]]] = []
    for unit in decided:
        if groups:
            prefix, kind = tag_parts(unit[0])
            if prefix != "B" and kind == tag_parts(groups[-1][-1][0])[1]:
                groups[-1].append(unit)
                continue
        groups.append([unit])
    found = []
    for group in groups:
        kind = group[0][0].split("-", 1)[-1]  # the group's type, named as transformers names it
        if kind == "O":
            continue
        start, end = group[0][2], group[-1][3]
        found.append(Entity(kind, start, end, float(np.nanmean([unit[1] for unit in group])), text[start:end]))
    return found


def check_tagger(analysis) -> None:
    from ..errors import ExplorerError

    if analysis.logits is None or analysis.logits.ndim != 2 or not analysis.labels:
        raise ExplorerError("ner.not_tagger", model=analysis.model_name)


def entities(analysis, strategy: str = "simple") -> list[Entity]:
    """Entities with character spans from a token classifier's ``Analysis``."""
    from . import softmax

    check_tagger(analysis)
    return group_entities(softmax(analysis.logits), analysis.tokens, analysis.offsets, analysis.text, strategy, analysis.labels)


def token_tags(analysis) -> list[tuple[str, float]]:
    """The predicted tag of every token and its probability."""
    from . import softmax

    check_tagger(analysis)
    probabilities = softmax(analysis.logits)
    best = probabilities.argmax(axis=-1)
    return [(analysis.labels[int(b)], float(probabilities[i, b])) for i, b in enumerate(best)]
