"""The shared inference backend: one forward pass per ``AnalysisKey``, cached.

Every input shape goes through one pipeline, in three stages like a transformers pipeline:

``preprocess``  text (or a text pair) -> ``Batch``: one or more windows of token ids on the
                model's device, with the offsets, special-token masks and sequence ids that
                map tokens back to the text. A single text is one window (cut to the model's
                limit); a pair (QA) is cut into overlapping windows of its second text.
``forward``     the model, once per batch, with attentions and hidden states, inside the
                key's intervention hooks (``interventions.applied``).
``postprocess`` the only place that copies tensors to host memory: ``build_analysis`` makes
                every ``Analysis`` and owns its storage dtype. On a GPU the attentions stay
                there (``analysis.DeviceAttentions``) and a view copies only the layer it
                shows; hidden states, value norms and logits come to host here.

On a ZeroGPU Space, ``run_loaded`` (preprocess -> forward -> postprocess) is one ``spaces.GPU``
call (``models.loading.gpu_call``) and nothing stays on the GPU after it.

``analyze``/``analyze_qa``/``run`` cache the result per key (LRU bounded by count and bytes,
one build per key at a time), so changing layer, head or view never runs the model again.
``input_gradients`` runs one forward + backward outside the cache (attribution methods).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .analysis import Analysis, AnalysisKey, DeviceAttentions, WindowedAnalysis, align_offsets, to_host
from .errors import ExplorerError, InputError
from .interventions import Intervention, applied, encoder_layers, output_projection, recorded_values
from .messages import Msg
from .models import LoadedModel, load_model, resolve
from .models.keyed import KeyedCache
from .models.loading import gpu_call, on_zero_gpu
from .text import clean_input

CACHE_MAX_ENTRIES = 64
CACHE_MAX_BYTES = 768 * 1024**2
# float32 up to a 12 x 12-head model at 512 tokens (MiniLM 512 tokens: 75 MB, BERT-Base: 151 MB);
# beyond (BERT-Large on long inputs: 226 MB at 384 tokens) attentions are kept as float16.
COMPACT_ATTENTION_BYTES = 12 * 12 * 512 * 512 * 4
QA_MAX_LENGTH = 384  # tokens per window of a pair, as the SQuAD recipe
QA_STRIDE = 128  # second-text tokens shared by consecutive windows
# Keep attentions on the model's device (issue 11): None = whenever that is not the CPU, except on a
# ZeroGPU Space (its GPU is gone once the call returns). Tests set True to run that path on the CPU.
DEVICE_RESIDENT: bool | None = None
# What a layer crosses the bus as: float16 halves the bytes (a weight moves by at most 2.5e-4);
# "float32" copies exactly. Storage above COMPACT_ATTENTION_BYTES is float16 on the device anyway.
DEVICE_TRANSFER_DTYPE = "float16"


@dataclass(frozen=True)
class Window:
    """Host-side description of one window of a batch (what maps tokens back to the text)."""

    tokens: tuple[str, ...]
    token_ids: np.ndarray
    offsets: tuple[tuple[int, int] | None, ...]
    special_mask: np.ndarray
    sequence_ids: tuple[int | None, ...] = ()

    @property
    def length(self) -> int:
        return len(self.tokens)


@dataclass(frozen=True)
class Batch:
    """Output of ``preprocess``: model inputs ``(W, T)`` on the device and one ``Window`` per row."""

    inputs: dict[str, Any]
    windows: tuple[Window, ...]
    total_tokens: int  # tokens the whole input needs (single text), special tokens included
    truncated: bool
    max_length: int
    stride: int = 0


def _size_of(analysis: Analysis | WindowedAnalysis) -> int:
    if isinstance(analysis, WindowedAnalysis):
        return sum(_size_of(window) for window in analysis.windows)
    return analysis.nbytes  # device bytes too: the LRU bounds GPU memory as it bounds host memory


cache: KeyedCache[Analysis | WindowedAnalysis] = KeyedCache(CACHE_MAX_ENTRIES, CACHE_MAX_BYTES, _size_of)
_forward_passes = 0
_counter_lock = threading.Lock()


def forward_count() -> int:
    """How many forward passes the backend has run (tests use it to prove caching)."""
    return _forward_passes


# ---------------------------------------------------------------- preprocess


def _offsets(raw: list, special: np.ndarray, sequence_ids: list | None = None) -> tuple:
    keep = [not s for s in special] if sequence_ids is None else [sid is not None for sid in sequence_ids]
    return tuple(None if not k or start == end else (int(start), int(end)) for (start, end), k in zip(raw, keep, strict=True))


def preprocess(
    loaded: LoadedModel, text: str, pair: str | None = None, max_length: int | None = None, stride: int = QA_STRIDE
) -> Batch:
    """Tokenize ``text`` (and ``pair``) for ``loaded`` into one or more windows on its device."""
    if pair is not None:
        return _preprocess_pair(loaded, text, pair, max_length or QA_MAX_LENGTH, stride)
    tokenizer = loaded.tokenizer
    max_length = min(max_length or loaded.max_length, loaded.max_length)
    total = len(tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"])
    encoding = tokenizer(
        text,
        truncation=True,
        max_length=max_length,
        return_tensors="pt",
        return_special_tokens_mask=True,
        return_offsets_mapping=loaded.has_offsets,
    )
    special = encoding.pop("special_tokens_mask")[0].numpy().astype(bool)
    tokens = tuple(tokenizer.convert_ids_to_tokens(encoding["input_ids"][0].tolist()))
    if loaded.has_offsets:
        offsets = _offsets(encoding.pop("offset_mapping")[0].tolist(), special)
    else:
        offsets = tuple(align_offsets(text, list(tokens), special.tolist()))
    window = Window(tokens, encoding["input_ids"][0].numpy().astype(np.int64), offsets, special)
    inputs = {name: tensor.to(loaded.device) for name, tensor in encoding.items()}
    return Batch(inputs, (window,), total, total > len(tokens), max_length)


def _preprocess_pair(loaded: LoadedModel, first: str, second: str, max_length: int, stride: int) -> Batch:
    """Only the second text is cut; consecutive windows share ``stride`` of its tokens, so a
    span that crosses one window's edge lies whole inside the next."""
    tokenizer = loaded.tokenizer
    if not loaded.has_offsets:
        raise ExplorerError("model.slow_tokenizer_pair", model=loaded.spec.name)
    max_length = min(max_length, loaded.max_length)
    first_tokens = len(tokenizer(first, add_special_tokens=False)["input_ids"])
    if first_tokens > max_length // 2:
        raise InputError("qa.question_too_long", tokens=first_tokens, limit=max_length // 2)
    # transformers' doc_stride: at most half a window (128 of 384), and below the room the
    # question leaves for context (the tokenizer refuses a stride that fills a window)
    room = max_length - first_tokens - tokenizer.num_special_tokens_to_add(pair=True)
    stride = min(stride, max_length // 2, room - 1)
    encoding = tokenizer(
        first,
        second,
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
        padding="longest",
        return_tensors="pt",
    )
    raw_offsets = encoding.pop("offset_mapping").tolist()
    special = encoding.pop("special_tokens_mask").numpy().astype(bool)
    encoding.pop("overflow_to_sample_mapping", None)
    windows = []
    for index in range(len(raw_offsets)):
        length = int(encoding["attention_mask"][index].sum())  # padding is cut off again
        sequence_ids = encoding.sequence_ids(index)[:length]
        ids = encoding["input_ids"][index][:length].numpy().astype(np.int64)
        windows.append(
            Window(
                tuple(tokenizer.convert_ids_to_tokens(ids.tolist())),
                ids,
                _offsets(raw_offsets[index][:length], special[index][:length], sequence_ids),
                special[index][:length],
                tuple(sequence_ids),
            )
        )
    inputs = {name: tensor.to(loaded.device) for name, tensor in encoding.items()}
    return Batch(inputs, tuple(windows), 0, False, max_length, stride)


# ---------------------------------------------------------------- forward


def forward(loaded: LoadedModel, batch: Batch, intervention: Intervention | None = None) -> Any:
    """Run the model once over the batch, with attentions and hidden states, inside the intervention."""
    global _forward_passes
    import torch

    with torch.inference_mode(), applied(loaded.model, intervention), recorded_values(loaded.model) as values:
        with _counter_lock:
            _forward_passes += 1
        output = loaded.model(**batch.inputs, output_attentions=True, output_hidden_states=True)
        if not output.attentions:
            raise ExplorerError("model.no_attentions", model=loaded.spec.name)
        output["value_norms"] = value_norms(loaded.model, values)
    return output


def value_norms(model: Any, values: dict[int, Any]) -> Any:
    """``||f^h(x_j)||`` of every layer, ``(B, L, H, T)``, from recorded value vectors and each layer's W_O
    (``explorer.norms``); small next to the attentions (``T`` instead of ``T²`` per head)."""
    import torch

    from .norms import head_value_norms

    if not values:
        return None  # nothing was recorded (a model whose blocks the hooks cannot find)
    n_heads = int(model.config.num_attention_heads)
    blocks = encoder_layers(model)
    return torch.stack(
        [head_value_norms(values[i], output_projection(block).weight, n_heads) for i, block in enumerate(blocks)], dim=1
    )


def forward_gated(loaded: LoadedModel, batch: Batch, gates: Any, row: int = 0) -> Any:
    """Row ``row`` of the batch, copied once per gate pattern ``gates`` ``(B, L, H)``, in one forward
    pass (hidden states, no attentions): a head sweep without B separate runs. Never cached."""
    global _forward_passes
    import torch

    from .interventions import gated_rows

    copies = len(gates)
    inputs = {name: value[row : row + 1].expand(copies, -1) for name, value in batch.inputs.items()}
    with torch.inference_mode(), gated_rows(loaded.model, gates):
        with _counter_lock:
            _forward_passes += 1
        return loaded.model(**inputs, output_hidden_states=True)


# ---------------------------------------------------------------- postprocess


def storage_dtype(n_layers: int, n_heads: int, n_tokens: int) -> str:
    """float32, unless the attentions would exceed COMPACT_ATTENTION_BYTES (then float16)."""
    return "float16" if n_layers * n_heads * n_tokens * n_tokens * 4 > COMPACT_ATTENTION_BYTES else "float32"


def keeps_on_device(loaded: LoadedModel) -> bool:
    """Whether ``build_analysis`` leaves the attentions on the model's device (``DEVICE_RESIDENT``)."""
    if DEVICE_RESIDENT is not None:
        return DEVICE_RESIDENT
    return str(loaded.device).split(":")[0] != "cpu" and not on_zero_gpu()


def build_analysis(
    loaded: LoadedModel,
    text: str,
    window: Window,
    output: Any,
    row: int = 0,
    pair: str | None = None,
    notes: tuple = (),
    intervention: Intervention | None = None,
    truncated: bool = False,
    total_tokens: int = 0,
    max_length: int | None = None,
) -> Analysis:
    """One ``Analysis`` from row ``row`` of a forward pass: the only copy to host memory."""
    import torch

    length = window.length
    layers = output.attentions
    dtype = getattr(torch, storage_dtype(len(layers), int(layers[0].shape[1]), length))
    attentions: np.ndarray | DeviceAttentions
    if keeps_on_device(loaded):
        # One (L, H, T, T) tensor stays on the device (a device-side copy: the batch's padding and other
        # rows are dropped); nothing crosses the bus until a view asks for a layer.
        stacked = torch.stack([layer[row, :, :length, :length] for layer in layers]).to(dtype)
        attentions = DeviceAttentions(stacked, DEVICE_TRANSFER_DTYPE)
        # (L + 1, T, D): 1/T of the attentions' size, read whole by several views; one pinned copy
        hidden_states = to_host(torch.stack([layer[row, :length] for layer in output.hidden_states]).float())
    else:
        # Convert layer by layer: a float32 copy of bert-large's 24 x 16 x 384² weights is 226 MB.
        attentions = np.stack([layer[row, :, :length, :length].to(dtype).cpu().numpy() for layer in layers])
        hidden_states = np.stack([layer[row, :length].float().cpu().numpy() for layer in output.hidden_states])
    norms = output.get("value_norms")
    value_norms = None if norms is None else norms[row, :, :, :length].float().cpu().numpy()
    logits = getattr(output, "logits", None)
    if logits is None and getattr(output, "start_logits", None) is not None:  # QA: (T, 2) = start, end
        logits = torch.stack([output.start_logits, output.end_logits], dim=-1)
    if logits is not None:
        logits = logits[row, :length] if logits.ndim == 3 else logits[row]
    id2label = getattr(loaded.model.config, "id2label", None) or {}
    labels = tuple(str(id2label[i]) for i in sorted(id2label)) if loaded.spec.task in ("sentiment", "ner") else ()
    return Analysis(
        model_name=loaded.spec.name,
        text=text,
        pair=pair,
        sequence_ids=window.sequence_ids,
        tokens=window.tokens,
        token_ids=window.token_ids,
        offsets=window.offsets,
        special_mask=np.asarray(window.special_mask, dtype=bool),
        attention_mask=np.ones(length, dtype=np.int64),
        attentions=attentions,
        hidden_states=hidden_states,
        value_norms=value_norms,
        logits=None if logits is None else logits.float().cpu().numpy(),
        labels=labels,
        truncated=truncated,
        total_tokens=total_tokens or length,
        max_length=max_length or loaded.max_length,
        notes=notes,
        intervention=intervention,
    )


def postprocess(
    loaded: LoadedModel,
    batch: Batch,
    output: Any,
    text: str,
    pair: str | None = None,
    notes: tuple = (),
    intervention: Intervention | None = None,
) -> Analysis | WindowedAnalysis:
    """Analyses of every window; a pair gives a ``WindowedAnalysis``."""
    if pair is None:
        window = batch.windows[0]
        if batch.truncated:
            notes = notes + (
                Msg(
                    "input.truncated",
                    needed=batch.total_tokens,
                    model=loaded.spec.name,
                    limit=batch.max_length,
                    kept=window.length,
                ),
            )
        return build_analysis(
            loaded, text, window, output, notes=notes, intervention=intervention,
            truncated=batch.truncated, total_tokens=batch.total_tokens,
        )  # fmt: skip
    windows = tuple(
        build_analysis(loaded, text, window, output, row=row, pair=pair, intervention=intervention, max_length=batch.max_length)
        for row, window in enumerate(batch.windows)
    )
    if len(windows) > 1:
        notes = notes + (Msg("qa.windows", count=len(windows), length=batch.max_length, stride=batch.stride),)
    return WindowedAnalysis(loaded.spec.name, text, pair, windows, batch.stride, notes, intervention)


@gpu_call
def run_loaded(
    loaded: LoadedModel,
    text: str,
    pair: str | None = None,
    intervention: Intervention | None = None,
    notes: tuple = (),
) -> Analysis | WindowedAnalysis:
    """The whole pipeline on an already loaded model, without the cache (training recipes' gates use it)."""
    batch = preprocess(loaded, text, pair)
    return postprocess(loaded, batch, forward(loaded, batch, intervention), text, pair, notes, intervention)


# ---------------------------------------------------------------- cached entry points


def run(key: AnalysisKey) -> Analysis | WindowedAnalysis:
    """The analysis of ``key``, from the cache or from one forward pass (one at a time per key)."""
    clean = clean_input(key.text)
    clean_pair = clean_input(key.pair) if key.pair is not None else None
    spec = resolve(key.model)
    key = AnalysisKey(spec.name, clean.text, clean_pair.text if clean_pair else None, key.intervention)
    notes = clean.notes + (clean_pair.notes if clean_pair else ())

    def make() -> Analysis | WindowedAnalysis:
        return run_loaded(load_model(spec), key.text, key.pair, key.intervention, notes)

    return cache.get_or_create(key, make)


def analyze(text: str, model: str | None = None, intervention: Intervention | None = None) -> Analysis:
    """Analyse ``text`` with the model ``model`` (default: embedded MiniLM); cached.

    Raises ``InputError`` for empty text and ``ModelUnavailable`` when the model cannot be
    loaded; both carry a message meant for the user (``error.msg``).
    """
    return run(AnalysisKey(resolve(model).name, text, None, intervention))


def analyze_qa(
    question: str, context: str, model: str | None = None, intervention: Intervention | None = None
) -> WindowedAnalysis:
    """Question + context, the context cut into overlapping windows, one batched forward pass, cached."""
    return run(AnalysisKey(resolve(model).name, question, context or "", intervention))


# ---------------------------------------------------------------- gradients


@dataclass(frozen=True)
class Target:
    """Which output to differentiate: a class logit (``"class"``), a token's tag logit (``"token"``,
    at ``position``), or a QA ``"start"``/``"end"`` logit at ``position``."""

    kind: str
    index: int = 0
    position: int = 0


@dataclass(frozen=True)
class Gradients:
    """d(target output) / d(input embeddings) for one input: ``(T, D)`` arrays, host memory."""

    tokens: tuple[str, ...]
    embeddings: np.ndarray
    gradient: np.ndarray
    output: float  # the differentiated output's value
    extra: dict = field(default_factory=dict)

    @property
    def gradient_x_input(self) -> np.ndarray:
        """Per-token gradient × input, summed over the hidden dimension: ``(T,)``."""
        return (self.gradient * self.embeddings).sum(axis=-1)


def select_output(output: Any, target: Target) -> Any:
    """The scalar ``target`` picks from a model output (first batch row)."""
    if target.kind == "class":
        return output.logits[0, target.index]
    if target.kind == "token":
        return output.logits[0, target.position, target.index]
    if target.kind in ("start", "end"):
        return getattr(output, f"{target.kind}_logits")[0, target.position]
    raise InputError("gradients.bad_target", kind=str(target.kind)[:20])


@gpu_call
def input_gradients(text: str, model: str | None, target: Target, pair: str | None = None) -> Gradients:
    """One forward + backward with respect to the word embeddings (never cached).

    The model reads ``inputs_embeds`` (word-piece embeddings; positions and token types are
    added inside, as usual), so the gradient is per input token, as captum's
    ``LayerIntegratedGradients`` on the embedding layer sees it. Only the first window of a pair.
    """
    import torch

    loaded = load_model(resolve(model))
    clean = clean_input(text)
    batch = preprocess(loaded, clean.text, clean_input(pair).text if pair is not None else None)
    inputs = {name: value[:1] for name, value in batch.inputs.items()}
    input_ids = inputs.pop("input_ids")
    with torch.enable_grad():
        embeddings = loaded.model.get_input_embeddings()(input_ids).detach().requires_grad_(True)
        output = loaded.model(inputs_embeds=embeddings, **inputs)
        value = select_output(output, target)
        (gradient,) = torch.autograd.grad(value, embeddings)
    return Gradients(
        tokens=batch.windows[0].tokens,
        embeddings=embeddings[0].detach().float().cpu().numpy(),
        gradient=gradient[0].float().cpu().numpy(),
        output=float(value.detach()),
    )


# ---------------------------------------------------------------- model parameters for the views


def position_embeddings(model: str | None = None) -> np.ndarray:
    """The model's learned absolute position embeddings, ``(max_positions, D)``."""
    loaded = load_model(model)
    embeddings = getattr(getattr(loaded.model.base_model, "embeddings", None), "position_embeddings", None)
    if embeddings is None:
        raise ExplorerError("model.no_position_embeddings", model=loaded.spec.name)
    return embeddings.weight.detach().float().cpu().numpy().copy()


def self_attention_weights(model: str | None, layer: int) -> dict[str, np.ndarray]:
    """Query/key/value projections of one layer, as numpy ``(D_in, D_out)`` matrices.

    Stored as ``x @ W + b`` (the chapter's orientation), i.e. torch's weight transposed.
    """
    from .interventions import encoder_layers

    loaded = load_model(model)
    attention = encoder_layers(loaded.model)[layer].attention.self
    params: dict[str, np.ndarray] = {"num_heads": np.array(loaded.model.config.num_attention_heads)}
    for name in ("query", "key", "value"):
        linear = getattr(attention, name)
        params[f"W_{name[0].upper()}"] = linear.weight.detach().float().cpu().numpy().T.copy()
        params[f"b_{name[0].upper()}"] = linear.bias.detach().float().cpu().numpy().copy()
    return params
