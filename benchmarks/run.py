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
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from gradio_client import Client

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


def text_of_tokens(n_tokens: int, variant: int = 0) -> str:
    """English text that MiniLM's tokenizer turns into exactly ``n_tokens`` tokens.

    ``variant`` rotates the words, so that each variant is a different (uncached) input.
    """
    from explorer.models import load_model

    tokenizer = load_model().tokenizer
    words = ("attention lets every token look at every other token in the sentence . " * 40).split()
    words = [f"v{variant}"] * bool(variant) + words[variant % 13 :]
    ids = tokenizer(" ".join(words), add_special_tokens=False)["input_ids"][: n_tokens - 2]
    text = tokenizer.decode(ids)
    assert len(tokenizer(text)["input_ids"]) == n_tokens, "token count drifted"
    return text


def bench_startup(repeats: int) -> float:
    """`python app.py` until the first page is served (models load lazily, after)."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        app = RunningApp()  # returns once the first page is served
        times.append(time.perf_counter() - began)
        app.close()
    return statistics.median(times)


def bench_backend(n_tokens: int, repeats: int) -> dict:
    import torch

    from explorer import backend
    from explorer.models import load_model
    from explorer.present.attention import attention_view

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

    def switch() -> None:  # what a slider release costs the server: build the 4 figures and serialise them
        view = attention_view(analysis, 3, 7, 5, True, False)
        for figure in (view.head, view.row, view.mean, view.grid):
            figure.to_json()

    switch_s = median_seconds(switch, repeats)
    return {
        "tokens": n_tokens,
        "bare_forward_s": forward_s,
        "analyze_uncached_s": analyze_s,
        "analyze_cached_s": cached_s,
        "analyze_over_forward": analyze_s / forward_s,
        "switch_layer_head_figures_s": switch_s,
    }


# ------------------------------------------------------------------ payload: ours vs bertviz


def bench_payload(n_tokens: int, repeats: int) -> dict:
    """Bytes and build time of the attention views for one input, ours beside bertviz's own."""
    from explorer import backend, bertviz_views
    from explorer.present.attention import attention_view

    analysis = backend.analyze(text_of_tokens(n_tokens))

    def ours() -> int:
        view = attention_view(analysis, 0, 0, 0, False, False)
        return sum(len(f.to_json().encode()) for f in (view.head, view.row, view.mean, view.grid))

    row = {
        "tokens": n_tokens,
        "ours_figures_bytes": ours(),
        "ours_figures_build_s": median_seconds(ours, repeats),
    }
    for kind in ("head", "model"):
        view = bertviz_views.render(analysis, kind, 0)
        row[f"ours_bertviz_{kind}_bytes"] = view.total_bytes
        row[f"ours_bertviz_{kind}_data_bytes"] = view.data_bytes
        row[f"ours_bertviz_{kind}_threshold"] = view.threshold
        row[f"ours_bertviz_{kind}_layers"] = list(view.layers)
        row[f"ours_bertviz_{kind}_build_s"] = median_seconds(lambda kind=kind: bertviz_views.render(analysis, kind, 0), repeats)
    try:
        from bertviz import head_view, model_view
    except ImportError:
        row["bertviz"] = "not installed (pip install -r requirements-bench.txt)"
        return row
    import torch

    attention = [torch.from_numpy(analysis.attention(layer).astype(np.float32))[None] for layer in range(analysis.n_layers)]
    tokens = list(analysis.tokens)
    for name, fn in (("head", head_view), ("model", model_view)):
        built = fn(attention, tokens, html_action="return").data
        row[f"bertviz_{name}_bytes"] = len(built.encode())
        row[f"bertviz_{name}_build_s"] = median_seconds(lambda fn=fn: fn(attention, tokens, html_action="return"), repeats)
    return row


# ------------------------------------------------------------------ the running app, over HTTP

_TLS_CONTEXT = None


def api_client(url: str) -> Client:
    """A gradio_client ``Client`` for the load tests, sharing one TLS context with the others.

    gradio_client opens a new httpx client for every request, and httpx builds a new verifying TLS
    context (reading certifi's CA bundle, ~40 ms of CPU) for each, twice per call, even over plain
    http: 30 users of the app on the same 2 cores spent twice the server's CPU on that alone. Passing
    one ready context (still verifying) makes httpx reuse it; the server sees the same requests.
    """
    global _TLS_CONTEXT
    import ssl

    from gradio_client import Client

    if _TLS_CONTEXT is None:
        import certifi

        _TLS_CONTEXT = ssl.create_default_context(cafile=certifi.where())  # what httpx builds by default
    return Client(url, verbose=False, ssl_verify=_TLS_CONTEXT)


