"""The one object every view reads: everything a single forward pass produced."""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from .errors import InputError
from .messages import Msg

Offset = tuple[int, int] | None


def to_host(tensor: Any) -> np.ndarray:
    """A torch tensor as numpy in host memory. From CUDA through pinned memory with an async copy:
    pageable memory is staged by the driver at a fraction of the bus speed (245 ms against 4 ms for
    BERT-Large's attentions on an H100, issue 11). The array keeps its buffer alive; on the CPU it may
    share the tensor's memory (callers copy or freeze it)."""
    if tensor.device.type != "cuda":
        return tensor.detach().contiguous().numpy()
    import torch

    pinned = torch.empty(tensor.shape, dtype=tensor.dtype, pin_memory=True)
    pinned.copy_(tensor.detach(), non_blocking=True)
    torch.cuda.current_stream(tensor.device).synchronize()
    return pinned.numpy()


class DeviceAttentions:
    """Attention weights ``(L, H, T, T)`` that stay where the model ran (issue 11, the GPU path).

    Copying all of BERT-Large's 24 x 16 x 512² weights to host memory took 17 forward passes'
    time on an H100, while a view shows one layer. So the tensor stays on the device and what a
    view asks for crosses the bus alone, once: a layer (``layer``) or a head (``head``), as
    ``dtype`` (float16 by default on a GPU: half the bytes; a weight in [0, 1] moves by at most
    2.5e-4), through pinned host memory on CUDA, kept as read-only float32 numpy per layer.
    ``host`` copies everything, only for the views that read the whole array (see
    ``Analysis.attentions``). The caches are memoisation of an immutable tensor: the values never
    change, so an ``Analysis`` holding this stays immutable in spirit. ``copies``/``copied_bytes``
    count what crossed (tests prove a view copies one layer).
    """

    def __init__(self, tensor: Any, dtype: str = "float16") -> None:
        if tensor.ndim != 4 or tensor.shape[2] != tensor.shape[3]:
            raise ValueError(f"attentions have shape {tuple(tensor.shape)}, expected (L, H, T, T)")
        self.tensor = tensor
        # float16 storage on the device stays float16 whatever is asked: no precision to gain.
        narrow = str(tensor.dtype) == "torch.float16" or str(dtype) == "float16"
        self.dtype = np.dtype(np.float16 if narrow else np.float32)
        self.copies = 0
        self.copied_bytes = 0
        self._layers: dict[int, np.ndarray] = {}
        self._heads: dict[tuple[int, int], np.ndarray] = {}
        self._host: np.ndarray | None = None
        self._lock = threading.Lock()

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return tuple(int(size) for size in self.tensor.shape)  # type: ignore[return-value]

    @property
    def ndim(self) -> int:
        return 4

    @property
    def nbytes(self) -> int:
        """Bytes held: the device tensor and what was copied to host so far (the cache's budget)."""
        held = self.tensor.numel() * self.tensor.element_size()
        host = sum(array.nbytes for array in (*self._layers.values(), *self._heads.values()))
        return int(held + host + (0 if self._host is None else self._host.nbytes))

    @property
    def device(self) -> str:
        return str(self.tensor.device)

    def _copy(self, tensor: Any) -> np.ndarray:
        import torch

        host = to_host(tensor.to(getattr(torch, self.dtype.name)))
        self.copies += 1
        self.copied_bytes += host.nbytes
        return host

    @staticmethod
    def _frozen(array: np.ndarray) -> np.ndarray:
        array = np.array(array, dtype=np.float32)  # an own copy: pinned buffers go back to torch's pool
        array.setflags(write=False)
        return array

    def layer(self, layer: int) -> np.ndarray:
        """``(H, T, T)`` float32 of one layer (``layer`` already checked), copied once."""
        with self._lock:
            if layer not in self._layers:
                source = self._host[layer] if self._host is not None else self._copy(self.tensor[layer])
                self._layers[layer] = self._frozen(source)
                self._heads = {key: value for key, value in self._heads.items() if key[0] != layer}
            return self._layers[layer]

    def head(self, layer: int, head: int) -> np.ndarray:
        """``(T, T)`` float32 of one head: a slice of its layer when that was copied, else this head alone."""
        with self._lock:
            if layer in self._layers:
                return self._layers[layer][head]
            if (layer, head) not in self._heads:
                source = self._host[layer, head] if self._host is not None else self._copy(self.tensor[layer, head])
                self._heads[(layer, head)] = self._frozen(source)
            return self._heads[(layer, head)]

    def host(self) -> np.ndarray:
        """All ``(L, H, T, T)`` weights as ``dtype`` numpy, copied once (read-only)."""
        with self._lock:
            if self._host is None:
                host = self._copy(self.tensor)  # numpy keeps its (pinned) buffer alive: no second copy
                host.setflags(write=False)
                self._host = host
            return self._host

    def __repr__(self) -> str:
        return f"DeviceAttentions(shape={self.shape}, device={self.device!r}, dtype={self.dtype.name!r})"

    def __deepcopy__(self, memo: dict) -> DeviceAttentions:
        return self  # immutable values: a copy would only cost device memory

    def __getstate__(self) -> dict:
        # pickling (multiprocessing, gradio state) carries host numpy: another process has no such tensor
        return {"host": self.host(), "dtype": self.dtype.name}

    def __setstate__(self, state: dict) -> None:
        import torch

        self.__init__(torch.from_numpy(np.array(state["host"])), state["dtype"])  # type: ignore[misc]


