"""Speed benchmarks: `python -m benchmarks.run` prints a markdown table and writes JSON.

Measured, never asserted in tests. Each number is the median of --repeats runs;
ratios are computed within the same run. Results: benchmarks/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT))


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def text_of_tokens(n_tokens: int) -> str:
    """English text that MiniLM's tokenizer turns into exactly ``n_tokens`` tokens."""
    from explorer.models import load_model

    tokenizer = load_model().tokenizer
    words = ("attention lets every token look at every other token in the sentence . " * 40).split()
    ids = tokenizer(" ".join(words), add_special_tokens=False)["input_ids"][: n_tokens - 2]
    text = tokenizer.decode(ids)
    assert len(tokenizer(text)["input_ids"]) == n_tokens, "token count drifted"
    return text


def bench_startup(repeats: int) -> float:
    """`python app.py` until the first page is served (models load lazily, after)."""

    def once() -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {**os.environ, "GRADIO_SERVER_PORT": str(port)}
        process = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                        if response.status == 200:
                            return
                except OSError:
                    time.sleep(0.05)
            raise RuntimeError("app did not start within 120 s")
        finally:
            process.terminate()
            process.wait(timeout=30)

    return median_seconds(once, repeats)


def bench_backend(n_tokens: int, repeats: int) -> dict:
    import torch

    from explorer import backend, presenters
    from explorer.models import load_model

    loaded = load_model()
    text = text_of_tokens(n_tokens)
    encoded = backend.preprocess(loaded, text)

    def bare_forward() -> None:
        with torch.inference_mode():
            loaded.model(**encoded.inputs, output_attentions=True, output_hidden_states=True)

    def uncached_analyze() -> None:
        backend.cache.clear()
        backend.analyze(text)

    bare_forward()  # warm-up
    forward_s = median_seconds(bare_forward, repeats)
    analyze_s = median_seconds(uncached_analyze, repeats)
    analysis = backend.analyze(text)
    cached_s = median_seconds(lambda: backend.analyze(text), repeats)
    switch_s = median_seconds(lambda: presenters.attention_view(analysis, 3, 7, 5, True, False), repeats)
    return {
        "tokens": n_tokens,
        "bare_forward_s": forward_s,
        "analyze_uncached_s": analyze_s,
        "analyze_cached_s": cached_s,
        "analyze_over_forward": analyze_s / forward_s,
        "switch_layer_head_figures_s": switch_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import torch

    results = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
        },
        "repeats": args.repeats,
        "startup_to_first_page_s": bench_startup(args.repeats),
        "backend": [bench_backend(n, args.repeats) for n in (16, 128, 512)],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    print(f"startup to first page: {results['startup_to_first_page_s']:.2f} s\n")
    print("| tokens | bare forward | analyze() uncached | ratio | analyze() cached | switch layer/head (4 figures) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for row in results["backend"]:
        print(
            f"| {row['tokens']} | {row['bare_forward_s'] * 1e3:.1f} ms | {row['analyze_uncached_s'] * 1e3:.1f} ms | "
            f"{row['analyze_over_forward']:.2f}× | {row['analyze_cached_s'] * 1e6:.0f} µs | "
            f"{row['switch_layer_head_figures_s'] * 1e3:.1f} ms |"
        )


if __name__ == "__main__":
    main()
