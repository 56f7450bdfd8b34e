"""Sentence and word embeddings from hidden states (chapter 3.9): pooling, cosine, PCA — pure numpy.

Pooling of one sentence's ``hidden (T, D)`` at a layer:

- ``sentence-transformers``: what all-MiniLM-L6-v2 itself does (its ``modules.json``: Pooling with
  ``pooling_mode_mean_tokens`` then Normalize): the mean over every token whose attention mask is 1
  — [CLS] and [SEP] included — then L2 normalisation.
- ``mean`` / ``max``: over the non-special tokens only.
- ``cls``: the [CLS] vector (BERT's pooled input; all-MiniLM-L6-v2 was not trained to use it).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

POOLINGS = ("sentence-transformers", "mean", "max", "cls")


def pool(hidden: np.ndarray, special_mask: np.ndarray, method: str, attention_mask: np.ndarray | None = None) -> np.ndarray:
    """One vector ``(D,)`` for one sentence's ``hidden`` ``(T, D)``."""
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

    Signs are fixed (each axis points toward its largest loading) so the map does not flip between runs."""
    points = np.asarray(points, dtype=np.float64)
    centred = points - points.mean(axis=0)
    if len(points) < 2 or not np.any(centred):
        return np.zeros((len(points), 2)), np.zeros(2)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    axes = axes[:2]
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    axes = axes * np.where(signs == 0, 1.0, signs)[:, None]
    coordinates = centred @ axes.T
    variance = singular**2
    share = variance[:2] / variance.sum()
    if coordinates.shape[1] < 2:  # one axis only (two points): pad the second
        coordinates = np.pad(coordinates, ((0, 0), (0, 2 - coordinates.shape[1])))
        share = np.pad(share, (0, 2 - len(share)))
    return coordinates, share


def word_positions(text: str, offsets: Sequence[tuple[int, int] | None], word: str) -> list[list[int]]:
    """Token indices of every whole-word occurrence of ``word`` in ``text`` (case-insensitive), one list
    per occurrence: the tokens whose character span lies inside it (a word may be several pieces)."""
    word = word.strip().lower()
    if not word:
        return []
    found = []
    lowered = text.lower()
    start = lowered.find(word)
    while start >= 0:
        end = start + len(word)
        before = lowered[start - 1] if start > 0 else " "
        after = lowered[end] if end < len(lowered) else " "
        if not before.isalnum() and not after.isalnum():
            tokens = [i for i, span in enumerate(offsets) if span is not None and span[0] >= start and span[1] <= end]
            if tokens:
                found.append(tokens)
        start = lowered.find(word, start + 1)
    return found


def word_vectors_by_layer(hidden_states: np.ndarray, positions: Sequence[int]) -> np.ndarray:
    """``(L + 1, T, D)`` -> ``(L + 1, D)``: the word's vector at every layer, the mean of its pieces."""
    return np.asarray(hidden_states, dtype=np.float64)[:, list(positions)].mean(axis=1)


def cosine_by_layer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two ``(L + 1, D)`` arrays: one value per layer."""
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.sum(a * b, axis=1) / np.where(norms > 0, norms, 1.0)