class _AttentionsField:
    """``Analysis.attentions``: the stored numpy array, or a ``DeviceAttentions`` copied whole on first read.

    A data descriptor as a dataclass field (documented dataclass behaviour): ``__init__`` sets it
    through ``__set__``; reading the class attribute raises ``AttributeError``, so the field has no
    default. The stored value stays in the instance's ``__dict__`` under its own name (a data
    descriptor wins over it), so ``Analysis(**analysis.__dict__)`` still rebuilds an analysis.

    What reads the whole array on a GPU (one host copy of every layer, then kept):
    ``heads.role_shares`` (Heads tab), ``present.heads`` (find heads: ``attentions[:, :, q, k]``),
    ``present.sentiment`` and ``attribution`` (rollout over all layers), ``present.compare``
    (``aligned_pair``), and ``present.attention.scratch_check`` (only for ``.dtype``; use
    ``Analysis.storage_dtype``). The Attention tab's figures, NER/QA/fill rows, bertviz and the
    step-by-step view read ``Analysis.attention(layer[, head])``: one layer at a time.
    """

    def __get__(self, instance: Any, owner: Any = None) -> np.ndarray:
        if instance is None:
            raise AttributeError("attentions")
        stored = instance.__dict__["attentions"]
        return stored.host() if isinstance(stored, DeviceAttentions) else stored

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__["attentions"] = value


@dataclass(frozen=True)
class AnalysisKey:
    """What identifies one analysis in the cache and in a tab's state.

    ``pair`` is the second text of a pair input (the QA context); ``intervention`` a frozen
    change to the forward pass (``interventions.HeadGate``), ``None`` for the plain model.
    """

    model: str
    text: str
    pair: str | None = None
    intervention: Any = None


