"""Two inputs, one model: align their tokens, compare their attention, score which heads changed.

Pure functions on token lists and arrays (tested on hand-made ones); the Compare tab's presenter
(``present/compare.py``) feeds them two cached analyses.

Alignment, in this order (the first that applies):

- ``identical``   the same tokens in the same order: token i <-> token i.
- ``permutation`` the same tokens in another order ("The cat sat on the mat." / "mat the on sat cat
                  The."): the k-th occurrence of a token in A <-> its k-th occurrence in B. Without
                  position embeddings attention is permutation-equivariant, so the difference is 0.
- ``position``    as many tokens (a word replaced by another single-piece word): i <-> i.
- ``words``       otherwise: the texts' words (a token and its ``##`` pieces) matched by difflib on
                  their lower-cased spelling; a run of replaced words of equal length pairs up word by
                  word; inserted, deleted and unequal runs are left out (and counted). Attention is
                  summed over a word's pieces as keys and averaged over them as queries, as the
                  Attention tab's word view does.

After alignment both matrices are restricted to the matched units and each row renormalised to 1
(a dropped key's weight is spread proportionally), so they compare like for like.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .tasks import continues_word

KINDS = ("identical", "permutation", "position", "words")


@dataclass(frozen=True)
class Alignment:
    """Matched units of two token sequences: unit ``u`` is tokens ``a_units[u]`` of A and ``b_units[u]`` of B."""

    kind: str
    a_units: tuple[tuple[int, ...], ...]
    b_units: tuple[tuple[int, ...], ...]
    labels: tuple[str, ...]  # A's spelling, "a→b" where the two differ
    unmatched_a: int = 0  # tokens of A left out
    unmatched_b: int = 0

    @property
    def size(self) -> int:
        return len(self.a_units)


def word_units(tokens: Sequence[str], special_mask: Sequence[bool]) -> list[tuple[int, ...]]:
    """Token indices grouped into words (a token and the ``##`` pieces after it); a special token is its own unit."""
    units: list[list[int]] = []
    for index, token in enumerate(tokens):
        if units and not special_mask[index] and not special_mask[units[-1][-1]] and continues_word(token):
            units[-1].append(index)
        else:
            units.append([index])
    return [tuple(unit) for unit in units]


def _spell(tokens: Sequence[str], unit: Sequence[int]) -> str:
    return "".join(tokens[i].removeprefix("##") if n else tokens[i] for n, i in enumerate(unit))


def align(tokens_a: Sequence[str], tokens_b: Sequence[str], special_a: Sequence[bool], special_b: Sequence[bool]) -> Alignment:
    """Align two token sequences (see the module docstring for the rules)."""
    tokens_a, tokens_b = list(tokens_a), list(tokens_b)
    if tokens_a == tokens_b:
        units = tuple((i,) for i in range(len(tokens_a)))
        return Alignment("identical", units, units, tuple(tokens_a))
    if sorted(tokens_a) == sorted(tokens_b):
        seen: dict[str, list[int]] = {}
        for index, token in enumerate(tokens_b):
            seen.setdefault(token, []).append(index)
        taken: dict[str, int] = {}
        b_units = []
        for token in tokens_a:
            b_units.append((seen[token][taken.get(token, 0)],))
            taken[token] = taken.get(token, 0) + 1
        return Alignment("permutation", tuple((i,) for i in range(len(tokens_a))), tuple(b_units), tuple(tokens_a))
    if len(tokens_a) == len(tokens_b):
        labels = tuple(a if a == b else f"{a}→{b}" for a, b in zip(tokens_a, tokens_b, strict=True))
        units = tuple((i,) for i in range(len(tokens_a)))
        return Alignment("position", units, units, labels)
    words_a, words_b = word_units(tokens_a, special_a), word_units(tokens_b, special_b)
    shown_a = [_spell(tokens_a, unit) for unit in words_a]
    shown_b = [_spell(tokens_b, unit) for unit in words_b]
    spelled_a, spelled_b = [word.lower() for word in shown_a], [word.lower() for word in shown_b]
    a_units: list[tuple[int, ...]] = []
    b_units: list[tuple[int, ...]] = []
    labels: list[str] = []
    matcher = difflib.SequenceMatcher(a=spelled_a, b=spelled_b, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and a1 - a0 == b1 - b0):
            for i, j in zip(range(a0, a1), range(b0, b1), strict=True):
                a_units.append(words_a[i])
                b_units.append(words_b[j])
                labels.append(shown_a[i] if tag == "equal" else f"{shown_a[i]}→{shown_b[j]}")
    kept_a = sum(len(unit) for unit in a_units)
    kept_b = sum(len(unit) for unit in b_units)
    return Alignment("words", tuple(a_units), tuple(b_units), tuple(labels), len(tokens_a) - kept_a, len(tokens_b) - kept_b)


def restrict(attentions: np.ndarray, units: Sequence[Sequence[int]]) -> np.ndarray:
    """``(..., T, T)`` -> ``(..., U, U)``: keys summed over each unit's tokens, queries averaged over
    them, then every row renormalised over the kept units (rows that keep nothing stay uniform)."""
    attentions = np.asarray(attentions, dtype=np.float64)
    by_key = np.stack([attentions[..., list(unit)].sum(axis=-1) for unit in units], axis=-1)  # (..., T, U)
    by_query = np.stack([by_key[..., list(unit), :].mean(axis=-2) for unit in units], axis=-2)  # (..., U, U)
    totals = by_query.sum(axis=-1, keepdims=True)
    uniform = np.full_like(by_query, 1.0 / max(1, len(units)))
    return np.where(totals > 0, by_query / np.where(totals > 0, totals, 1.0), uniform)


def aligned_pair(attentions_a: np.ndarray, attentions_b: np.ndarray, alignment: Alignment) -> tuple[np.ndarray, np.ndarray]:
    """Both attentions restricted to the aligned units, in the same unit order."""
    return restrict(attentions_a, alignment.a_units), restrict(attentions_b, alignment.b_units)


def js_divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen–Shannon divergence of the rows of ``p`` and ``q`` (last axis), in bits: 0 … 1."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    m = 0.5 * (p + q)

    def kl(x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(x > 0, x * np.log2(np.where(x > 0, x, 1.0) / np.where(m > 0, m, 1.0)), 0.0)
        return terms.sum(axis=-1)

    return np.clip(0.5 * kl(p) + 0.5 * kl(q), 0.0, 1.0)


def head_divergence(aligned_a: np.ndarray, aligned_b: np.ndarray) -> np.ndarray:
    """``(L, H, U, U)`` x 2 -> ``(L, H)``: the Jensen–Shannon divergence of each query row, averaged over rows."""
    return js_divergence(aligned_a, aligned_b).mean(axis=-1)
