"""Attention as norms (Kobayashi et al. 2020, "Attention is Not Only a Weight").

A head's output at query ``i`` is ``sum_j alpha_ij f(x_j)`` with the transformed value
``f(x_j) = (x_j W_V + b_V) W_O`` (head ``h``'s slice of W_O; W_O's bias is shared by all heads
and left out, as in the paper). A large weight on a vector of small norm moves little: the
[SEP] "sink" gets high weights and small norms. ``||alpha_ij f(x_j)|| = alpha_ij ||f(x_j)||``
per head; mixing heads needs the vectors: ``||sum_h alpha^h_ij f^h(x_j)||``.

The value vectors come from ``interventions.recorded_values`` (read-only hooks on the forward
pass the analysis already runs); this module only does the arithmetic, in torch or numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def head_value_vectors(values: Any, w_o: Any, n_heads: int) -> Any:
    """``f^h(x_j)``: ``values`` ``(..., T, H * d_head)`` and W_O's weight ``(D, H * d_head)`` (torch's
    ``Linear.weight``) -> ``(..., H, T, D)``. Works on torch tensors and numpy arrays alike."""
    *lead, n_tokens, width = values.shape
    d_head = width // n_heads
    per_head = values.reshape(*lead, n_tokens, n_heads, d_head)  # (..., T, H, d)
    w = w_o.reshape(w_o.shape[0], n_heads, d_head)  # (D, H, d)
    if isinstance(values, np.ndarray):
        return np.einsum("...thk,dhk->...htd", per_head, w)
    import torch

    return torch.einsum("...thk,dhk->...htd", per_head, w)


def head_value_norms(values: Any, w_o: Any, n_heads: int) -> Any:
    """``||f^h(x_j)||``: ``(..., H, T)``."""
    vectors = head_value_vectors(values, w_o, n_heads)
    if isinstance(vectors, np.ndarray):
        return np.linalg.norm(vectors, axis=-1)
    return vectors.norm(dim=-1)


def weighted_norms(attentions: np.ndarray, value_norms: np.ndarray) -> np.ndarray:
    """``||alpha_ij f(x_j)||`` per head: attentions ``(..., H, T, T)`` times value norms ``(..., H, T)``
    over the key axis."""
    return np.asarray(attentions, dtype=np.float32) * np.asarray(value_norms, dtype=np.float32)[..., None, :]


def mixed_norms(attention_rows: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """``||sum_h alpha^h_qj f^h(x_j)||`` for one query ``q``: attention rows ``(H, T)`` and head value
    vectors ``(H, T, D)`` -> ``(T,)``, the layer's norm-based attention from ``q`` to each token."""
    mixed = np.einsum("ht,htd->td", np.asarray(attention_rows, dtype=np.float64), np.asarray(vectors, dtype=np.float64))
    return np.linalg.norm(mixed, axis=-1)
