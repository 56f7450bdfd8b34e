"""One encoder block, one step at a time, with the model's own weights (sections 3.2, 3.3, 3.5).

``step_through(analysis, layer, head)`` recomputes block ``layer`` of the model from its real
input ``hidden_states[layer]`` with the chapter's formulas in float64 numpy, keeping every
intermediate matrix (all tokens, so any query token's row can be shown without recomputing),
and measures how far the result is from the model itself: the head's attention weights and the
block's output, i.e. the next layer's input ``hidden_states[layer + 1]``. No forward pass.

``toy(seed)`` runs the chapter's own numpy example (batch 2, 5 tokens, d_model 64, random Q, K,
V); ``cross_attention`` is exercise 問題1 (queries from one sentence, keys and values from
another); ``padded_pair``/``causal_weights`` are the masks. All pure numpy on arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from . import scratch
from .analysis import Analysis, check_index
from .weights import BlockWeights

# The stages of one block, in order, as the API names them (``row`` = the query token's row).
STAGES = (
    "input",  # X = hidden_states[layer]                          (T, d_model)
    "query",  # Q = X W_Q^h + b_Q^h                                 (T, d_k)
    "key",  # K
    "value",  # V
    "scores",  # Q K^T                                             (T, T)
    "scaled_scores",  # Q K^T / sqrt(d_k) (+ mask)                  (T, T)
    "weights",  # softmax(scaled scores)                            (T, T)
    "head_output",  # weights V                                     (T, d_k)
    "concat",  # Concat(head_1..head_H)                             (T, d_model)
    "projected",  # Concat W_O + b_O                                (T, d_model)
    "residual_1",  # X + projected                                  (T, d_model)
    "norm_1",  # LayerNorm                                          (T, d_model)
    "ffn_hidden",  # act(norm_1 W_1 + b_1)                          (T, d_ff)
    "ffn_output",  # ffn_hidden W_2 + b_2                           (T, d_model)
    "residual_2",  # norm_1 + ffn_output                            (T, d_model)
    "layer_output",  # LayerNorm = hidden_states[layer + 1]         (T, d_model)
)


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm(x) = gamma * (x - mean) / sqrt(var + eps) + beta, over the last axis (biased variance)."""
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return gamma * (x - mean) / np.sqrt(variance + eps) + beta


def activation(x: np.ndarray, name: str) -> np.ndarray:
    """The FFN's non-linearity: BERT's exact GELU x * Phi(x) (the chapter's FFN writes ReLU), or tanh-GELU, or ReLU."""
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "gelu":
        erf = torch.special.erf(torch.from_numpy(x / np.sqrt(2.0))).numpy()  # numpy has no erf
        return 0.5 * x * (1.0 + erf)
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))  # gelu_new / gelu_pytorch_tanh


def entropy(weights: np.ndarray) -> np.ndarray:
    """Entropy of each row, in nats (log T for a uniform row, 0 for a one-hot row)."""
    return -(weights * np.log(np.clip(weights, 1e-300, None))).sum(axis=-1)


def causal_mask(n: int) -> np.ndarray:
    """1 above the diagonal: key j > query i is hidden from query i, as a GPT-style decoder does."""
    return np.triu(np.ones((n, n)), k=1)


@dataclass(frozen=True)
class StepThrough:
    """Every intermediate matrix of one block for one head, and the distances to the model."""

    model_name: str
    tokens: tuple[str, ...]
    labels: tuple[str, ...]  # unique axis labels ("3 cat")
    layer: int
    head: int
    n_layers: int
    n_heads: int
    d_model: int
    d_k: int
    d_ff: int
    activation: str
    stages: dict[str, np.ndarray] = field(repr=False)  # name -> full matrix, in STAGES order
    unscaled_weights: np.ndarray = field(repr=False)  # softmax(Q K^T) without the 1/sqrt(d_k)
    model_weights: np.ndarray = field(repr=False)  # the model's own attention of this head (T, T)
    model_next_hidden: np.ndarray = field(repr=False)  # hidden_states[layer + 1]
    max_abs_diff_weights: float
    max_abs_diff_layer_output: float
    storage_dtype: str  # of the analysis' attentions

    @property
    def n_tokens(self) -> int:
        return len(self.tokens)

    def row(self, name: str, query: int) -> np.ndarray:
        return self.stages[name][query]


