"""Syntax heads after Clark et al. 2019 ("What Does BERT Look At?", section 4.2), in pure numpy.

A dependency parse links every word (the *dependent*) to its *head word* with a relation
(``nsubj``, ``det``, …). Clark et al. ask, for each relation, whether a single attention head
finds the head word: the head word should be the word the dependent attends to most. They
measure that accuracy for every layer x head, keep the best head per relation, and compare it
with the best *fixed-offset* baseline ("the head word is always k words to the left/right",
k = ±1…±3).

Everything here works on words, not word pieces. ``word_level`` converts a token-level
attention tensor as in the paper: attention *to* a word split into pieces is the sum over its
pieces (the word receives what its pieces receive), attention *from* a split word is the mean
over its pieces (each query row stays a distribution). Special tokens ([CLS], [SEP]) and
padding belong to no word, so they drop out: the predicted word is the most-attended word among
the sentence's own words, never [CLS]/[SEP] (which attract much of the attention and would
otherwise win most argmaxes), and never the word itself (no word is its own head). This is what
the paper's released code does (``attn[1:-1, 1:-1]`` after zeroing the diagonal).

Two directions, both as in the paper's code:

- dependent -> head: the word that dependent ``d`` attends to most, ``argmax_k A[d, k]``, is its
  gold head.
- head -> dependent: the word that attends most to ``d``, ``argmax_q A[q, d]`` (the argmax of
  ``d``'s column, i.e. the transposed matrix), is its gold head: the head word points at its
  dependent.

Ties go to the first word (``np.argmax``); the best head of a relation is the first of the
(layer, head) grid with the highest accuracy (lowest layer, then lowest head); the best offset the
first of ``OFFSETS`` with the most hits. Everything is counted in integers (``SyntaxCounts``), so
counts from shards of a corpus merge exactly, in any order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

OFFSETS = (-1, 1, -2, 2, -3, 3)  # the fixed-offset baselines, nearest first (ties go to the nearer one)
ROOT = -1  # head index of the sentence root (no head word; not an arc)


def word_of_pieces(piece_offsets: Sequence[tuple[int, int] | None], word_spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """``(T,)`` the word each piece belongs to, ``-1`` for special tokens and pieces outside every word.

    Words and pieces are aligned through character offsets: a piece ``(start, end)`` belongs to the
    first word whose span ``[start, end)`` overlaps it. When the two tokenizers split a string
    differently ("don't": pieces ``don ' t``, spaCy words ``do n't``) a piece that crosses a word
    boundary goes to the word where it starts, so each word still gets the pieces that start in it.
    """
    starts = np.array([start for start, _ in word_spans], dtype=np.int64)
    ends = np.array([end for _, end in word_spans], dtype=np.int64)
    owner = np.full(len(piece_offsets), -1, dtype=np.int64)
    for index, offset in enumerate(piece_offsets):
        if offset is None or offset[0] >= offset[1]:
            continue
        overlapping = np.flatnonzero((starts < offset[1]) & (ends > offset[0]))
        if overlapping.size:
            owner[index] = overlapping[0]
    return owner


def word_level(attentions: np.ndarray, word_of_token: np.ndarray, n_words: int) -> np.ndarray:
    """Word-to-word attention ``(..., W, W)`` from token attention ``(..., T, T)`` (``[..., query, key]``).

    Keys: the sum over a word's pieces. Queries: the mean over a word's pieces. Tokens with word
    ``-1`` (special tokens, padding) are left out. Every word needs at least one piece.
    """
    owner = np.asarray(word_of_token, dtype=np.int64)
    members = np.zeros((n_words, owner.size))
    inside = owner >= 0
    members[owner[inside], np.flatnonzero(inside)] = 1.0
    pieces = members.sum(axis=1)
    if np.any(pieces == 0):
        raise ValueError(f"words without a piece: {np.flatnonzero(pieces == 0).tolist()}")
    weights = np.asarray(attentions, dtype=np.float64)
    to_words = weights @ members.T  # (..., T, W): what each token sends to each word
    return (members / pieces[:, None]) @ to_words  # (..., W, W): mean over the query word's pieces


def predicted_heads(word_attention: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every layer, head and word ``d``: the word predicted as ``d``'s head, in both directions.

    Returns ``(dependent_to_head, head_to_dependent)``, each ``(..., W)`` int: ``argmax_k A[d, k]`` and
    ``argmax_q A[q, d]``, the word itself excluded.
    """
    scores = np.array(word_attention, dtype=np.float64, copy=True)
    n_words = scores.shape[-1]
    diagonal = np.arange(n_words)
    scores[..., diagonal, diagonal] = -np.inf
    return scores.argmax(axis=-1), scores.argmax(axis=-2)