class RunningApp:
    """``python app.py`` in a subprocess on a free port."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {**os.environ, "GRADIO_SERVER_PORT": str(self.port)}
        self.process = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url, timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("app did not start within 120 s")

    def rss_mb(self) -> dict:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines())
        return {key: int(fields[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM")}

    def sse_bytes(self, api_name: str, data: list) -> int:
        """Bytes of the result stream of one call (gradio's REST API: what a client downloads)."""
        request = urllib.request.Request(
            f"{self.url}gradio_api/call/{api_name}",
            data=json.dumps({"data": data}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            event_id = json.loads(response.read())["event_id"]
        with urllib.request.urlopen(f"{self.url}gradio_api/call/{api_name}/{event_id}", timeout=120) as response:
            body = response.read()
        if b"event: error" in body:
            raise RuntimeError(f"{api_name} failed: {body[:300]!r}")
        return len(body)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def bare_forward_of(text: str):
    """The embedded model's plain forward pass on ``text`` (attentions and hidden states out), as a callable."""
    import torch

    from explorer import backend
    from explorer.models import load_model

    loaded = load_model()
    encoded = backend.preprocess(loaded, text)

    def bare_forward() -> None:
        with torch.inference_mode():
            loaded.model(**encoded.inputs, output_attentions=True, output_hidden_states=True)

    bare_forward()  # warm-up
    return bare_forward


def bench_app(repeats: int) -> dict:
    app = RunningApp()
    try:
        client = api_client(app.url)
        client.predict(api_name="/health")
        model = "all-MiniLM-L6-v2"
        wire = {}
        for n in (16, 64, 128):
            text = text_of_tokens(n)
            wire[n] = {
                "attention_call_bytes": app.sse_bytes("attention", [text, model, 0, 0, 0, False, False, False]),
                "bertviz_head_call_bytes": app.sse_bytes("bertviz", [text, model, 0, "head"]),
                "bertviz_model_call_bytes": app.sse_bytes("bertviz", [text, model, 0, "model"]),
            }
        variants = iter(range(1, 1000))
        texts = {i: text_of_tokens(128, i) for i in range(1, max(repeats, 10) * 2 + 2)}

        def attention_call() -> None:  # a new text each time: the forward pass runs
            client.predict(texts[next(variants)], model, 0, 0, 0, False, False, api_name="/attention")

        attention_call()
        # /health, /attention and the bare forward pass (here, in this process) in turn, so that all
        # three see the same load on shared cores: the ratio compares like with like
        bare_forward = bare_forward_of(text_of_tokens(128))
        timed = {"health": [], "attention": [], "forward": []}
        calls = {"health": lambda: client.predict(api_name="/health"), "attention": attention_call, "forward": bare_forward}
        for _ in range(max(repeats, 10)):
            for name, call in calls.items():
                timed[name].append(median_seconds(call, 1))
        health_s, attention_s, forward_128_s = (statistics.median(timed[name]) for name in ("health", "attention", "forward"))
        # the same call with its analysis cached (no forward pass): what returning 128² weights costs
        cached_s = median_seconds(
            lambda: client.predict(texts[1], model, 0, 0, 0, False, False, api_name="/attention"), max(repeats, 10)
        )
        new_session_s = bench_new_session(app.url, repeats)
        # every tab once: all default models in memory
        client.predict("This movie was absolutely wonderful.", "minilm-sentiment", 0, 0, api_name="/sentiment")
        client.predict("Tim Cook is the CEO of Apple Inc.", "minilm-ner", "simple", 0, 0, api_name="/ner")
        question, context = "When was the Transformer introduced?", "The Transformer was introduced in 2017."
        client.predict(question, context, "minilm-qa", 0, 0, api_name="/qa")
        memory = app.rss_mb()
        concurrency = bench_concurrency(app.url, users=30, n_tokens=64)
        mix = bench_mix(app.url, users=30)
    finally:
        app.close()
    return {
        "wire_bytes": wire,
        "health_call_s": health_s,
        "attention_call_128_s": attention_s,
        "app_cost_128_s": attention_s - health_s,
        "bare_forward_128_s": forward_128_s,
        "app_cost_over_forward": (attention_s - health_s) / forward_128_s,
        "attention_cached_call_128_s": cached_s,
        "new_session_extra_s": new_session_s,
        "rss_all_default_models_mb": memory,
        "concurrency": concurrency,
        "mix": mix,
    }


def bench_new_session(url: str, repeats: int) -> float:
    """What a new gradio session adds to its first call (/health, the cheapest): gradio copies the
    config of every component of the page for each new session, on the server's event loop."""
    extra = []
    for _ in range(repeats):
        client = api_client(url)
        began = time.perf_counter()
        client.predict(api_name="/health")
        first = time.perf_counter() - began
        began = time.perf_counter()
        client.predict(api_name="/health")
        extra.append(first - (time.perf_counter() - began))
    return statistics.median(extra)


def run_users(users: int, user) -> float:
    """Run ``user(index)`` on ``users`` threads at once; wall-clock seconds until all are done."""
    import threading

    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def percentile(ordered: list[float], q: float) -> float | None:
    """The ``q`` quantile of sorted values (nearest rank below), None when empty."""
    return ordered[int(q * (len(ordered) - 1))] if ordered else None


def bench_concurrency(url: str, users: int, n_tokens: int) -> dict:
    """``users`` gradio_client users at once, each with its own 64-token text; latency of each call."""
    import threading

    clients = [api_client(url) for _ in range(users)]
    texts = [text_of_tokens(n_tokens, 500 + i) for i in range(users)]
    start = threading.Barrier(users)
    latencies: list[float] = []
    errors: list[str] = []

    def user(index: int) -> None:
        start.wait()
        began = time.perf_counter()
        try:
            clients[index].predict(texts[index], "all-MiniLM-L6-v2", 0, 0, 0, False, False, api_name="/attention")
            latencies.append(time.perf_counter() - began)
        except Exception as error:  # counted, not raised: the benchmark reports errors
            errors.append(repr(error))

    wall = run_users(users, user)
    ordered = sorted(latencies)
    return {
        "users": users,
        "tokens": n_tokens,
        "errors": len(errors),
        "error_samples": errors[:3],
        "p50_s": statistics.median(ordered) if ordered else None,
        "p95_s": percentile(ordered, 0.95),
        "max_s": ordered[-1] if ordered else None,
        "wall_s": wall,
    }


def bench_mix(url: str, users: int, rounds: int = 5, connected: bool = True) -> dict:
    """``users`` gradio_client users at once, each sending ``rounds`` requests one after another, the
    soak's mix in turn (/attention, /tokenize, /sentiment, /ner, /qa with a paragraph context; each user
    starts at another endpoint, so every endpoint is busy from the first moment). Each user has its own
    text, new to the server's cache."""
    import threading

    from benchmarks.soak import calls, texts

    clients = [api_client(url) for _ in range(users)]
    if connected:  # each user's gradio session exists already, as for a page left open (``new_session_extra_s``)
        for client in clients:
            client.predict(api_name="/health")
    pool = texts(1000)[-users:]  # inputs the soak's warm-up and the other rows never send
    start = threading.Barrier(users)
    latencies: dict[str, list[float]] = {}
    errors: list[str] = []
    lock = threading.Lock()

    def user(index: int) -> None:
        mix = calls(pool[index], hub_model=False)
        start.wait()
        for step in range(rounds):
            args, api_name = mix[(index + step) % len(mix)]
            began = time.perf_counter()
            try:
                result = clients[index].predict(*args, api_name=api_name)
                if isinstance(result, dict) and "error" in result:
                    raise RuntimeError(result["error"])
                with lock:
                    latencies.setdefault(api_name, []).append(time.perf_counter() - began)
            except Exception as error:  # counted, not raised: the benchmark reports errors
                with lock:
                    errors.append(f"{api_name}: {error!r}"[:300])

    wall = run_users(users, user)
    ordered = sorted(x for values in latencies.values() for x in values)
    return {
        "users": users,
        "rounds": rounds,
        "requests": len(ordered) + len(errors),
        "errors": len(errors),
        "error_samples": errors[:3],
        "p50_s": statistics.median(ordered) if ordered else None,
        "p95_s": percentile(ordered, 0.95),
        "max_s": ordered[-1] if ordered else None,
        "qa_p50_s": statistics.median(latencies["/qa"]) if latencies.get("/qa") else None,
        "per_endpoint_p50_s": {name: statistics.median(values) for name, values in sorted(latencies.items())},
        "throughput_per_s": len(ordered) / wall if wall else None,
        "wall_s": wall,
    }


# ------------------------------------------------------------------ bert-large shape, in its own process


def bench_large_model() -> dict:
    """24 layers x 16 heads (bert-large's shape, random weights) on 384 tokens, in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.large_model"], cwd=ROOT, capture_output=True, text=True, timeout=1200, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ report


def _payload_128(key: str):
    return lambda r: r["payload"][2][key] / 1e6


BUDGETS = [
    ("attention view bytes, 128 tokens (our figures)", _payload_128("ours_figures_bytes"), "≤ 1 MB", 1.0, "MB"),
    ("bertviz head view bytes, 128 tokens (ours)", _payload_128("ours_bertviz_head_bytes"), "≤ 1 MB", 1.0, "MB"),
    ("bertviz model view bytes, 128 tokens (ours)", _payload_128("ours_bertviz_model_bytes"), "≤ 1 MB", 1.0, "MB"),
    ("app cost of /attention ÷ bare forward, 128 tokens", lambda r: r["app"]["app_cost_over_forward"], "≤ 1.5×", 1.5, "×"),
    (
        "switch layer/head (4 figures, serialised), 128 tokens",
        lambda r: r["backend"][1]["switch_layer_head_figures_s"] * 1e3,
        "≤ 50 ms",
        50,
        "ms",
    ),
    ("python app.py → first page", lambda r: r["startup_to_first_page_s"], "≤ 10 s", 10, "s"),
    ("RSS, all default models loaded", lambda r: r["app"]["rss_all_default_models_mb"]["VmRSS"] / 1024, "≤ 1.5 GB", 1.5, "GB"),
    ("30 concurrent users, 64 tokens: p95", lambda r: r["app"]["concurrency"]["p95_s"], "≤ 3 s", 3, "s"),
    ("30 concurrent users: errors", lambda r: r["app"]["concurrency"]["errors"], "0", 0, ""),
    ("30 users, mix with QA: p95", lambda r: r["app"]["mix"]["p95_s"], "≤ 3 s", 3, "s"),
    ("30 users, mix with QA: errors", lambda r: r["app"]["mix"]["errors"], "0", 0, ""),
]


def _cell(row: dict, prefix: str) -> str:
    if f"{prefix}_bytes" not in row:
        return "—"
    return f"{row[f'{prefix}_bytes'] / 1e6:.2f} MB, {row[f'{prefix}_build_s'] * 1e3:.0f} ms"


def bench_gpu() -> dict | None:
    """The GPU rows: measured here when CUDA is present (``benchmarks.gpu``), else the last GPU run's
    ``benchmarks/results/gpu.json`` (it names its device), else nothing."""
    import torch

    if torch.cuda.is_available():
        subprocess.run([sys.executable, "-m", "benchmarks.gpu"], cwd=ROOT, check=True)
    recorded = RESULTS / "gpu.json"
    if not recorded.exists():
        return None
    results = json.loads(recorded.read_text())
    return results if results.get("device") == "cuda" else None


def markdown(results: dict) -> str:
    lines = [
        f"Machine: {results['machine']['platform']}, {results['machine']['cpus']} CPUs, torch {results['machine']['torch']} "
        f"({results['machine']['torch_threads']} threads). Median of {results['repeats']} runs.",
        "",
        "| budget | measured | target | met |",
        "|---|---:|---:|:---:|",
    ]
    for name, get, target, limit, unit in BUDGETS:
        try:
            value = get(results)
        except (KeyError, IndexError, TypeError):
            continue
        lines.append(f"| {name} | {value:.3g} {unit} | {target} | {'yes' if value <= limit else '**no**'} |")
    large = results.get("large_model")
    if large:
        lines.append(
            f"| bert-large shape (24×16), 384 tokens | {large['analyze_s']:.1f} s, "
            f"peak RSS {large['peak_rss_mb'] / 1024:.2f} GB, "
            f"attentions {large['attention_mb']:.0f} MB {large['attention_dtype']} | no out-of-memory | yes |"
        )
    for what, measured, target, met in results.get("browser_rows", []):
        lines.append(f"| {what} | {measured} | {target} | {'yes' if met else '**no**'} |")
    gpu = results.get("gpu")
    if gpu:
        row = next((r for r in gpu["results"] if r["shape"] == "bert-large" and r["tokens"] == 512), None)
        if row:
            ratio = row["analyze_over_forward"]
            lines.append(
                f"| GPU ({gpu['device_name']}): analyze bert-large 512 tokens end to end ÷ forward | {ratio:.2f}× "
                f"({row['analyze_ms']:.1f} / {row['forward_ms']:.1f} ms) | ≤ 2× | {'yes' if ratio <= 2 else '**no**'} |"
            )
    lines += [
        "",
        "| tokens | our figures: bytes, build+serialise | our bertviz head view (1 layer) | our bertviz model view | "
        "bertviz head_view (all layers) | bertviz model_view |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["payload"]:
        cells = " | ".join(
            _cell(row, p) for p in ("ours_figures", "ours_bertviz_head", "ours_bertviz_model", "bertviz_head", "bertviz_model")
        )
        lines.append(f"| {row['tokens']} | {cells} |")
    app = results.get("app")
    if app:
        lines += [
            "",
            f"Over HTTP (gradio_client, same run): /health {app['health_call_s'] * 1e3:.0f} ms, /attention at 128 tokens "
            f"{app['attention_call_128_s'] * 1e3:.0f} ms, so the app's own cost is {app['app_cost_128_s'] * 1e3:.0f} ms against "
            f"a bare forward pass of {app['bare_forward_128_s'] * 1e3:.0f} ms (timed in turn with the calls) "
            f"({app['app_cost_over_forward']:.2f}×). Bytes of each result stream: "
            + ", ".join(f"{n} tokens {w['attention_call_bytes'] / 1e3:.0f} kB" for n, w in app["wire_bytes"].items())
            + f". 30 users: p50 {app['concurrency']['p50_s']:.2f} s, p95 {app['concurrency']['p95_s']:.2f} s, "
            f"max {app['concurrency']['max_s']:.2f} s, {app['concurrency']['errors']} errors.",
        ]
        if "attention_cached_call_128_s" in app:
            lines.append(
                f"/attention at 128 tokens with its analysis cached (no forward pass): "
                f"{app['attention_cached_call_128_s'] * 1e3:.0f} ms; a new gradio session adds "
                f"{app['new_session_extra_s'] * 1e3:.0f} ms to its first call."
            )
        mix = app.get("mix")
        if mix:
            lines.append(
                f"30 users, mix with QA ({mix['rounds']} calls each, {mix['requests']} in all): "
                f"p50 {mix['p50_s']:.2f} s, p95 {mix['p95_s']:.2f} s, max {mix['max_s']:.2f} s, "
                f"QA p50 {mix['qa_p50_s']:.2f} s, {mix['throughput_per_s']:.1f} requests/s, {mix['errors']} errors."
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-large", action="store_true", help="skip the bert-large-shaped model (needs ~3 GB RAM)")
    parser.add_argument("--no-browser", action="store_true", help="skip the chromium rows (benchmarks.browser)")
    args = parser.parse_args()
    import torch

    results: dict = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
        },
        "repeats": args.repeats,
    }
    results["startup_to_first_page_s"] = bench_startup(args.repeats)
    results["backend"] = [bench_backend(n, args.repeats) for n in (16, 128, 512)]
    results["payload"] = [bench_payload(n, args.repeats) for n in (16, 64, 128)]
    results["app"] = bench_app(args.repeats)
    if not args.skip_large:
        results["large_model"] = bench_large_model()
    results["gpu"] = bench_gpu()
    if not args.no_browser:
        from benchmarks import browser

        if Path(browser.CHROMIUM).exists():
            results["browser"] = browser.measure(args.repeats)
            results["browser_rows"] = browser.rows(results["browser"])
            (RESULTS / "browser.json").write_text(json.dumps(results["browser"], indent=2) + "\n")
        else:
            print(f"no {browser.CHROMIUM}: the browser rows are left out (apt-get install chromium)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    table = markdown(results)
    (RESULTS / "latest.md").write_text(table)
    print(table)
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
