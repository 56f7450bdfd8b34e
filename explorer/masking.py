"""BERT's masking recipe (chapter 3.6, 問題3), step by step, as transformers' data collator draws it.

``DataCollatorForLanguageModeling(mlm_probability=0.15)`` on one sequence: every non-special token is
chosen with probability 15 % (Bernoulli); a chosen token becomes [MASK] with probability 80 %; of
the rest, half become a random token (10 % overall) and half stay unchanged (10 %). The loss is
computed on the chosen positions only (labels -100 elsewhere). ``simulate`` makes the same torch
random calls in the same order, so with the same seed it draws exactly what the collator draws
(``tests/test_masking.py`` checks it against the collator itself).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IGNORED = -100  # the label of a position without loss (PyTorch's cross_entropy ignore_index)
OUTCOMES = ("not_chosen", "mask", "random", "unchanged")
RATE, MASK_SHARE, RANDOM_SHARE = 0.15, 0.8, 0.1


@dataclass(frozen=True)
class Draws:
    """Draws over copies of one sequence, ``(N, T)`` each (a batch, as the collator masks one)."""

    outcome: np.ndarray  # str, one of OUTCOMES per position
    input_ids: np.ndarray  # what the model reads after masking
    labels: np.ndarray  # the original id where the loss is computed, IGNORED elsewhere


def generator(seed: int):
    import torch

    return torch.Generator().manual_seed(int(seed))


def simulate(
    token_ids: np.ndarray,
    special_mask: np.ndarray,
    vocab_size: int,
    mask_id: int,
    seed: int,
    draws: int = 1,
    rate: float = RATE,
    mask_share: float = MASK_SHARE,
    random_share: float = RANDOM_SHARE,
) -> Draws:
    """``draws`` copies of the sequence masked as one batch by the collator seeded with ``seed``: its
    torch random calls, in its order (``transformers`` ``DataCollatorForLanguageModeling.torch_mask_tokens``)."""
    import torch

    rng = generator(seed)
    ids = torch.tensor(np.array(token_ids, dtype=np.int64))[None].repeat(int(draws), 1)
    labels = ids.clone()
    probability = torch.full(labels.shape, float(rate))
    special = torch.tensor(np.array(special_mask, dtype=bool))[None].expand_as(labels)
    probability.masked_fill_(special, 0.0)
    chosen = torch.bernoulli(probability, generator=rng).bool()
    labels[~chosen] = IGNORED
    inputs = ids.clone()
    masked = torch.bernoulli(torch.full(labels.shape, float(mask_share)), generator=rng).bool() & chosen
    inputs[masked] = int(mask_id)
    randomised = torch.zeros_like(chosen)
    if mask_share < 1 and random_share > 0:
        scaled = random_share / (1 - mask_share)
        randomised = torch.bernoulli(torch.full(labels.shape, scaled), generator=rng).bool() & chosen & ~masked
        words = torch.randint(int(vocab_size), labels.shape, dtype=torch.long, generator=rng)
        inputs[randomised] = words[randomised]
    outcome = np.where(
        masked.numpy(), "mask", np.where(randomised.numpy(), "random", np.where(chosen.numpy(), "unchanged", "not_chosen"))
    )
    return Draws(outcome, inputs.numpy(), labels.numpy())


@dataclass(frozen=True)
class Convergence:
    """Cumulative shares after each draw: chosen among the non-special tokens, and among the chosen
    ones the [MASK], random and unchanged shares (NaN while nothing was chosen)."""

    chosen: np.ndarray
    mask: np.ndarray
    random: np.ndarray
    unchanged: np.ndarray
    counts: dict[str, int]
    eligible: int  # non-special tokens per draw


def convergence(draws: Draws, special_mask: np.ndarray) -> Convergence:
    """The running shares over the rows of ``draws``, one row after another."""
    eligible = int((~np.asarray(special_mask, dtype=bool)).sum())
    per_row = {name: np.cumsum((draws.outcome == name).sum(axis=1)) for name in OUTCOMES[1:]}
    chosen = per_row["mask"] + per_row["random"] + per_row["unchanged"]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = {name: np.where(chosen > 0, per_row[name] / np.maximum(chosen, 1), np.nan) for name in OUTCOMES[1:]}
    seen = eligible * np.arange(1, len(chosen) + 1)
    return Convergence(
        chosen=chosen / np.maximum(seen, 1),
        mask=share["mask"],
        random=share["random"],
        unchanged=share["unchanged"],
        counts={name: int(per_row[name][-1]) for name in OUTCOMES[1:]},
        eligible=eligible,
    )
