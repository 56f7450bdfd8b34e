"""Attention from scratch, as the chapter writes it (sections 3.2-3.4), in numpy.

Nothing here is optimised: each function is the formula, line by line, so a
student can read it next to the textbook. ``tests/test_scratch.py`` proves that
these few lines reproduce the attention weights of the real MiniLM model.
"""

from __future__ import annotations

import numpy as np


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax: subtracting the max changes nothing mathematically."""
    exp_x = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return exp_x / np.sum(exp_x, axis=axis, keepdims=True)


def scaled_dot_product_attention(
    Q: np.ndarray, K: np.ndarray, V: np.ndarray, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V   (section 3.2).

    Q: (..., T_q, d_k), K: (..., T_k, d_k), V: (..., T_k, d_v).
    mask: broadcastable to (..., T_q, T_k), 1 where a key must be ignored.
    Returns (output (..., T_q, d_v), weights (..., T_q, T_k)); each weight row sums to 1.
    """
    d_k = Q.shape[-1]
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k)  # (..., T_q, T_k)
    if mask is not None:
        scores = scores + mask * -1e9
    weights = softmax(scores, axis=-1)
    output = weights @ V  # (..., T_q, d_v)
    return output, weights


def split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    """(T, d_model) -> (num_heads, T, d_k): head i gets dimensions [i*d_k, (i+1)*d_k)."""
    T, d_model = x.shape
    assert d_model % num_heads == 0, "d_model must be divisible by the number of heads"
    d_k = d_model // num_heads
    return x.reshape(T, num_heads, d_k).transpose(1, 0, 2)  # (H, T, d_k)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """(num_heads, T, d_k) -> (T, num_heads * d_k): the Concat of section 3.3."""
    H, T, d_k = x.shape
    return x.transpose(1, 0, 2).reshape(T, H * d_k)


def multi_head_self_attention(
    X: np.ndarray,
    W_Q: np.ndarray,
    W_K: np.ndarray,
    W_V: np.ndarray,
    num_heads: int,
    b_Q: np.ndarray | None = None,
    b_K: np.ndarray | None = None,
    b_V: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """head_i = Attention(X W_Q^i, X W_K^i, X W_V^i); returns (Concat(heads), weights).

    X: (T, d_model); W_*: (d_model, d_model), applied as X @ W + b.
    Returns (concatenated head outputs (T, d_model) -- before the output projection
    W_O -- and attention weights (num_heads, T, T)).
    """
    Q = X @ W_Q + (0 if b_Q is None else b_Q)  # (T, d_model)
    K = X @ W_K + (0 if b_K is None else b_K)
    V = X @ W_V + (0 if b_V is None else b_V)
    heads, weights = scaled_dot_product_attention(
        split_heads(Q, num_heads), split_heads(K, num_heads), split_heads(V, num_heads)
    )  # (H, T, d_k), (H, T, T)
    return merge_heads(heads), weights


def sinusoidal_positional_encoding(max_len: int, d_model: int) -> np.ndarray:
    """PE(pos, 2i) = sin(pos / 10000^(2i/d_model)), PE(pos, 2i+1) = cos(...)  (section 3.4).

    Returns (max_len, d_model). Odd ``d_model`` is allowed: the last column is a sine.
    """
    position = np.arange(max_len, dtype=np.float64)[:, None]  # (max_len, 1)
    two_i = np.arange(0, d_model, 2, dtype=np.float64)  # 2i = 0, 2, 4, ...
    angle = position / np.power(10000.0, two_i / d_model)  # (max_len, ceil(d_model/2))
    pe = np.zeros((max_len, d_model))
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle[:, : d_model // 2])
    return pe


def cosine_similarity(vectors: np.ndarray) -> np.ndarray:
    """(N, D) -> (N, N) cosine similarity of every pair of rows."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.maximum(norms, 1e-12)
    return unit @ unit.T