def step_through(analysis: Analysis, weights: BlockWeights, layer: int, head: int) -> StepThrough:
    """Recompute block ``layer`` of ``analysis``'s model from its input, keeping head ``head``'s steps.

    ``weights`` are the block's parameters (``weights.block_weights(model, layer)``).
    """
    layer = check_index(layer, analysis.n_layers, "layer")
    head = check_index(head, analysis.n_heads, "head")
    X = analysis.hidden_states[layer].astype(np.float64)  # noqa: N806 (the chapter's names)
    W = {name: value.astype(np.float64) for name, value in weights.head(head).items()}  # noqa: N806
    Q = X @ W["W_Q"] + W["b_Q"]  # noqa: N806
    K = X @ W["W_K"] + W["b_K"]  # noqa: N806
    V = X @ W["W_V"] + W["b_V"]  # noqa: N806
    d_k = Q.shape[-1]
    scores = Q @ K.T
    scaled = scores / np.sqrt(d_k)
    # A single text has no padding, so the model's mask adds 0 everywhere (see ``padded_pair``).
    head_weights = scratch.softmax(scaled)
    head_output = head_weights @ V
    f64 = lambda a: a.astype(np.float64)  # noqa: E731
    concat, _ = scratch.multi_head_self_attention(
        X,
        f64(weights.W_Q),
        f64(weights.W_K),
        f64(weights.W_V),
        weights.num_heads,
        f64(weights.b_Q),
        f64(weights.b_K),
        f64(weights.b_V),
    )
    projected = concat @ f64(weights.W_O) + f64(weights.b_O)
    residual_1 = X + projected
    norm_1 = layer_norm(residual_1, f64(weights.ln1_gamma), f64(weights.ln1_beta), weights.layer_norm_eps)
    ffn_hidden = activation(norm_1 @ f64(weights.W_1) + f64(weights.b_1), weights.activation)
    ffn_output = ffn_hidden @ f64(weights.W_2) + f64(weights.b_2)
    residual_2 = norm_1 + ffn_output
    layer_output = layer_norm(residual_2, f64(weights.ln2_gamma), f64(weights.ln2_beta), weights.layer_norm_eps)
    model_weights = analysis.attention(layer)[head].astype(np.float64)
    next_hidden = analysis.hidden_states[layer + 1].astype(np.float64)
    values = (X, Q, K, V, scores, scaled, head_weights, head_output, concat, projected, residual_1, norm_1)
    values += (ffn_hidden, ffn_output, residual_2, layer_output)
    stages = dict(zip(STAGES, values, strict=True))
    for matrix in stages.values():
        matrix.setflags(write=False)
    return StepThrough(
        model_name=analysis.model_name,
        tokens=analysis.tokens,
        labels=tuple(analysis.token_labels()),
        layer=layer,
        head=head,
        n_layers=analysis.n_layers,
        n_heads=analysis.n_heads,
        d_model=X.shape[-1],
        d_k=d_k,
        d_ff=ffn_hidden.shape[-1],
        activation=weights.activation,
        stages=stages,
        unscaled_weights=scratch.softmax(scores),
        model_weights=model_weights,
        model_next_hidden=next_hidden,
        max_abs_diff_weights=float(np.abs(head_weights - model_weights).max()),
        max_abs_diff_layer_output=float(np.abs(layer_output - next_hidden).max()),
        storage_dtype=analysis.storage_dtype,  # without copying every layer from a GPU
    )


@dataclass(frozen=True)
class PaddedPair:
    """Two inputs in one batch: this text, and its first ``length`` tokens padded to the same size."""

    length: int  # real tokens of the shorter input
    key_mask: np.ndarray  # (T,) 1 = real token, 0 = [PAD]
    additive: np.ndarray  # (T,) 0 or float32's minimum, added to every row of the scores
    weights: np.ndarray  # (T, T) the padded input's weights
    unpadded: np.ndarray  # (length, length) the same input alone, without padding
    max_abs_diff: float  # padded (real rows and columns) vs alone


