"""The GPU path (issue 11): forward alone, analyze end to end, first view, per model shape x tokens.

``python -m benchmarks.gpu`` (``EXPLORER_DEVICE=cuda`` or a visible GPU): for MiniLM (6 x 12 x 384),
BERT-Base (12 x 12 x 768) and BERT-Large (24 x 16 x 1024), random weights from ``BertConfig`` with
eager attention, at 128 and 512 tokens, the median of ``--repeats`` runs (``torch.cuda.synchronize``
before each clock read) of:

- ``forward``: the model alone, with attentions and hidden states (what any explorer must pay);
- ``analyze``: the app's path, ``backend.run_loaded`` = preprocess -> forward -> postprocess into an
  ``Analysis`` (attentions stay on the GPU; hidden states, value norms, logits come to host);
- ``first view``: the Attention tab's figures for layer 0, head 0 of that fresh analysis
  (``present.attention.attention_view``: one layer crosses the bus);
- for comparison, ``analyze`` with every attention copied to host as before (``DEVICE_RESIDENT =
  False``), and the whole array copied from the device store (``analysis.attentions``);
- on CUDA, the forward pass in float16 and how far its attentions are from float32's.

Writes ``benchmarks/results/gpu.json`` (device name, torch version, every number) and prints a
markdown table. Without CUDA it runs on the CPU, MiniLM's shape only, says so, writes only where
``--out`` says, and exits 0. No download: a WordPiece vocabulary is written here.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT))

# name: (layers, heads, hidden size)
SHAPES = {
    "minilm": (6, 12, 384),
    "bert-base": (12, 12, 768),
    "bert-large": (24, 16, 1024),
    "tiny": (1, 2, 32),  # the smoke test's
}
GPU_SHAPES = ("minilm", "bert-base", "bert-large")
CPU_SHAPES = ("minilm",)
TOKENS = (128, 512)
VOCAB_WORDS = 2000
TARGET = 2.0  # issue 11: analyze bert-large at 512 tokens / forward <= 2


def vocabulary() -> dict[str, int]:
    """Special tokens + ``w0 … w1999``: every word one token, so a text of n words is n + 2 tokens."""
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(VOCAB_WORDS)]
    return {word: index for index, word in enumerate(words)}


def text_of_tokens(n_tokens: int, variant: int = 0) -> str:
    return " ".join(f"w{(7 * i + variant) % VOCAB_WORDS}" for i in range(n_tokens - 2))


def build(shape: str, device: str) -> Any:
    """A ``LoadedModel`` of random weights in ``shape``, as ``models.load_model`` would return it."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    from explorer.models import ModelSpec
    from explorer.models.loading import LoadedModel

    layers, heads, hidden = SHAPES[shape]
    config = BertConfig(
        vocab_size=len(vocabulary()),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=4 * hidden,
        max_position_embeddings=512,
        attn_implementation="eager",  # as loading does: sdpa returns no attention weights
    )
    torch.manual_seed(0)
    with torch.device(device):  # initialised where it runs: BERT-Large's 335M weights in a second
        model = BertModel(config).eval()
    tokenizer = BertTokenizer(vocab=vocabulary(), model_max_length=512)
    spec = ModelSpec(name=f"{shape}-shape", source="benchmark", description="random weights")
    return LoadedModel(spec=spec, tokenizer=tokenizer, model=model, max_length=512, device=device)


def timed(fn: Callable[[], Any], repeats: int, warmup: int, sync: Callable[[], None]) -> tuple[float, Any]:
    """Median milliseconds of ``fn`` over ``repeats`` runs after ``warmup``, and its last result."""
    result = None
    for _ in range(warmup):
        result = fn()
    sync()
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        result = fn()
        sync()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times), result


