"""Interventions: changes to one forward pass, as forward hooks that live only inside ``applied``.

The model is shared: the app's queue runs several requests at once, each in its own thread, on
the same module objects. Every hook here acts only in the thread that registered it, so one
request's intervention or recording never touches another request's forward pass.

TransformerLens style: nothing stays attached to the model. An intervention is a frozen,
hashable value, so it is part of an analysis' cache key (``AnalysisKey.intervention``):
the same text with and without a head switched off are two analyses.

``HeadGate``: multiply chosen heads' slices of the attention context layer by a gate
(0 = switched off) before the output projection W_O. transformers 5 removed ``head_mask``;
a pre-hook on the output projection does the same thing: the context layer is the
concatenation of the heads' outputs, head ``h`` owning columns ``h*d_k … (h+1)*d_k``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .errors import InputError


@dataclass(frozen=True)
class HeadGate:
    """Scale the output of heads ``(layer, head)`` by ``gate`` (0.0: ablate them)."""

    heads: frozenset[tuple[int, int]]
    gate: float = 0.0

    @classmethod
    def of(cls, heads: Any, gate: float = 0.0) -> HeadGate:
        return cls(frozenset((int(layer), int(head)) for layer, head in heads), float(gate))

    def describe(self) -> str:
        return ", ".join(f"L{layer}.H{head}" for layer, head in sorted(self.heads))


@dataclass(frozen=True)
class PositionsOff:
    """Replace the model's learned position embeddings by zeros (chapter 3.5, 問題2).

    Without them self-attention is permutation-equivariant: the same words in another order get
    the same attention, permuted. Token-type embeddings and the embedding LayerNorm stay.
    """

    def describe(self) -> str:
        return "no position embeddings"


Intervention = HeadGate | PositionsOff


def position_embedding(model: Any) -> Any:
    """The learned absolute position embedding module (BERT, DistilBERT: ``embeddings.position_embeddings``)."""
    module = getattr(getattr(getattr(model, "base_model", model), "embeddings", None), "position_embeddings", None)
    if module is None:
        raise InputError("intervention.no_positions", model=type(model).__name__)
    return module


def encoder_layers(model: Any) -> list[Any]:
    """The transformer blocks of a BERT-style (or DistilBERT) model, with or without a task head."""
    base = getattr(model, "base_model", model)
    for path in ("encoder.layer", "transformer.layer"):
        found: Any = base
        for part in path.split("."):
            found = getattr(found, part, None)
        if found is not None:
            return list(found)
    raise InputError("intervention.unsupported", model=type(model).__name__)


def output_projection(block: Any) -> Any:
    """The attention output projection W_O of one block (BERT: attention.output.dense; DistilBERT: out_lin)."""
    attention = block.attention
    projection = getattr(getattr(attention, "output", None), "dense", None) or getattr(attention, "out_lin", None)
    if projection is None:
        raise InputError("intervention.unsupported", model=type(block).__name__)
    return projection


@contextmanager
def applied(model: Any, intervention: Intervention | None) -> Iterator[None]:
    """Register the intervention's hooks for the duration of the block, and always remove them."""
    if isinstance(intervention, PositionsOff):
        with positions_off(model):
            yield
        return
    if intervention is None or not intervention.heads:
        yield
        return
    layers = encoder_layers(model)
    n_heads = int(model.config.num_attention_heads)
    owner = threading.get_ident()  # the request (thread) these hooks belong to
    by_layer: dict[int, list[int]] = {}
    for layer, head in intervention.heads:
        if not 0 <= layer < len(layers) or not 0 <= head < n_heads:
            raise InputError("intervention.head_out_of_range", layer=layer, head=head, layers=len(layers), heads=n_heads)
        by_layer.setdefault(layer, []).append(head)
    handles = []
    try:
        for layer, heads in by_layer.items():
            projection = output_projection(layers[layer])
            d_head = projection.in_features // n_heads

            def gate_heads(module, args, heads=tuple(heads), d_head=d_head, owner=owner):
                if threading.get_ident() != owner:
                    return None  # another request's forward pass on the same model (the queue runs several)
                context = args[0].clone()  # (B, T, H * d_head): the heads' outputs side by side
                for head in heads:
                    context[..., head * d_head : (head + 1) * d_head] *= intervention.gate
                return (context, *args[1:])

            handles.append(projection.register_forward_pre_hook(gate_heads))
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def positions_off(model: Any) -> Iterator[None]:
    """Zero the position embeddings' output in this thread's forward passes (``PositionsOff``)."""
    owner = threading.get_ident()  # the request (thread) the hook belongs to

    def zero(module, args, output):
        if threading.get_ident() != owner:
            return None  # another request's forward pass on the same model
        return output.new_zeros(output.shape)

    handle = position_embedding(model).register_forward_hook(zero)
    try:
        yield
    finally:
        handle.remove()


