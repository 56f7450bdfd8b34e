"""Compare, embeddings and fill-mask: what they cost, `python -m benchmarks.explore` (measured, never asserted).

Server side, every input new (the forward passes run):
- Compare at 64 tokens: the whole presenter (two analyses, alignment, divergence of every head, the
  figures) against two bare forward passes; target ≤ 2 forwards + 100 ms.
- Embeddings of 20 sentences: the presenter from new sentences; target ≤ 1 s.
- Fill-mask at 64 tokens with one [MASK]: the presenter's engine against one bare forward; target ≤ 1.5×.
Browser (Chromium, the running app): a click on each tab's button → its first figure repainted.
Writes benchmarks/results/explore.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run import RESULTS, text_of_tokens  # noqa: E402

TOKENS = 64


def bare_forward_seconds(texts: list[str]) -> float:
    import torch

    from explorer import backend
    from explorer.models import load_model

    loaded = load_model(None)
    times = []
    for text in texts:
        batch = backend.preprocess(loaded, text)
        began = time.perf_counter()
        with torch.inference_mode():
            loaded.model(**batch.inputs, output_attentions=True, output_hidden_states=True)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def bench_compare(repeats: int) -> dict:
    from explorer.messages import render_tree
    from explorer.present import compare

    texts = [text_of_tokens(TOKENS, variant) for variant in range(1, 2 * repeats + 3)]
    compare.present(texts[0], texts[1])  # model loaded
    forward = bare_forward_seconds(texts[:repeats])
    times = []
    for index in range(repeats):
        a, b = texts[2 + 2 * index], texts[3 + 2 * index]
        began = time.perf_counter()
        result = compare.present(a, b, None, 2, 0)
        render_tree([result.view.heatmap_a, result.view.heatmap_b, result.view.difference, result.grid], "en")
        times.append(time.perf_counter() - began)
    whole = statistics.median(times)
    return {
        "tokens": TOKENS,
        "forward_ms": round(1000 * forward, 1),
        "compare_ms": round(1000 * whole, 1),
        "budget_ms": round(1000 * (2 * forward + 0.1), 1),
        "met": whole <= 2 * forward + 0.1,
    }


def bench_fill(repeats: int) -> dict:
    from explorer import fill_mask

    if not fill_mask.offline_head_available():
        return {"skipped": "no offline MLM head shipped"}
    texts = [text_of_tokens(TOKENS - 2, variant) + " [MASK] ." for variant in range(1, repeats + 2)]
    fill_mask.fill_mask(texts[0], None, 5)  # model and head loaded
    forward = bare_forward_seconds(texts[1:])
    from explorer import backend

    backend.cache.clear()
    times = []
    for text in texts[1:]:
        began = time.perf_counter()
        fill_mask.fill_mask(text, None, 5)
        times.append(time.perf_counter() - began)
    whole = statistics.median(times)
    return {
        "forward_ms": round(1000 * forward, 1),
        "fill_ms": round(1000 * whole, 1),
        "ratio": round(whole / forward, 2),
        "met": whole <= 1.5 * forward,
    }


def bench_embed(repeats: int) -> dict:
    try:
        from explorer.present import embed
    except ImportError:
        return {"skipped": "no Embeddings tab"}
    from explorer import backend

    sentences = [f"Sentence number {i} says something about {word}." for i, word in enumerate("abcdefghijklmnopqrst")]
    embed.present("\n".join(sentences))  # model loaded
    times = []
    for run in range(repeats):
        backend.cache.clear()
        fresh = "\n".join(f"{sentence} ({run})" for sentence in sentences)
        began = time.perf_counter()
        embed.present(fresh)
        times.append(time.perf_counter() - began)
    whole = statistics.median(times)
    return {"sentences": len(sentences), "embed_ms": round(1000 * whole, 1), "met": whole <= 1.0}


# Click the tab's button and wait, frame by frame, until every figure outside accordions holds new data
# (plotly replaces ``gd.data`` on each new figure): the time a user waits, in seconds.
CLICK_TO_PAINTED_JS = """async ({tab, button, limit}) => {
  const root = document.querySelector('#' + tab);
  const plots = () => [...root.querySelectorAll('.js-plotly-plot')].filter(p => !p.closest('.gr-accordion'));
  const before = new Set(plots().map(p => p.data));
  const count = plots().length;
  const target = [...root.querySelectorAll('button')].find(b => b.textContent.trim() === button);
  const start = performance.now();
  target.click();
  const painted = () => { const now = plots();
    return now.length === count && now.every(p => p.data && !before.has(p.data) && p.querySelector('.main-svg')); };
  while (!painted()) {
    if (performance.now() - start > limit) throw new Error(tab + ': never painted');
    await new Promise(requestAnimationFrame);
  }
  return (performance.now() - start) / 1000;
}"""
IDLE = "() => !document.querySelector('.eta-bar, .progress-text, .progress-level')"


def browser(repeats: int) -> dict:
    """Chromium on the running app: each tab's button -> all its figures painted, inputs new to the server."""
    from playwright.sync_api import sync_playwright

    from benchmarks.run import RunningApp
    from explorer import fill_mask
    from explorer.messages import Msg, render

    def inputs(tab: str, attempt: int) -> list[str]:
        if tab == "compare":
            return [text_of_tokens(TOKENS, 200 + 2 * attempt), text_of_tokens(TOKENS, 201 + 2 * attempt)]
        if tab == "embed":
            return ["\n".join(f"Sentence {i} of run {attempt} is about {word}." for i, word in enumerate("abcdefghijklmnopqrst"))]
        return [text_of_tokens(TOKENS - 4, 300 + attempt) + " [MASK] ."]

    ready = {"compare": "the heads that changed most are", "embed": "Most similar: sentences", "fill": "[MASK]:"}
    tabs = ["compare", "embed"] + (["fill"] if fill_mask.offline_head_available() else [])
    found: dict[str, list[float]] = {tab: [] for tab in tabs}
    app = RunningApp()
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium")
            page = chromium.new_page(viewport={"width": 1920, "height": 1080})
            for tab in tabs:
                page.goto(f"{app.url}?tab={tab}&lang=en")
                page.locator(f"#{tab}").get_by_text(ready[tab]).first.wait_for(timeout=240_000)
                page.wait_for_function(IDLE, timeout=240_000)
                page.wait_for_timeout(2000)
                boxes = page.locator(f"#{tab} textarea")
                button = render(Msg(f"{tab}.button"), "en")
                for attempt in range(repeats):
                    for index, value in enumerate(inputs(tab, attempt)):
                        boxes.nth(index).fill(value)
                    page.wait_for_timeout(300)
                    found[tab].append(page.evaluate(CLICK_TO_PAINTED_JS, {"tab": tab, "button": button, "limit": 60_000}))
                    page.wait_for_function(IDLE, timeout=60_000)
                    page.wait_for_timeout(500)
            chromium.close()
    finally:
        app.close()
    return {
        tab: {"median_s": round(statistics.median(times), 3), "each_s": [round(t, 3) for t in times]}
        for tab, times in found.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-browser", action="store_true", help="server side only")
    args = parser.parse_args()
    import torch

    results = {
        "machine": {"python": platform.python_version(), "torch": torch.__version__, "threads": torch.get_num_threads()},
        "compare": bench_compare(args.repeats),
        "fill_mask": bench_fill(args.repeats),
        "embed": bench_embed(args.repeats),
    }
    if not args.no_browser:
        results["chromium_click_to_painted"] = browser(max(3, args.repeats // 2))
    (RESULTS / "explore.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
