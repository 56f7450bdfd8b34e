"""A model's own parameters for one encoder block, as numpy in the chapter's orientation.

Every matrix is stored for ``x @ W + b`` (torch's ``nn.Linear`` keeps ``W`` transposed), float64,
kept float32 as the model holds them (callers compute in float64), so the step-through
(``present/step.py``) can write each formula of sections 3.2-3.5 as the
chapter does and still match the model to ~1e-6. BERT-style blocks (BERT, MiniLM, Tohoku BERT)
and DistilBERT blocks are read; anything else is refused with a keyed message.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .interventions import encoder_layers
from .models import load_model

ACTIVATIONS = ("gelu", "gelu_new", "gelu_pytorch_tanh", "relu")


@dataclass(frozen=True)
class BlockWeights:
    """One encoder block: attention projections, output projection, FFN, the two LayerNorms."""

    num_heads: int
    W_Q: np.ndarray  # (d_model, d_model): head h uses columns [h*d_k, (h+1)*d_k)
    b_Q: np.ndarray
    W_K: np.ndarray
    b_K: np.ndarray
    W_V: np.ndarray
    b_V: np.ndarray
    W_O: np.ndarray  # (d_model, d_model)
    b_O: np.ndarray
    ln1_gamma: np.ndarray  # LayerNorm after attention + residual
    ln1_beta: np.ndarray
    W_1: np.ndarray  # (d_model, d_ff)
    b_1: np.ndarray
    W_2: np.ndarray  # (d_ff, d_model)
    b_2: np.ndarray
    ln2_gamma: np.ndarray  # LayerNorm after FFN + residual
    ln2_beta: np.ndarray
    layer_norm_eps: float
    activation: str  # config.hidden_act / activation

    @property
    def d_model(self) -> int:
        return int(self.W_Q.shape[0])

    @property
    def d_k(self) -> int:
        return self.d_model // self.num_heads

    @property
    def d_ff(self) -> int:
        return int(self.W_1.shape[1])

    def head(self, head: int) -> dict[str, np.ndarray]:
        """W_Q^h, W_K^h, W_V^h (d_model, d_k) and their biases (d_k,) for one head."""
        columns = slice(head * self.d_k, (head + 1) * self.d_k)
        return {name: getattr(self, name)[..., columns] for name in ("W_Q", "b_Q", "W_K", "b_K", "W_V", "b_V")}


def _linear(module) -> tuple[np.ndarray, np.ndarray]:
    weight = module.weight.detach().to("cpu").float().numpy().T.copy()
    bias = module.bias.detach().to("cpu").float().numpy().copy()
    return weight, bias


def _norm(module) -> tuple[np.ndarray, np.ndarray, float]:
    return (
        module.weight.detach().to("cpu").double().numpy().copy(),
        module.bias.detach().to("cpu").float().numpy().copy(),
        float(module.eps),
    )


# Per loaded torch model (weakly: unloading a model drops its copies), per layer.
_copies: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def block_weights(model: str, layer: int) -> BlockWeights:
    """The parameters of block ``layer`` of the loaded ``model`` (a registry name), copied once per loaded model."""
    loaded = load_model(model)
    with _lock:
        per_layer = _copies.setdefault(loaded.model, {})
        if layer not in per_layer:
            per_layer[layer] = _read_block(loaded, layer)
        return per_layer[layer]


def _read_block(loaded, layer: int) -> BlockWeights:
    blocks = encoder_layers(loaded.model)
    block = blocks[layer]
    config = loaded.model.config
    if hasattr(block.attention, "self"):  # BERT: attention.self.{query,key,value}, attention.output.{dense,LayerNorm}
        parts = dict(
            query=block.attention.self.query,
            key=block.attention.self.key,
            value=block.attention.self.value,
            out=block.attention.output.dense,
            ln1=block.attention.output.LayerNorm,
            ffn1=block.intermediate.dense,
            ffn2=block.output.dense,
            ln2=block.output.LayerNorm,
        )
        activation = getattr(config, "hidden_act", "gelu")
    elif hasattr(block.attention, "q_lin"):  # DistilBERT
        parts = dict(
            query=block.attention.q_lin,
            key=block.attention.k_lin,
            value=block.attention.v_lin,
            out=block.attention.out_lin,
            ln1=block.sa_layer_norm,
            ffn1=block.ffn.lin1,
            ffn2=block.ffn.lin2,
            ln2=block.output_layer_norm,
        )
        activation = getattr(config, "activation", "gelu")
    else:
        raise InputError("intervention.unsupported", model=type(block).__name__)
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise InputError("step.activation_unsupported", activation=str(activation))
    W_Q, b_Q = _linear(parts["query"])  # noqa: N806 (the chapter's names)
    W_K, b_K = _linear(parts["key"])  # noqa: N806
    W_V, b_V = _linear(parts["value"])  # noqa: N806
    W_O, b_O = _linear(parts["out"])  # noqa: N806
    W_1, b_1 = _linear(parts["ffn1"])  # noqa: N806
    W_2, b_2 = _linear(parts["ffn2"])  # noqa: N806
    ln1_gamma, ln1_beta, eps = _norm(parts["ln1"])
    ln2_gamma, ln2_beta, _ = _norm(parts["ln2"])
    num_heads = int(getattr(config, "num_attention_heads", getattr(config, "n_heads", 0)))
    return BlockWeights(
        num_heads,
        W_Q,
        b_Q,
        W_K,
        b_K,
        W_V,
        b_V,
        W_O,
        b_O,
        ln1_gamma,
        ln1_beta,
        W_1,
        b_1,
        W_2,
        b_2,
        ln2_gamma,
        ln2_beta,
        eps,
        activation,
    )


def parameter_counts(model: str) -> dict[str, int]:
    """Parameters per part of the loaded model: embeddings, one block's attention / FFN / LayerNorms, the rest."""
    loaded = load_model(model)
    base = getattr(loaded.model, "base_model", loaded.model)
    total = sum(p.numel() for p in loaded.model.parameters())
    embeddings = sum(p.numel() for p in base.embeddings.parameters())
    block = encoder_layers(loaded.model)[0]
    weights = block_weights(model, 0)
    attention = sum(w.size for w in (weights.W_Q, weights.b_Q, weights.W_K, weights.b_K, weights.W_V, weights.b_V))
    attention += weights.W_O.size + weights.b_O.size
    ffn = weights.W_1.size + weights.b_1.size + weights.W_2.size + weights.b_2.size
    norms = 2 * (weights.ln1_gamma.size + weights.ln1_beta.size)
    per_block = sum(p.numel() for p in block.parameters())
    blocks = len(encoder_layers(loaded.model))
    return {
        "total": int(total),
        "embeddings": int(embeddings),
        "attention_per_layer": int(attention),
        "ffn_per_layer": int(ffn),
        "layer_norms_per_layer": int(norms),
        "per_layer": int(per_block),
        "layers": int(blocks),
        "other": int(total - embeddings - blocks * per_block),
    }