@contextmanager
def gated_rows(model: Any, gates: Any) -> Iterator[None]:
    """One gate per batch row, layer and head: ``gates`` ``(B, L, H)`` multiplies head ``h`` of layer
    ``l`` in row ``b`` (a batch of copies of one input, each with other heads off, is a head sweep in
    one forward pass). The hook is ``HeadGate``'s, with the gate read per row."""
    import torch

    layers = encoder_layers(model)
    n_heads = int(model.config.num_attention_heads)
    gates = torch.as_tensor(gates, dtype=torch.float32)
    owner = threading.get_ident()  # the request (thread) these hooks belong to
    if gates.ndim != 3 or gates.shape[1:] != (len(layers), n_heads):
        raise ValueError(f"gates has shape {tuple(gates.shape)}, expected (B, {len(layers)}, {n_heads})")
    handles = []
    try:
        for layer in range(len(layers)):
            if bool((gates[:, layer] == 1).all()):
                continue  # no row changes this layer: no hook, the plain computation
            projection = output_projection(layers[layer])
            d_head = projection.in_features // n_heads
            # (B, H) -> (B, 1, H * d_head): head h's gate over its d_head columns of the context layer
            scale = gates[:, layer].repeat_interleave(d_head, dim=1)[:, None, :]

            def gate_rows(module, args, scale=scale, owner=owner):
                if threading.get_ident() != owner:
                    return None  # another request's forward pass on the same model
                context = args[0]
                return (context * scale.to(device=context.device, dtype=context.dtype), *args[1:])

            handles.append(projection.register_forward_pre_hook(gate_rows))
        yield
    finally:
        for handle in handles:
            handle.remove()


# ---------------------------------------------------------------- recording (read-only hooks)


def value_projection(block: Any) -> Any:
    """The value projection W_V of one block (BERT: attention.self.value; DistilBERT: v_lin)."""
    attention = block.attention
    projection = getattr(getattr(attention, "self", None), "value", None) or getattr(attention, "v_lin", None)
    if projection is None:
        raise InputError("intervention.unsupported", model=type(block).__name__)
    return projection


@contextmanager
def recorded_values(model: Any) -> Iterator[dict[int, Any]]:
    """Record every layer's value vectors ``v = x W_V + b_V``, ``(B, T, H * d_head)``, during the
    forward passes inside the block: ``{layer: tensor}`` (the last pass wins; empty for a model whose
    blocks it cannot find). Nothing is changed.

    Kobayashi et al. (2020) read attention as ``sum_j alpha_ij f(x_j)`` with ``f(x) = (x W_V + b_V) W_O``:
    the norms ``||alpha_ij f(x_j)||`` (``explorer.norms``) are built from these vectors and W_O.
    """
    values: dict[int, Any] = {}
    owner = threading.get_ident()  # the request (thread) these hooks belong to
    handles = []
    try:
        blocks = encoder_layers(model)
        for block in blocks:
            value_projection(block)
    except InputError:  # a wrapped model (e.g. a PEFT adapter while training): nothing to record
        blocks = []
    try:
        for index, block in enumerate(blocks):

            def record(module, args, output, index=index, owner=owner):
                if threading.get_ident() == owner:  # not another request's forward pass on the same model
                    values[index] = output.detach()

            handles.append(value_projection(block).register_forward_hook(record))
        yield values
    finally:
        for handle in handles:
            handle.remove()
