"""Heads tab: what head roles, ablation and the importance sweep cost, `python -m benchmarks.heads`
(measured, never asserted in tests).

Server (issue 13's targets): head roles for 128 tokens from the cached analysis (≤ 50 ms); one
ablation re-run at 64 tokens against a plain forward pass (≤ 2×); the 72-head importance sweep
at 64 tokens (≤ 6 s). Browser (Chromium, the running app): a click on "Measure every head" until
the importance heatmap is painted, and a click on a head of the role grid until the Attention tab
shows that head. Writes benchmarks/results/heads.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run import RESULTS, RunningApp, text_of_tokens  # noqa: E402

MODEL = "minilm-sentiment"


def timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def server(repeats: int) -> dict:
    import torch

    from explorer import ablation, backend, heads
    from explorer.interventions import HeadGate
    from explorer.models import load_model
    from explorer.present import heads as heads_present

    long_text, short_text = text_of_tokens(128), text_of_tokens(64)
    analysis = backend.analyze(long_text, MODEL)
    roles = timed(lambda: heads.head_roles(analysis), repeats)
    roles_view = timed(lambda: heads_present.present(long_text, MODEL), repeats)  # cached analysis + figures
    loaded = load_model(MODEL)
    batch = backend.preprocess(loaded, short_text)
    forward = timed(lambda: backend.forward(loaded, batch), repeats)
    gate = HeadGate.of([(3, 1), (5, 11)])
    ablated = timed(lambda: backend.forward(loaded, batch, gate), repeats)
    sweep = timed(lambda: ablation.importance(short_text, MODEL), max(1, repeats // 2))
    return {
        "model": MODEL,
        "torch_threads": torch.get_num_threads(),
        "head_roles_128_tokens_s": roles,
        "heads_tab_result_128_tokens_cached_s": roles_view,
        "forward_64_tokens_s": forward,
        "ablated_forward_64_tokens_s": ablated,
        "ablation_over_forward": ablated / forward,
        "importance_sweep_64_tokens_s": sweep,
        "sweep_forward_passes": ablation.importance(short_text, MODEL).forward_passes,
    }


SWEEP_PAINTED = "() => [...document.querySelectorAll('#heads .gtitle')].some(t => t.textContent.includes('Drop of the'))"
# gradio's table selects a cell on real pointer events, so the click comes from the automation (a few
# ms of its own latency are in the number); the page is polled every animation frame.
ATTENTION_SHOWS_HEAD = """() => document.querySelector('#attention') && document.querySelector('#attention').offsetParent !== null
  && [...document.querySelectorAll('#attention .gtitle')].some(t => /layer 3, head 1/i.test(t.textContent))"""


def browser() -> dict:
    from playwright.sync_api import sync_playwright

    text = text_of_tokens(64)
    app = RunningApp()
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium")
            page = chromium.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(f"{app.url}?tab=heads&lang=en&text={urllib.parse.quote(text)}")
            page.wait_for_selector("#heads-grid [data-testid=cell-5-12]", timeout=180_000)
            page.wait_for_function("() => !document.querySelector('.eta-bar, .progress-text, .progress-level')", timeout=180_000)
            page.wait_for_timeout(3000)
            page.get_by_text("Head importance: switch each head off alone").click()  # open its accordion
            button = page.get_by_role("button", name="Measure every head")
            button.wait_for()
            began = time.perf_counter()
            button.click()
            page.wait_for_function(SWEEP_PAINTED, timeout=60_000, polling="raf")
            sweep = time.perf_counter() - began
            page.wait_for_timeout(1000)
            began = time.perf_counter()
            page.locator("#heads-grid [data-testid=cell-3-2]").click()
            page.wait_for_function(ATTENTION_SHOWS_HEAD, timeout=60_000, polling="raf")
            opened = time.perf_counter() - began
            chromium.close()
    finally:
        app.close()
    return {"tokens": 64, "click_measure_to_heatmap_s": sweep, "click_head_to_attention_tab_s": opened}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    result = {"machine": f"{platform.platform()}, {__import__('os').cpu_count()} CPUs", "server": server(args.repeats)}
    if not args.no_browser:
        result["browser"] = browser()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "heads.json").write_text(json.dumps(result, indent=2) + "\n")
    s = result["server"]
    print("| measure | value | target |\n|---|---:|---:|")
    print(f"| head roles, 128 tokens, cached analysis (server) | {s['head_roles_128_tokens_s'] * 1000:.1f} ms | ≤ 50 ms |")
    print(f"| Heads tab result with figures, 128 tokens, cached | {s['heads_tab_result_128_tokens_cached_s'] * 1000:.0f} ms | |")
    print(
        f"| forward with 2 heads off vs plain, 64 tokens | {s['ablated_forward_64_tokens_s'] * 1000:.0f} vs "
        f"{s['forward_64_tokens_s'] * 1000:.0f} ms ({s['ablation_over_forward']:.2f}×) | ≤ 2× |"
    )
    print(
        f"| importance sweep, 72 heads, 64 tokens ({s['sweep_forward_passes']} batched passes) | "
        f"{s['importance_sweep_64_tokens_s']:.2f} s | ≤ 6 s |"
    )
    if "browser" in result:
        b = result["browser"]
        print(f"| Chromium: click Measure every head → heatmap painted | {b['click_measure_to_heatmap_s']:.2f} s | |")
        print(f"| Chromium: click a head in the grid → Attention tab shows it | {b['click_head_to_attention_tab_s']:.2f} s | |")


if __name__ == "__main__":
    main()
