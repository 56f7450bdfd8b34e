"""The shared inference backend: one forward pass per (model, text), cached.

``analyze`` runs in three stages, like a transformers pipeline:
``preprocess`` (text -> token tensors, offsets, truncation) -> ``forward`` (the
model, once, with attentions and hidden states) -> ``postprocess`` (numpy arrays in
an immutable ``Analysis``). Results are kept in an LRU cache bounded by count and
bytes, so changing layer, head or view never runs the model again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from .analysis import Analysis, WindowedAnalysis, align_offsets
from .errors import ExplorerError, InputError
from .models import LoadedModel, load_model, resolve
from .text import clean_input

CACHE_MAX_ENTRIES = 64
CACHE_MAX_BYTES = 768 * 1024**2
# Attentions above this size are kept as float16 (half the memory, ~3 significant digits,
# plenty for a heatmap): BERT-Large on 384 tokens is 226 MB in float32.
COMPACT_ATTENTION_BYTES = 32 * 1024**2


@dataclass(frozen=True)
class Encoded:
    """Output of ``preprocess``: model inputs plus what maps tokens back to text."""

    inputs: dict[str, Any]  # torch tensors of shape (1, T)
    tokens: list[str]
    offsets: list[tuple[int, int] | None]
    special_mask: np.ndarray
    total_tokens: int
    truncated: bool


class AnalysisCache:
    """Thread-safe LRU of analyses, bounded by entry count and total array bytes."""

    def __init__(self, max_entries: int = CACHE_MAX_ENTRIES, max_bytes: int = CACHE_MAX_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple, Analysis | WindowedAnalysis] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def size_of(analysis: Analysis | WindowedAnalysis) -> int:
        if isinstance(analysis, WindowedAnalysis):
            return sum(AnalysisCache.size_of(window) for window in analysis.windows)
        arrays = (analysis.attentions, analysis.hidden_states, analysis.logits)
        return sum(array.nbytes for array in arrays if array is not None)

    def get(self, key: tuple) -> Analysis | WindowedAnalysis | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple, analysis: Analysis | WindowedAnalysis) -> None:
        with self._lock:
            self._items[key] = analysis
            self._items.move_to_end(key)
            while len(self._items) > 1 and (len(self._items) > self.max_entries or self.total_bytes() > self.max_bytes):
                self._items.popitem(last=False)

    def total_bytes(self) -> int:
        return sum(self.size_of(item) for item in self._items.values())

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


cache = AnalysisCache()
_forward_passes = 0
_counter_lock = threading.Lock()

_key_locks: dict[tuple[str, str], threading.Lock] = {}


def forward_count() -> int:
    """How many forward passes the backend has run (tests use it to prove caching)."""
    return _forward_passes


def preprocess(loaded: LoadedModel, text: str) -> Encoded:
    """Tokenize ``text`` for ``loaded``, cut to the model's window."""
    tokenizer = loaded.tokenizer
    total = len(tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"])
    encoding = tokenizer(
        text,
        truncation=True,
        max_length=loaded.max_length,
        return_tensors="pt",
        return_special_tokens_mask=True,
        return_offsets_mapping=loaded.has_offsets,
    )
    special = encoding.pop("special_tokens_mask")[0].numpy().astype(bool)
    tokens = tokenizer.convert_ids_to_tokens(encoding["input_ids"][0].tolist())
    if loaded.has_offsets:
        raw = encoding.pop("offset_mapping")[0].tolist()
        offsets = [
            None if is_special or start == end else (start, end) for (start, end), is_special in zip(raw, special, strict=True)
        ]
    else:
        offsets = align_offsets(text, tokens, special.tolist())
    return Encoded(
        inputs=dict(encoding),
        tokens=tokens,
        offsets=offsets,
        special_mask=special,
        total_tokens=total,
        truncated=total > len(tokens),
    )


def forward(loaded: LoadedModel, encoded: Encoded) -> Any:
    """Run the model once, returning its output with attentions and hidden states."""
    global _forward_passes
    import torch

    with _counter_lock:
        _forward_passes += 1
    with torch.inference_mode():
        output = loaded.model(**encoded.inputs, output_attentions=True, output_hidden_states=True)
    if not output.attentions:
        raise ExplorerError(
            f"Model '{loaded.spec.name}' returned no attention weights; it must be loaded with attn_implementation='eager'."
        )
    return output


def compact(attentions: np.ndarray) -> np.ndarray:
    """float16 for large attention tensors, float32 otherwise (see COMPACT_ATTENTION_BYTES)."""
    return attentions.astype(np.float16) if attentions.nbytes > COMPACT_ATTENTION_BYTES else attentions


def postprocess(loaded: LoadedModel, text: str, encoded: Encoded, output: Any, notes: tuple[str, ...]) -> Analysis:
    """Copy the forward pass into numpy and describe what happened to the input."""
    import torch

    layers = output.attentions
    # Decide the dtype before stacking: a float32 copy of bert-large's 24 x 16 x 384² weights is 226 MB.
    large = len(layers) * layers[0][0].numel() * 4 > COMPACT_ATTENTION_BYTES
    attentions = np.stack([layer[0].to(torch.float16 if large else torch.float32).numpy() for layer in layers])
    hidden_states = np.stack([layer[0].float().numpy() for layer in output.hidden_states])
    logits = getattr(output, "logits", None)
    if logits is None and getattr(output, "start_logits", None) is not None:  # QA: (T, 2) = start, end
        logits = torch.stack([output.start_logits, output.end_logits], dim=-1)
    id2label = getattr(loaded.model.config, "id2label", None) or {}
    labels = tuple(str(id2label[i]) for i in sorted(id2label)) if loaded.spec.task in ("sentiment", "ner") else ()
    if encoded.truncated:
        notes = notes + (
            f"The text needs {encoded.total_tokens:,} tokens but '{loaded.spec.name}' reads at most "
            f"{loaded.max_length}: only the first {len(encoded.tokens)} tokens were analysed.",
        )
    return Analysis(
        model_name=loaded.spec.name,
        text=text,
        tokens=tuple(encoded.tokens),
        token_ids=encoded.inputs["input_ids"][0].numpy().astype(np.int64),
        offsets=tuple(encoded.offsets),
        special_mask=encoded.special_mask,
        attention_mask=encoded.inputs["attention_mask"][0].numpy().astype(np.int64),
        attentions=attentions,
        hidden_states=hidden_states,
        logits=None if logits is None else logits[0].float().numpy(),
        labels=labels,
        truncated=encoded.truncated,
        total_tokens=encoded.total_tokens,
        max_length=loaded.max_length,
        notes=notes,
    )


def analyze(text: str, model: str | None = None) -> Analysis:
    """Analyse ``text`` with the registered model ``model`` (default: embedded MiniLM).

    Returns the cached ``Analysis`` when the same (model, text) was analysed before.
    Raises ``InputError`` for empty text and ``ModelUnavailable`` when the model
    cannot be loaded; both carry a message meant for the user.
    """
    clean = clean_input(text)
    spec = resolve(model)
    key = (spec.name, clean.text)
    found = cache.get(key)
    if found is not None:
        return found
    with _counter_lock:
        key_lock = _key_locks.setdefault(key, threading.Lock())
    with key_lock:  # two tabs asking for the same input at once share one pass
        found = cache.get(key)
        if found is None:
            loaded = load_model(spec.name)
            encoded = preprocess(loaded, clean.text)
            found = postprocess(loaded, clean.text, encoded, forward(loaded, encoded), clean.notes)
            cache.put(key, found)
    with _counter_lock:
        _key_locks.pop(key, None)
    return found


QA_MAX_LENGTH = 384  # tokens per window, as the SQuAD recipe
QA_STRIDE = 128  # context tokens shared by consecutive windows


def analyze_qa(question: str, context: str, model: str | None = None, stride: int = QA_STRIDE) -> WindowedAnalysis:
    """Question + context, cut into overlapping windows, one batched forward pass, cached.

    Only the context is cut (never the question); an answer that crosses a window's
    edge lies whole in the next window because windows share ``stride`` tokens.
    """
    import torch

    clean_question, clean_context = clean_input(question), clean_input(context)
    spec = resolve(model)
    key = (spec.name, clean_question.text, clean_context.text, stride)
    found = cache.get(key)
    if found is not None:
        return found
    loaded = load_model(spec.name)
    tokenizer = loaded.tokenizer
    if not loaded.has_offsets:
        raise ExplorerError(f"Model '{spec.name}' has a slow tokenizer without character offsets; pick another QA model.")
    max_length = min(QA_MAX_LENGTH, loaded.max_length)
    stride = min(stride, max_length // 4)  # must leave room for new context in every window
    question_tokens = len(tokenizer(clean_question.text, add_special_tokens=False)["input_ids"])
    if question_tokens > max_length // 2:
        raise InputError(f"The question is too long ({question_tokens} tokens); keep it under {max_length // 2} tokens.")
    encoding = tokenizer(
        clean_question.text,
        clean_context.text,
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
        padding="longest",
        return_tensors="pt",
    )
    offsets = encoding.pop("offset_mapping").tolist()
    special = encoding.pop("special_tokens_mask").numpy().astype(bool)
    encoding.pop("overflow_to_sample_mapping", None)
    sequence_ids = [encoding.sequence_ids(i) for i in range(len(offsets))]
    encoded = Encoded(inputs=dict(encoding), tokens=[], offsets=[], special_mask=special, total_tokens=0, truncated=False)
    output = forward(loaded, encoded)
    windows = []
    for index in range(len(offsets)):
        length = int(encoding["attention_mask"][index].sum())  # padding is cut off again
        ids = encoding["input_ids"][index][:length]
        windows.append(
            Analysis(
                model_name=spec.name,
                text=clean_question.text,
                pair=clean_context.text,
                sequence_ids=tuple(sequence_ids[index][:length]),
                tokens=tuple(tokenizer.convert_ids_to_tokens(ids.tolist())),
                token_ids=ids.numpy().astype(np.int64),
                offsets=tuple(
                    None if sid is None or start == end else (start, end)
                    for (start, end), sid in zip(offsets[index][:length], sequence_ids[index][:length], strict=True)
                ),
                special_mask=special[index][:length],
                attention_mask=np.ones(length, dtype=np.int64),
                attentions=compact(np.stack([layer[index, :, :length, :length].float().numpy() for layer in output.attentions])),
                hidden_states=np.stack([layer[index, :length].float().numpy() for layer in output.hidden_states]),
                logits=torch.stack([output.start_logits[index, :length], output.end_logits[index, :length]], dim=-1)
                .float()
                .numpy(),
                max_length=max_length,
            )
        )
    notes = clean_question.notes + clean_context.notes
    if len(windows) > 1:
        notes += (f"The context needs {len(windows)} windows of {max_length} tokens (overlapping by {stride}); all were read.",)
    found = WindowedAnalysis(spec.name, clean_question.text, clean_context.text, tuple(windows), stride, notes)
    cache.put(key, found)
    return found


def position_embeddings(model: str | None = None) -> np.ndarray:
    """The model's learned absolute position embeddings, ``(max_positions, D)``."""
    loaded = load_model(model)
    embeddings = getattr(getattr(loaded.model, "embeddings", None), "position_embeddings", None)
    if embeddings is None:
        raise ExplorerError(f"Model '{loaded.spec.name}' has no learned absolute position embeddings.")
    return embeddings.weight.detach().float().numpy().copy()


def self_attention_weights(model: str | None, layer: int) -> dict[str, np.ndarray]:
    """Query/key/value projections of one layer, as numpy ``(D_in, D_out)`` matrices.

    Stored as ``x @ W + b`` (the chapter's orientation), i.e. torch's weight transposed.
    """
    loaded = load_model(model)
    layers = loaded.model.encoder.layer
    attention = layers[layer].attention.self
    params: dict[str, np.ndarray] = {"num_heads": np.array(loaded.model.config.num_attention_heads)}
    for name in ("query", "key", "value"):
        linear = getattr(attention, name)
        params[f"W_{name[0].upper()}"] = linear.weight.detach().float().numpy().T.copy()
        params[f"b_{name[0].upper()}"] = linear.bias.detach().float().numpy().copy()
    return params