def arcs_of(heads: Sequence[int], relations: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``relation -> (dependents, their heads)``, word indices; the root (head ``ROOT``) is no arc."""
    grouped: dict[str, tuple[list[int], list[int]]] = {}
    for dependent, (head, relation) in enumerate(zip(heads, relations, strict=True)):
        if head == ROOT or head == dependent:
            continue
        dependents, head_words = grouped.setdefault(relation, ([], []))
        dependents.append(dependent)
        head_words.append(head)
    return {name: (np.array(deps, dtype=np.int64), np.array(hws, dtype=np.int64)) for name, (deps, hws) in grouped.items()}


def offset_hits(dependents: np.ndarray, head_words: np.ndarray, offsets: Sequence[int] = OFFSETS) -> np.ndarray:
    """``(len(offsets),)`` how many arcs have their head word exactly ``offset`` words from the dependent."""
    distance = np.asarray(head_words) - np.asarray(dependents)
    return (distance[:, None] == np.asarray(offsets)[None, :]).sum(axis=0).astype(np.int64)


@dataclass
class RelationCounts:
    """Integer counts of one relation: arcs seen, per-head hits in each direction, baseline hits per offset."""

    count: int
    dependent_to_head: np.ndarray  # (L, H) int64
    head_to_dependent: np.ndarray  # (L, H) int64
    offsets: np.ndarray  # (len(OFFSETS),) int64

    def merged(self, other: RelationCounts) -> RelationCounts:
        return RelationCounts(
            self.count + other.count,
            self.dependent_to_head + other.dependent_to_head,
            self.head_to_dependent + other.head_to_dependent,
            self.offsets + other.offsets,
        )

    def copy(self) -> RelationCounts:
        return RelationCounts(self.count, self.dependent_to_head.copy(), self.head_to_dependent.copy(), self.offsets.copy())

    def add(self, other: RelationCounts) -> None:
        """``merged``, in place (a sentence's counts into a running total)."""
        self.count += other.count
        self.dependent_to_head += other.dependent_to_head
        self.head_to_dependent += other.head_to_dependent
        self.offsets += other.offsets


@dataclass
class SyntaxCounts:
    """Hits per relation over many sentences; ``merged`` adds two of them exactly (integers only)."""

    n_layers: int
    n_heads: int
    relations: dict[str, RelationCounts] = field(default_factory=dict)

    def add_sentence(self, word_attention: np.ndarray, heads: Sequence[int], relations: Sequence[str]) -> None:
        """Count one sentence: ``word_attention`` ``(L, H, W, W)``, ``heads[d]`` the gold head word of
        word ``d`` (``ROOT`` for the root), ``relations[d]`` its relation."""
        dependent_to_head, head_to_dependent = predicted_heads(word_attention)
        for name, (dependents, head_words) in arcs_of(heads, relations).items():
            counts = RelationCounts(
                int(dependents.size),
                (dependent_to_head[..., dependents] == head_words).sum(axis=-1).astype(np.int64),
                (head_to_dependent[..., dependents] == head_words).sum(axis=-1).astype(np.int64),
                offset_hits(dependents, head_words),
            )
            known = self.relations.get(name)
            if known is None:
                self.relations[name] = counts
            else:
                known.add(counts)

    def merged(self, other: SyntaxCounts) -> SyntaxCounts:
        if (self.n_layers, self.n_heads) != (other.n_layers, other.n_heads):
            raise ValueError("counts of different models")
        relations = {name: counts.merged(other.relations[name]) if name in other.relations else counts.copy()
                     for name, counts in self.relations.items()}  # fmt: skip
        for name, counts in other.relations.items():
            relations.setdefault(name, counts.copy())
        return SyntaxCounts(self.n_layers, self.n_heads, relations)

    def table(self, min_count: int) -> list[dict]:
        """Relations with at least ``min_count`` arcs, most frequent first (then by name): the best head
        in each direction and the best fixed offset, with accuracies."""
        rows = []
        for name, counts in sorted(self.relations.items(), key=lambda item: (-item[1].count, item[0])):
            if counts.count < min_count:
                continue
            rows.append(
                {
                    "relation": name,
                    "count": counts.count,
                    "dependent_to_head": best_head(counts.dependent_to_head, counts.count),
                    "head_to_dependent": best_head(counts.head_to_dependent, counts.count),
                    "baseline": best_offset(counts.offsets, counts.count),
                }
            )
        return rows

    def rare(self, min_count: int) -> dict[str, int]:
        """The relations left out of ``table`` and their counts."""
        return {name: counts.count for name, counts in sorted(self.relations.items()) if counts.count < min_count}


def best_head(hits: np.ndarray, count: int) -> dict:
    """The (layer, head) with the most hits (first in layer, head order on ties) and its accuracy."""
    layer, head = np.unravel_index(int(np.argmax(hits)), hits.shape)
    return {"layer": int(layer), "head": int(head), "accuracy": int(hits[layer, head]) / count}


def best_offset(hits: np.ndarray, count: int, offsets: Sequence[int] = OFFSETS) -> dict:
    index = int(np.argmax(hits))
    return {"offset": int(offsets[index]), "accuracy": int(hits[index]) / count}


def merge_all(parts: Iterable[SyntaxCounts]) -> SyntaxCounts:
    parts = list(parts)
    if not parts:
        raise ValueError("nothing to merge")
    total = parts[0]
    for part in parts[1:]:
        total = total.merged(part)
    return total