def measure(shape: str, n_tokens: int, device: str, repeats: int, warmup: int) -> dict:
    import torch

    from explorer import backend
    from explorer.present.attention import attention_view

    cuda = device.startswith("cuda")
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    loaded = build(shape, device)
    text = text_of_tokens(n_tokens)
    batch = backend.preprocess(loaded, text)
    assert batch.windows[0].length == n_tokens, "token count drifted"

    def forward() -> Any:
        with torch.inference_mode():
            return loaded.model(**batch.inputs, output_attentions=True, output_hidden_states=True)

    forward_ms, output = timed(forward, repeats, warmup, sync)
    del output
    analyze_ms, analysis = timed(lambda: backend.run_loaded(loaded, text), repeats, warmup, sync)
    assert analysis.n_tokens == n_tokens

    # the first view of a fresh analysis each time: the layer's copy is part of it
    views = []
    for _ in range(warmup + repeats):
        fresh = backend.run_loaded(loaded, text)
        sync()
        start = time.perf_counter()
        attention_view(fresh, 0, 0)
        views.append(time.perf_counter() - start)
    first_view_ms = 1000 * statistics.median(views[warmup:])
    store = fresh.device_attentions
    copied = None if store is None else store.copied_bytes

    def whole() -> Any:
        return backend.run_loaded(loaded, text).attentions  # the device store copied whole (float16, pinned)

    whole_ms = timed(whole, max(3, repeats // 2), 1, sync)[0] - analyze_ms if store is not None else None
    saved = backend.DEVICE_RESIDENT
    backend.DEVICE_RESIDENT = False  # every attention to host in postprocess, as before issue 11
    try:
        host_ms = timed(lambda: backend.run_loaded(loaded, text), max(3, repeats // 2), 1, sync)[0]
    finally:
        backend.DEVICE_RESIDENT = saved
    row = {
        "shape": shape,
        "layers_heads_hidden": list(SHAPES[shape]),
        "tokens": n_tokens,
        "forward_ms": round(forward_ms, 3),
        "analyze_ms": round(analyze_ms, 3),
        "first_view_ms": round(first_view_ms, 3),
        "analyze_over_forward": round(analyze_ms / forward_ms, 3),
        "first_view_copied_bytes": copied,
        "attentions_resident": store is not None,
        "analyze_all_to_host_ms": round(host_ms, 3),
        "whole_array_from_store_ms": None if whole_ms is None else round(whole_ms, 3),
    }
    if cuda:
        row.update(half_precision(loaded, batch, output_of=forward, repeats=repeats, warmup=warmup, sync=sync))
    return row  # the model and analyses go with this frame (``main`` empties the CUDA cache)


def half_precision(loaded: Any, batch: Any, output_of: Callable[[], Any], repeats: int, warmup: int, sync: Callable) -> dict:
    """The same forward pass in float16, and the largest difference of its attention weights from float32's
    (issue 11: float16 only where weights stay within 1e-3). Random weights: a lead, not a verdict."""
    import torch

    reference = output_of().attentions
    loaded.model.half()
    try:
        half_ms, half = timed(output_of, repeats, warmup, sync)
        difference = max(float((a.float() - b.float()).abs().max()) for a, b in zip(half.attentions, reference, strict=True))
    finally:
        loaded.model.float()
    del half, reference
    torch.cuda.empty_cache()
    return {"forward_fp16_ms": round(half_ms, 3), "fp16_attention_max_abs_diff": difference}


def table(rows: list[dict]) -> str:
    lines = [
        "| shape | tokens | forward ms | analyze ms | analyze ÷ forward | first view ms | all to host (before) ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['shape']} | {row['tokens']} | {row['forward_ms']:.2f} | {row['analyze_ms']:.2f} | "
            f"{row['analyze_over_forward']:.2f} | {row['first_view_ms']:.2f} | {row['analyze_all_to_host_ms']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="json path (default on CUDA: benchmarks/results/gpu.json)")
    parser.add_argument("--shapes", nargs="*", choices=sorted(SHAPES), default=None)
    parser.add_argument("--tokens", nargs="*", type=int, default=list(TOKENS))
    parser.add_argument("--repeats", type=int, default=None, help="default 20 on CUDA, 3 on the CPU")
    args = parser.parse_args(argv)

    import torch

    from explorer.models.loading import device_name

    device = device_name()
    cuda = device.startswith("cuda")
    if device.startswith("cuda") and not torch.cuda.is_available():
        print(f"EXPLORER_DEVICE={device} but CUDA is not available here: measuring on the CPU.")
        device, cuda = "cpu", False
    shapes = args.shapes or list(GPU_SHAPES if cuda else CPU_SHAPES)
    if not cuda:
        print(f"No CUDA device: running on the CPU, shapes {', '.join(shapes)} only (numbers are not the GPU's).")
    repeats = args.repeats or (20 if cuda else 3)
    warmup = 3 if cuda else 1
    name = torch.cuda.get_device_name(device) if cuda else (platform.processor() or platform.machine() or "cpu")
    rows = []
    for shape in shapes:
        for n_tokens in args.tokens:
            rows.append(measure(shape, n_tokens, device, repeats, warmup))
            print(json.dumps(rows[-1]), flush=True)
            if cuda:
                torch.cuda.empty_cache()
    result = {
        "device": device,
        "device_name": name,
        "torch": torch.__version__,
        "transformers": __import__("transformers").__version__,
        "repeats": repeats,
        "note": "median ms; analyze = backend.run_loaded (preprocess, forward, postprocess); first view = "
        "present.attention.attention_view(layer 0, head 0) of a fresh analysis",
        "results": rows,
    }
    large = [row for row in rows if row["shape"] == "bert-large" and row["tokens"] == 512]
    if large:
        result["target"] = {"analyze_over_forward_max": TARGET, "measured": large[0]["analyze_over_forward"]}
    out = args.out or (RESULTS / "gpu.json" if cuda else None)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"\n{name}, torch {torch.__version__}\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
