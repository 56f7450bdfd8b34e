"""Sentence and word embeddings from hidden states (chapter 3.9): pooling, cosine, PCA — pure numpy.

Pooling of one sentence's ``hidden (T, D)`` at a layer:

- ``sentence-transformers``: what all-MiniLM-L6-v2 itself does (its ``modules.json``: Pooling with
  ``pooling_mode_mean_tokens`` then Normalize): the mean over every token whose attention mask is 1
  — [CLS] and [SEP] included — then L2 normalisation.
- ``mean`` / ``max``: over the non-special tokens only.
- ``cls``: the [CLS] vector (BERT's pooled input; all-MiniLM-L6-v2 was not trained to use it).

Words are found in a text through the tokens' character offsets, so a word cut into several
WordPiece pieces ("token", "##ization") is the mean of its pieces' vectors.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Protocol

import numpy as np

POOLINGS = ("sentence-transformers", "mean", "max", "cls")


class Tokenized(Protocol):
    """What ``word_positions`` reads of an analysis: the text and each token's character span."""

    @property
    def text(self) -> str: ...

    @property
    def offsets(self) -> Sequence[tuple[int, int] | None]: ...


class Encoded(Tokenized, Protocol):
    """A tokenized text with its hidden states ``(L + 1, T, D)`` ([0] is the embedding output)."""

    @property
    def hidden_states(self) -> np.ndarray: ...


def pool(hidden: np.ndarray, special_mask: np.ndarray, method: str, attention_mask: np.ndarray | None = None) -> np.ndarray:
    """One vector ``(D,)`` for one sentence's ``hidden`` ``(T, D)``.

    ``attention_mask`` (``(T,)``, 1 = a real token) matters only for a padded row: an analysis holds
    one unpadded text, where every token counts."""
    hidden = np.asarray(hidden, dtype=np.float64)
    special = np.asarray(special_mask, dtype=bool)
    if method == "sentence-transformers":
        mask = np.ones(len(hidden), dtype=bool) if attention_mask is None else np.asarray(attention_mask, dtype=bool)
        vector = hidden[mask].mean(axis=0)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)
    if method == "cls":
        return hidden[0]
    words = hidden[~special] if (~special).any() else hidden  # a text of specials only: use what there is
    if method == "mean":
        return words.mean(axis=0)
    if method == "max":
        return words.max(axis=0)
    raise ValueError(f"unknown pooling {method!r}; one of {POOLINGS}")


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    """``(N, D)`` -> ``(N, N)`` cosine similarities (a zero vector has similarity 0 to everything)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms > 0, norms, 1.0)
    return np.clip(unit @ unit.T, -1.0, 1.0)


def pca_2d(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(N, D)`` -> ``(N, 2)`` coordinates on the first two principal axes, and their share of the variance.

    Signs are fixed (each axis points toward its largest loading) so the map does not flip between
    runs or when the points come in another order. Fewer than three points are degenerate (one
    point: no axis; two: one axis): the missing coordinates and shares are 0."""
    points = np.asarray(points, dtype=np.float64)
    centred = points - points.mean(axis=0) if len(points) else points
    if len(points) < 2 or not np.any(centred):
        return np.zeros((len(points), 2)), np.zeros(2)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    axes = axes[:2]
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    axes = axes * np.where(signs == 0, 1.0, signs)[:, None]
    coordinates = centred @ axes.T
    variance = singular**2
    share = variance[:2] / variance.sum()
    if coordinates.shape[1] < 2:  # one axis only (a single dimension): pad the second
        coordinates = np.pad(coordinates, ((0, 0), (0, 2 - coordinates.shape[1])))
        share = np.pad(share, (0, 2 - len(share)))
    return coordinates, share


# kana, kanji (and its extension A), compatibility kanji, half-width kana
SPACELESS = (("\u3040", "\u30ff"), ("\u3400", "\u9fff"), ("\uf900", "\ufaff"), ("\uff66", "\uff9f"))


def _spaceless(char: str) -> bool:
    """Kana and kanji: scripts written without spaces, where a word may touch the next one."""
    return any(low <= char <= high for low, high in SPACELESS)


def _edge(inside: str, outside: str) -> bool:
    """A word may end between ``inside`` (its last or first character) and ``outside`` (its neighbour)."""
    return not outside.isalnum() or _spaceless(inside) or _spaceless(outside)


def word_positions(analysis: Tokenized, word: str) -> list[list[int]]:
    """Token indices of every whole-word occurrence of ``word`` in ``analysis.text`` (case-insensitive),
    one list per occurrence: the tokens whose character span lies inside it (a word may be several pieces).

    "bank" is found in "bank-robbery" but not in "banks"; in Japanese, written without spaces, any
    occurrence counts ("銀行" in "銀行に"). The match is made on the text itself (``re`` with
    IGNORECASE keeps character positions, where ``str.lower`` may not: "İ" lowers to two characters)."""
    word = str(word or "").strip()
    if not word:
        return []
    text = analysis.text
    found = []
    for match in re.finditer(re.escape(word), text, re.IGNORECASE):
        start, end = match.span()
        if start > 0 and not _edge(text[start], text[start - 1]):
            continue
        if end < len(text) and not _edge(text[end - 1], text[end]):
            continue
        tokens = [i for i, span in enumerate(analysis.offsets) if span is not None and span[0] >= start and span[1] <= end]
        if tokens:
            found.append(tokens)
    return found


def word_vectors_by_layer(hidden_states: np.ndarray, positions: Sequence[int]) -> np.ndarray:
    """``(L + 1, T, D)`` -> ``(L + 1, D)``: the word's vector at every layer, the mean of its pieces."""
    return np.asarray(hidden_states, dtype=np.float64)[:, list(positions)].mean(axis=1)


def cosine_by_layer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two ``(L + 1, D)`` arrays: one value per layer."""
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.sum(a * b, axis=1) / np.where(norms > 0, norms, 1.0)


def contextual_similarity_by_layer(
    analyses: Sequence[Encoded], word: str, max_pairs: int | None = None
) -> tuple[list[int], dict[tuple[int, int], np.ndarray]]:
    """``word``'s contextual vector in every text that holds it (its first occurrence, pieces averaged),
    compared pair by pair at every hidden state.

    Returns the indices of the texts holding the word and ``{(i, j): (L + 1,) cosines}`` for the
    pairs ``i < j`` among them (at most ``max_pairs``, in order)."""
    vectors = {}
    for index, analysis in enumerate(analyses):
        occurrences = word_positions(analysis, word)
        if occurrences:
            vectors[index] = word_vectors_by_layer(analysis.hidden_states, occurrences[0])
    pairs = itertools.islice(itertools.combinations(sorted(vectors), 2), max_pairs)
    return sorted(vectors), {(i, j): cosine_by_layer(vectors[i], vectors[j]) for i, j in pairs}