@dataclass(frozen=True, eq=False)
class Analysis:
    """An immutable record of one forward pass of one model over one text.

    Shapes (T = number of tokens, special tokens included; L = layers; H = heads;
    D = hidden size):

    - ``tokens``: T token strings as the tokenizer wrote them (``[CLS]``, ``##ing``).
    - ``token_ids``: int64 ``(T,)``.
    - ``offsets``: T character spans ``(start, end)`` into ``text``; ``None`` for
      special tokens and for tokens that cannot be mapped back (e.g. ``[UNK]`` from
      a slow tokenizer).
    - ``special_mask``: bool ``(T,)``, True for ``[CLS]``, ``[SEP]`` and the like.
    - ``attention_mask``: int64 ``(T,)``; all ones for a single, unpadded input.
    - ``attentions``: float32 ``(L, H, T, T)`` indexed ``[layer, head, query, key]``
      (float16 only above 12 layers x 12 heads x 512² tokens of float32, e.g. BERT-Large
      on long inputs; see ``backend.COMPACT_ATTENTION_BYTES``). On a GPU the weights stay
      there (``DeviceAttentions``): ``attention(layer)`` copies one layer, as float32 numpy;
      reading ``attentions`` itself copies them all (``storage_dtype``; as float16 by default).
      Row ``attentions[l, h, q]`` is how query token ``q`` spreads its attention over
      all key tokens; every row sums to 1 (softmax over keys).
    - ``hidden_states``: float32 ``(L + 1, T, D)``; index 0 is the embedding output
      (the input to layer 0), index ``l + 1`` the output of layer ``l``.
    - ``value_norms``: float32 ``(L, H, T)``, ``||f(x_j)||`` = the norm of key token ``j``'s value
      vector after head ``h``'s slice of the output projection (``explorer.norms``, Kobayashi et al.
      2020); ``attentions * value_norms[:, :, None, :]`` is attention as norms ``||alpha f(x)||``.
      ``None`` for analyses built without it.
    - ``logits``: task-head output when the model has one, else ``None``: ``(n_labels,)``
      for sequence classification, ``(T, n_labels)`` for token classification,
      ``(T, 2)`` (start, end) for question answering.
    - ``labels``: names of the logits' classes (``id2label``), when the model has them.

    For a pair of texts (question answering), ``text`` is the first (the question),
    ``pair`` the second (the context), and ``sequence_ids`` says which one each token
    comes from (0, 1, or None for special tokens); offsets then point into that text.

    ``text`` is the text the model saw (after cleaning); ``truncated`` says whether
    it was cut to the model's window, ``notes`` says what was changed, in words.
    All arrays are read-only.
    """

    model_name: str
    text: str
    tokens: tuple[str, ...]
    token_ids: np.ndarray
    offsets: tuple[Offset, ...]
    special_mask: np.ndarray
    attention_mask: np.ndarray
    attentions: np.ndarray = _AttentionsField()  # type: ignore[assignment]  # numpy, or DeviceAttentions
    hidden_states: np.ndarray
    logits: np.ndarray | None = None
    value_norms: np.ndarray | None = None
    labels: tuple[str, ...] = ()
    pair: str | None = None
    sequence_ids: tuple[int | None, ...] = ()
    truncated: bool = False
    total_tokens: int = 0  # tokens the full text would need, special tokens included
    max_length: int = 512
    notes: tuple[Any, ...] = ()  # messages.Msg
    intervention: Any = None

    def __post_init__(self) -> None:
        n_tokens = len(self.tokens)
        for name in ("token_ids", "special_mask", "attention_mask"):
            if getattr(self, name).shape != (n_tokens,):
                raise ValueError(f"{name} has shape {getattr(self, name).shape}, expected ({n_tokens},)")
        if len(self.offsets) != n_tokens:
            raise ValueError(f"offsets has {len(self.offsets)} entries for {n_tokens} tokens")
        stored = self.__dict__["attentions"]  # its shape, without copying a device store to host
        if stored.ndim != 4 or tuple(stored.shape[2:]) != (n_tokens, n_tokens):
            raise ValueError(f"attentions has shape {tuple(stored.shape)}, expected (L, H, {n_tokens}, {n_tokens})")
        if self.hidden_states.shape[:2] != (stored.shape[0] + 1, n_tokens):
            raise ValueError(f"hidden_states has shape {self.hidden_states.shape}, expected (L + 1, {n_tokens}, D)")
        if self.value_norms is not None and self.value_norms.shape != tuple(stored.shape[:2]) + (n_tokens,):
            raise ValueError(f"value_norms has shape {self.value_norms.shape}, expected (L, H, {n_tokens})")
        host = stored if isinstance(stored, np.ndarray) else None
        arrays = (self.token_ids, self.special_mask, self.attention_mask, host, self.hidden_states, self.logits)
        for value in (*arrays, self.value_norms):
            if value is not None:
                value.setflags(write=False)

    def __repr__(self) -> str:
        # the dataclass repr would read ``attentions`` and so copy a device store to host
        return "Analysis(" + ", ".join(f"{f.name}={self.__dict__[f.name]!r}" for f in fields(self)) + ")"

    @property
    def device_attentions(self) -> DeviceAttentions | None:
        """The device store when the weights stayed on the model's device, else ``None`` (numpy)."""
        stored = self.__dict__["attentions"]
        return stored if isinstance(stored, DeviceAttentions) else None

    @property
    def storage_dtype(self) -> str:
        """The precision of the weights as views read them (``"float32"``/``"float16"``), without a copy."""
        return str(self.__dict__["attentions"].dtype)

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays (a device store counted with what it copied so far): the cache's size."""
        arrays = (self.__dict__["attentions"], self.hidden_states, self.logits, self.value_norms)
        return sum(int(array.nbytes) for array in arrays if array is not None)

    @property
    def n_layers(self) -> int:
        return int(self.__dict__["attentions"].shape[0])

    @property
    def n_heads(self) -> int:
        return int(self.__dict__["attentions"].shape[1])

    @property
    def n_tokens(self) -> int:
        return len(self.tokens)

    def attention(self, layer: int, head: int | None = None) -> np.ndarray:
        """``(T, T)`` weights of one head, or ``(H, T, T)`` for ``head=None``.

        Negative indices count from the end, as in Python (``layer=-1`` is the last); any
        other out-of-range index is an ``InputError`` that names the valid range.
        """
        layer = check_index(layer, self.n_layers, "layer")
        head = None if head is None else check_index(head, self.n_heads, "head")
        device = self.device_attentions
        if device is not None:  # one layer (or head) crosses to host, once; float32
            return device.layer(layer) if head is None else device.head(layer, head)
        if head is None:
            return self.attentions[layer]
        return self.attentions[layer, head]

    def mean_attention(self, layer: int) -> np.ndarray:
        """``(T, T)`` average over the heads of ``layer`` (rows still sum to 1)."""
        return self.attention(layer).mean(axis=0)

    def token_labels(self) -> list[str]:
        """Axis labels that stay unique when a token repeats: ``"3 cat"``."""
        return [f"{index} {token}" for index, token in enumerate(self.tokens)]

    def token_text(self, index: int) -> str:
        """The exact characters of the input that token ``index`` covers, or the token itself."""
        span = self.offsets[index]
        if not span:
            return self.tokens[index]
        source = self.pair if self.sequence_ids and self.sequence_ids[index] == 1 else self.text
        return source[span[0] : span[1]]


