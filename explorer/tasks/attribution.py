"""Which input tokens drove a prediction: attention rollout (Abnar & Zuidema, 2020).

Pure numpy over the cached attentions, so it costs no extra forward or backward pass.
Each layer's attention is averaged over heads and mixed with the identity (the residual
connection: ``0.5 * A + 0.5 * I``), rows renormalised, and the layers multiplied in
order; row ``q`` of the product says how much each input token flows into position
``q`` at the top of the network. For a classifier, read the [CLS] row.
"""

from __future__ import annotations

import numpy as np


def attention_rollout(attentions: np.ndarray, residual: float = 0.5) -> np.ndarray:
    """``(L, H, T, T)`` attentions -> ``(T, T)`` rollout; rows sum to 1."""
    n_tokens = attentions.shape[-1]
    rollout = np.eye(n_tokens)
    for layer in attentions.astype(np.float64):
        mixed = (1 - residual) * layer.mean(axis=0) + residual * np.eye(n_tokens)
        mixed /= mixed.sum(axis=-1, keepdims=True)
        rollout = mixed @ rollout  # later layers act on what earlier layers gathered
    return rollout


def token_scores(attentions: np.ndarray, special_mask: np.ndarray, query: int = 0) -> np.ndarray:
    """Rollout from ``query`` (default [CLS]) to every token, specials zeroed, max scaled to 1."""
    scores = attention_rollout(attentions)[query].copy()
    scores[special_mask] = 0.0
    top = scores.max(initial=0.0)
    return scores / top if top > 0 else scores
