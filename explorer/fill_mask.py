"""Masked-word prediction (chapter 3.6): the cached analysis of the text + a masked-LM head.

One forward pass, one object: the encoder's analysis of the text is the very one every other tab
reads (``backend.analyze``); the MLM head is applied afterwards to the hidden states of the
``[MASK]`` positions only (a handful of rows instead of ``T x vocabulary`` logits in the cache).

Two kinds of head:

- ``"hub"``: the checkpoint's own pre-training head (``ModelSpec.masked_lm``: bert-base-uncased,
  the Tohoku BERTs), read from the same files the encoder was loaded from (no second download);
  it reads the last layer, as ``BertForMaskedLM`` does.
- ``"offline"``: for the embedded all-MiniLM-L6-v2, which has none, a head trained by this project
  on its frozen encoder (``explorer.mlm_head``, ``python -m explorer.train mlm``), reading the layer
  its recipe chose.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import backend
from .analysis import Analysis, check_text
from .errors import InputError, ModelUnavailable
from .models import DEFAULT_MODEL, REGISTRY, load_model, resolve
from .models.loading import LoadedModel

log = logging.getLogger(__name__)

MAX_TOP_K = 20
MAX_MASKS = 32  # one row of logits each; a text with more is refused with a message
MASK = "[MASK]"  # what the user types, whatever the model's own mask token is


@dataclass(frozen=True)
class MaskPrediction:
    position: int  # token index of the [MASK] in the analysis
    tokens: tuple[str, ...]  # top-k candidates, best first (the tokenizer's spelling, e.g. "##ing")
    probabilities: np.ndarray  # (k,) float32, softmax over the whole vocabulary
    token_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class FillMaskResult:
    analysis: Analysis  # the cached analysis of the text (the same object the Attention tab reads)
    predictions: tuple[MaskPrediction, ...]
    head: str  # "offline" or "hub"
    layer: int  # the hidden_states index the head read


@dataclass(frozen=True)
class Head:
    module: Any  # hidden (..., D) -> logits (..., V)
    layer: int  # index into Analysis.hidden_states (-1: the last layer)
    kind: str  # "offline" or "hub"


_heads: dict[str, Head] = {}
_heads_lock = threading.Lock()


def offline_head_available() -> bool:
    try:
        from .mlm_head import head_available
    except ImportError:
        return False
    return bool(head_available())


def can_fill(name: str) -> bool:
    spec = REGISTRY.get(name)
    if spec is None or spec.task is not None:
        return False
    return spec.masked_lm or (spec.embedded and offline_head_available())


def mask_models() -> list[str]:
    """Registered models that can fill masks (the embedded default only when its head is shipped)."""
    return [name for name in REGISTRY if can_fill(name)]


def default_mask_model() -> str:
    return DEFAULT_MODEL if can_fill(DEFAULT_MODEL) else next(iter(mask_models()), DEFAULT_MODEL)


DEFAULT_MASK_MODEL = default_mask_model()


def _hub_head(loaded: LoadedModel) -> Any:
    """The pre-training head of the checkpoint the encoder came from (BERT's ``cls``, DistilBERT's
    ``vocab_*``); ``None`` when the files carry none (then transformers would make a random one)."""
    from transformers import AutoModelForMaskedLM
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        # The encoder was loaded from these files a moment ago: they are local (folder or hub cache).
        model, info = AutoModelForMaskedLM.from_pretrained(
            loaded.spec.source, local_files_only=True, output_loading_info=True, attn_implementation="eager"
        )
    finally:
        hf_logging.set_verbosity(verbosity)
    missing = [name for name in info.get("missing_keys", ()) if not name.endswith("decoder.weight")]
    head_missing = [name for name in missing if name.startswith(("cls.", "vocab_"))]
    if head_missing:
        return None
    if hasattr(model, "cls"):
        return model.cls.eval()
    if hasattr(model, "vocab_projector"):
        import torch

        class DistilHead(torch.nn.Module):
            def __init__(self, mlm: Any) -> None:
                super().__init__()
                self.transform, self.activation = mlm.vocab_transform, mlm.activation
                self.norm, self.projector = mlm.vocab_layer_norm, mlm.vocab_projector

            def forward(self, hidden: Any) -> Any:
                return self.projector(self.norm(self.activation(self.transform(hidden))))

        return DistilHead(model).eval()
    return None


def head_for(name: str) -> Head:
    """The MLM head of model ``name``, loaded once."""
    spec = resolve(name)
    if not can_fill(spec.name):
        raise ModelUnavailable("fill.no_head", model=spec.name, models=", ".join(mask_models()) or "-")
    with _heads_lock:
        cached = _heads.get(spec.name)
        if cached is not None:
            return cached
        loaded = load_model(spec)
        if spec.embedded:
            from .mlm_head import HEAD_FOLDER, load_mlm_head

            module = load_mlm_head(HEAD_FOLDER, loaded.model.get_input_embeddings().weight)
            head = Head(module.to(loaded.device).eval(), int(module.layer), "offline")
        else:
            try:
                module = _hub_head(loaded)
            except (OSError, ValueError) as error:
                log.warning("loading the MLM head of %s failed: %s", spec.name, error)
                module = None
            if module is None:
                raise ModelUnavailable("fill.no_head", model=spec.name, models=", ".join(mask_models()) or "-")
            head = Head(module.to(loaded.device), -1, "hub")
        _heads[spec.name] = head
        return head


def with_model_mask(text: str, mask_token: str) -> str:
    """The user's ``[MASK]`` written as the model's own mask token (``<mask>`` for RoBERTa-style ones)."""
    return text if mask_token == MASK else text.replace(MASK, mask_token)


def top_k_of(logits: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Softmax over the vocabulary of each row, and the ``k`` best ids and probabilities, best first.

    Ties keep the lower id first (a stable order), as ``torch.topk`` on CPU does in practice."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    probabilities = np.exp(shifted)
    probabilities /= probabilities.sum(axis=-1, keepdims=True)
    order = np.argsort(-probabilities, axis=-1, kind="stable")[..., :k]
    return order, np.take_along_axis(probabilities, order, axis=-1).astype(np.float32)


def fill_mask(text: str, model: str | None = None, top_k: int = 5) -> FillMaskResult:
    """Top-``top_k`` tokens for every ``[MASK]`` of ``text``, with the model's MLM head."""
    import torch

    spec = resolve(model or DEFAULT_MASK_MODEL)
    top_k = int(top_k)
    if not 1 <= top_k <= MAX_TOP_K:
        raise InputError("fill.bad_top_k", top_k=top_k, limit=MAX_TOP_K)
    text = check_text(text, "text")
    if not text.strip():
        raise InputError("input.empty")
    head = head_for(spec.name)
    tokenizer = load_model(spec).tokenizer
    if MASK not in text:
        raise InputError("fill.no_mask", mask=MASK)
    analysis = backend.analyze(with_model_mask(text, tokenizer.mask_token), spec.name)
    positions = np.flatnonzero(np.asarray(analysis.token_ids) == tokenizer.mask_token_id)
    if len(positions) == 0:  # every [MASK] fell beyond the model's window
        raise InputError("fill.mask_cut", limit=analysis.max_length)
    if len(positions) > MAX_MASKS:
        raise InputError("fill.too_many_masks", count=len(positions), limit=MAX_MASKS)
    hidden = analysis.hidden_states[head.layer][positions]
    parameter = next(head.module.parameters())
    with torch.inference_mode():
        logits = head.module(torch.as_tensor(hidden, dtype=parameter.dtype, device=parameter.device)).float().cpu().numpy()
    ids, probabilities = top_k_of(logits, top_k)
    predictions = tuple(
        MaskPrediction(
            position=int(position),
            tokens=tuple(tokenizer.convert_ids_to_tokens([int(i) for i in row_ids])),
            probabilities=row_probabilities,
            token_ids=tuple(int(i) for i in row_ids),
        )
        for position, row_ids, row_probabilities in zip(positions, ids, probabilities, strict=True)
    )
    layer = head.layer if head.layer >= 0 else analysis.hidden_states.shape[0] + head.layer
    return FillMaskResult(analysis=analysis, predictions=predictions, head=head.kind, layer=layer)