@dataclass(frozen=True, eq=False)
class WindowedAnalysis:
    """A question over a long context, cut into overlapping windows and run in one batch.

    ``windows[i]`` is the ``Analysis`` of window ``i`` (question = ``text``, context =
    ``pair``); consecutive windows share ``stride`` context tokens.
    """

    model_name: str
    question: str
    context: str
    windows: tuple[Analysis, ...]
    stride: int
    notes: tuple[Any, ...] = ()
    intervention: Any = None

    @property
    def n_layers(self) -> int:
        return self.windows[0].n_layers

    @property
    def n_heads(self) -> int:
        return self.windows[0].n_heads


def whole_number(value: Any, what: str) -> int:
    """``value`` as an int ("3" and 3.0 too), or an ``InputError`` naming ``what`` (a ``word.*`` key)."""
    try:
        number = int(value)
        if number != value and not isinstance(value, str):
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise InputError("index.not_whole", what=Msg("word." + what), value=str(value)[:40]) from None
    return number


def check_index(index: Any, size: int, what: str, allow_negative: bool = True) -> int:
    """The one policy for indices (layer, head, token, ...): a whole number in range, or an ``InputError``.

    Negative values count from the end when ``allow_negative`` (the Python API); the UI's
    controls never send them. Nothing wraps silently.
    """
    value = whole_number(index, what)
    low = -size if allow_negative else 0
    if not low <= value < size:
        raise InputError("index.out_of_range", what=Msg("word." + what), value=value, size=size, last=size - 1)
    return value % size


def check_flag(value: Any, what: str) -> bool:
    """A yes/no argument: a bool (or 0/1, "true"/"false" from clients that send text); anything else is refused."""
    if isinstance(value, bool):
        return value
    if value in (0, 1) and not isinstance(value, float):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InputError("input.not_flag", name=what, value=str(value)[:40])


def check_text(value: Any, what: str) -> str:
    """A text argument (``None`` counts as empty text); anything else is refused by name."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError("input.bad_type", name=what, expected="text", got=type(value).__name__)
    return value


def check_between(value: Any, low: int, high: int, what: str) -> int:
    """The same policy for sizes (d_model, number of positions): a whole number in ``[low, high]``."""
    number = whole_number(value, what)
    if not low <= number <= high:
        raise InputError("index.not_between", what=Msg("word." + what), value=number, low=low, high=high)
    return number


def align_offsets(text: str, tokens: list[str], special: list[bool]) -> list[Offset]:
    """Character spans for tokens of a tokenizer that does not report offsets.

    Slow tokenizers (e.g. ``BertJapaneseTokenizer``) only return strings. We walk
    through ``text`` left to right and find each token (without its ``##`` prefix),
    case-insensitively; a token that cannot be found (``[UNK]``, normalised
    characters) gets ``None`` and the search continues after the previous match.
    """
    lowered = text.lower()
    cursor = 0
    lost = False  # after an unmapped token, the next match may skip characters
    spans: list[Offset] = []
    for token, is_special in zip(tokens, special, strict=True):
        piece = token[2:] if token.startswith("##") else token
        if is_special or not piece:
            spans.append(None)
            continue
        start = lowered.find(piece.lower(), cursor)
        # Otherwise only accept a match that skips nothing but whitespace.
        if start < 0 or (not lost and lowered[cursor:start].strip()):
            spans.append(None)
            lost = True
            continue
        spans.append((start, start + len(piece)))
        cursor = start + len(piece)
        lost = False
    return spans