def padded_pair(step: StepThrough, length: int | None = None) -> PaddedPair:
    """BERT's padding mask on this head: the shorter input of a batch of two, padded with [PAD].

    As transformers does, the mask is added to the scaled scores: 0 for a real key,
    ``finfo(float32).min`` for a padding key, so softmax gives padding keys weight 0 exactly.
    The shorter input is this text's first ``length`` tokens (its layer input: the first rows
    of X; the padding rows' vectors do not matter, their keys are masked): an illustration
    with the head's real projections.
    """
    n = step.n_tokens
    length = max(1, min(n - 1, n // 2 if length is None else length)) if n > 1 else 1
    Q, K = step.stages["query"], step.stages["key"]  # noqa: N806
    key_mask = (np.arange(n) < length).astype(np.float64)
    additive = (1.0 - key_mask) * float(np.finfo(np.float32).min)
    padded_queries = np.where(key_mask[:, None] > 0, Q, 0.0)  # [PAD] rows: a zero vector (any vector would do)
    padded_keys = np.where(key_mask[:, None] > 0, K, 0.0)
    weights = scratch.softmax(padded_queries @ padded_keys.T / np.sqrt(step.d_k) + additive[None, :])
    unpadded = scratch.softmax(Q[:length] @ K[:length].T / np.sqrt(step.d_k))
    difference = float(np.abs(weights[:length, :length] - unpadded).max())
    return PaddedPair(length, key_mask, additive, weights, unpadded, difference)


def causal_weights(step: StepThrough) -> np.ndarray:
    """What a decoder would compute from the same Q and K: no key after the query (illustration)."""
    return scratch.softmax(step.stages["scaled_scores"] + causal_mask(step.n_tokens) * float(np.finfo(np.float32).min))


@dataclass(frozen=True)
class Toy:
    """The chapter's example: ``scaled_dot_product_attention`` on random Q, K, V (section 3.2)."""

    seed: int
    Q: np.ndarray  # (batch, seq_len, d_model)
    K: np.ndarray
    V: np.ndarray
    scores: np.ndarray  # Q K^T (batch, seq_len, seq_len)
    scaled_scores: np.ndarray  # / sqrt(d_k)
    weights: np.ndarray  # softmax(scaled_scores)
    output: np.ndarray  # weights V
    weights_over_d_k: np.ndarray  # softmax(Q K^T / d_k): what scaling by d_k, not sqrt(d_k), would give
    printed: str  # what the chapter's print(weights[0]) really prints

    @property
    def d_k(self) -> int:
        return int(self.Q.shape[-1])


def toy(seed: int = 0, batch_size: int = 2, seq_len: int = 5, d_model: int = 64) -> Toy:
    """The chapter's numbers, reproducibly: ``np.random.seed(seed)`` then its three ``randn`` calls."""
    random = np.random.RandomState(seed)  # the same stream as np.random.seed(seed) + np.random.randn
    Q = random.randn(batch_size, seq_len, d_model)  # noqa: N806
    K = random.randn(batch_size, seq_len, d_model)  # noqa: N806
    V = random.randn(batch_size, seq_len, d_model)  # noqa: N806
    scores = Q @ K.transpose(0, 2, 1)
    scaled = scores / np.sqrt(d_model)
    output, weights = scratch.scaled_dot_product_attention(Q, K, V)
    return Toy(
        seed=seed,
        Q=Q,
        K=K,
        V=V,
        scores=scores,
        scaled_scores=scaled,
        weights=weights,
        output=output,
        weights_over_d_k=scratch.softmax(scores / d_model),
        printed=str(weights[0]),
    )


@dataclass(frozen=True)
class CrossAttention:
    """Queries from sentence A, keys and values from sentence B, through one head's projections (問題1)."""

    query_labels: tuple[str, ...]
    key_labels: tuple[str, ...]
    weights: np.ndarray  # (T_A, T_B)
    output: np.ndarray  # (T_A, d_k)


def cross_attention(a: Analysis, b: Analysis, weights: BlockWeights, layer: int, head: int) -> CrossAttention:
    """softmax(Q_A K_B^T / sqrt(d_k)) V_B with the layer's own W_Q, W_K, W_V (an illustration: BERT has none)."""
    layer = check_index(layer, a.n_layers, "layer")
    head = check_index(head, a.n_heads, "head")
    W = {name: value.astype(np.float64) for name, value in weights.head(head).items()}  # noqa: N806
    X_a = a.hidden_states[layer].astype(np.float64)  # noqa: N806
    X_b = b.hidden_states[layer].astype(np.float64)  # noqa: N806
    Q = X_a @ W["W_Q"] + W["b_Q"]  # noqa: N806
    K = X_b @ W["W_K"] + W["b_K"]  # noqa: N806
    V = X_b @ W["W_V"] + W["b_V"]  # noqa: N806
    output, cross = scratch.scaled_dot_product_attention(Q, K, V)
    return CrossAttention(tuple(a.token_labels()), tuple(b.token_labels()), cross, output)
