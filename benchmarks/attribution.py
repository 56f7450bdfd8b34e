"""Explain tab: what token attributions and the faithfulness table cost, `python -m benchmarks.attribution`
(measured, never asserted in tests).

Server (issue 14's targets, 64 tokens, minilm-sentiment, 2 cores): a plain forward pass of the model
(logits only, inference mode) as the yardstick; every method through ``attribution.attribute_subject``
on one prepared subject (the analysis cached, as the Explain tab has it): gradient x input against the
forward (≤ 3×), integrated gradients at 32 steps (≤ 2 s), occlusion (≤ 1.5 s); ``faithfulness`` for all
methods (≤ 6 s), from the text (a new one each time: its forward pass included) and with the analysis
cached. Browser (Chromium, the running app, page opened on ``?tab=explain``): a new 64-token text typed,
a click on "Explain the prediction" until both plots show its tokens and the highlighted text shows it;
then (the faithfulness accordion opened) a click on "Measure faithfulness" until the table and the
deletion curves are painted. Writes benchmarks/results/attribution.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run import RESULTS, RunningApp, text_of_tokens  # noqa: E402

MODEL = "minilm-sentiment"
TOKENS = 64
STEPS = 32


def timed(fn, repeats: int, warmup: bool = True) -> float:
    """Median seconds of ``repeats`` calls (one untimed call first: imports, lazy buffers)."""
    if warmup:
        fn()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def server(repeats: int) -> dict:
    import torch

    from explorer import attribution, backend
    from explorer.models import load_model

    text = text_of_tokens(TOKENS)
    subject = attribution.subject_for(text, MODEL)
    tokens = subject.analysis.n_tokens
    assert tokens == TOKENS, f"{tokens} tokens for {MODEL}, not {TOKENS}"
    model = subject.loaded.model

    def plain_forward() -> None:
        with torch.inference_mode():
            model(**subject.inputs)

    forward = timed(plain_forward, repeats * 2)
    loaded = load_model(MODEL)
    batch = backend.preprocess(loaded, text)
    app_forward = timed(lambda: backend.forward(loaded, batch), repeats * 2)  # attentions, hidden states, value norms

    methods, extras = {}, {}
    for method in attribution.METHODS:
        methods[method] = timed(lambda method=method: attribution.attribute_subject(subject, method, STEPS), repeats)
        found = attribution.attribute_subject(subject, method, STEPS)
        if found.extra:
            extras[method] = found.extra

    faithfulness_cached = timed(lambda: attribution.faithfulness(text, MODEL, "", STEPS), repeats)
    fresh = [text_of_tokens(TOKENS, variant) for variant in range(1, repeats + 1)]
    assert all(len(loaded.tokenizer(one)["input_ids"]) == TOKENS for one in fresh), "a new text is not 64 tokens"
    new_texts = iter(fresh)
    faithfulness_new = timed(lambda: attribution.faithfulness(next(new_texts), MODEL, "", STEPS), repeats, warmup=False)
    found = attribution.faithfulness(text, MODEL, "", STEPS)
    return {
        "model": MODEL,
        "tokens": tokens,
        "text": text,
        "prediction": subject.describe(),
        "torch_threads": torch.get_num_threads(),
        "repeats": repeats,
        "forward_s": forward,
        "app_forward_with_attentions_s": app_forward,
        "method_s": methods,
        "grad_x_input_over_forward": methods["grad_x_input"] / forward,
        "grad_x_input_over_app_forward": methods["grad_x_input"] / app_forward,
        "integrated_gradients_steps": STEPS,
        "integrated_gradients_rows_per_pass": attribution.gradient_rows(model, tokens, STEPS),
        "integrated_gradients_extra": extras.get("integrated_gradients"),
        "occlusion_words": len(attribution.word_groups(subject)),
        "faithfulness_new_text_s": faithfulness_new,
        "faithfulness_cached_analysis_s": faithfulness_cached,
        "faithfulness_methods": list(attribution.METHODS),
        "faithfulness_best": found.order[0],
    }


# Both plots show the new text's tokens (the bar chart's x labels, the grid's hover labels) with every
# bar and the heatmap drawn, and the highlighted text shows the new text. The click happens inside the
# page (no automation latency); the page is checked every animation frame.
EXPLAIN_JS = """async ({labels, head, limit}) => {
  const root = document.querySelector('#explain');
  const button = [...root.querySelectorAll('button')].find(b => b.textContent.trim() === 'Explain the prediction');
  const want = JSON.stringify(labels);
  const squash = s => s.replace(/\\s+/g, '');
  const plot = type => [...root.querySelectorAll('.js-plotly-plot')].find(g => g.data && g.data[0] && g.data[0].type === type);
  const painted = () => {
    const bar = plot('bar'), grid = plot('heatmap'), view = root.querySelector('.token-view');
    return !!(bar && grid && view
      && JSON.stringify(bar.data[0].x) === want && JSON.stringify(grid.data[0].customdata[0]) === want
      && bar.querySelectorAll('.bars .point').length === labels.length && grid.querySelector('.hm image')
      && squash(view.textContent).includes(head));
  };
  const start = performance.now();
  button.click();
  while (!painted()) {
    if (performance.now() - start > limit) throw new Error('Explain: never painted');
    await new Promise(requestAnimationFrame);
  }
  return (performance.now() - start) / 1000;
}"""

# The table (a new one: its text changed) lists every method and the random reference, and the
# deletion-curves plot holds new data with one drawn line per method.
MEASURE_JS = """async ({names, limit}) => {
  const root = document.querySelector('#explain');
  const button = [...root.querySelectorAll('button')].find(b => b.textContent.trim() === 'Measure faithfulness');
  // gradio's Dataframe draws its body as virtual rows (divs) under .table-container, the header as a <table>
  const tables = () => [...root.querySelectorAll('.table-container')].map(t => t.innerText).join('\\n');
  const curves = () => [...root.querySelectorAll('.js-plotly-plot')].find(g => g.data && g.data[0]?.type === 'scatter');
  const tableBefore = tables(), dataBefore = curves() ? curves().data : null;
  const painted = () => {
    const plot = curves(), shown = tables();
    return !!(plot && plot.data !== dataBefore && plot.data.length === names.length
      && plot.querySelectorAll('.scatterlayer .trace').length === names.length
      && shown !== tableBefore && names.every(name => shown.includes(name)));
  };
  const start = performance.now();
  button.click();
  while (!painted()) {
    if (performance.now() - start > limit) throw new Error('Measure faithfulness: never painted');
    await new Promise(requestAnimationFrame);
  }
  return (performance.now() - start) / 1000;
}"""

IDLE = "() => !document.querySelector('.eta-bar, .progress-text, .progress-level')"


def browser(repeats: int) -> dict:
    from playwright.sync_api import sync_playwright

    from explorer import attribution
    from explorer.messages import Msg, render
    from explorer.models import load_model

    tokenizer = load_model(MODEL).tokenizer
    names = [render(Msg(f"explain.method.{name}"), "en") for name in (*attribution.METHODS, attribution.REFERENCE)]
    texts = [text_of_tokens(TOKENS, 100 + attempt) for attempt in range(repeats)]  # each one new to the server
    explain_s, measure_s, server_s = [], [], []
    app = RunningApp()
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium")
            page = chromium.new_page(viewport={"width": 1920, "height": 1080})
            began = time.perf_counter()
            page.goto(f"{app.url}?tab=explain&lang=en")
            page.locator("#explain").get_by_text("completeness gap").first.wait_for(timeout=240_000)
            first_result = time.perf_counter() - began  # every tab's first result runs on page load, in tab order
            page.wait_for_function(IDLE, timeout=240_000)
            page.wait_for_timeout(2000)
            box = page.locator("#explain textarea").first  # the tab's text box
            for attempt, text in enumerate(texts):
                ids = tokenizer(text)["input_ids"]
                assert len(ids) == TOKENS, f"{len(ids)} tokens"
                labels = [f"{index} {token}" for index, token in enumerate(tokenizer.convert_ids_to_tokens(ids))]
                box.fill(text)
                page.wait_for_timeout(300)
                head = "".join(text.split())[:40]
                explain_s.append(page.evaluate(EXPLAIN_JS, {"labels": labels, "head": head, "limit": 120_000}))
                page.wait_for_function(IDLE, timeout=60_000)
                page.wait_for_timeout(1000)
                if attempt == 0:  # open the accordion, as a user does before the button shows
                    page.get_by_text("Faithfulness: which explanation to trust for this prediction").click()
                    page.wait_for_timeout(1000)
                page.locator("#explain").get_by_role("button", name="Measure faithfulness").scroll_into_view_if_needed()
                measure_s.append(page.evaluate(MEASURE_JS, {"names": names, "limit": 120_000}))
                # the server's own time for the same work, as the tab's summary line states it
                shown = page.locator("#explain").get_by_text("all methods and re-runs:").first.text_content()
                server_s.append(float(re.search(r"re-runs: ([0-9.]+) s", shown).group(1)))
                page.wait_for_function(IDLE, timeout=60_000)
                page.wait_for_timeout(1000)
                page.locator("#explain").get_by_role("button", name="Explain the prediction").scroll_into_view_if_needed()
            chromium.close()
    finally:
        app.close()
    return {
        "tokens": TOKENS,
        "model": MODEL,
        "repeats": repeats,
        "page_to_first_explain_result_s": first_result,
        "click_explain_to_painted_s": statistics.median(explain_s),
        "click_explain_to_painted_each_s": explain_s,
        "click_measure_to_painted_s": statistics.median(measure_s),
        "click_measure_to_painted_each_s": measure_s,
        "faithfulness_server_s_shown_on_page": server_s,
    }


def targets(result: dict) -> dict:
    """Issue 14's budgets: value, target and whether it is met."""
    s = result["server"]
    rows = {
        "grad_x_input_over_forward": ("gradient × input ÷ plain forward", s["grad_x_input_over_forward"], "×", 3.0),
        "integrated_gradients_32_steps_s": ("integrated gradients, 32 steps", s["method_s"]["integrated_gradients"], "s", 2.0),
        "occlusion_s": ("occlusion", s["method_s"]["occlusion"], "s", 1.5),
        "faithfulness_all_methods_s": ("faithfulness table, all methods (new text)", s["faithfulness_new_text_s"], "s", 6.0),
    }
    return {
        key: {"name": name, "value": value, "unit": unit, "target": f"≤ {limit:g} {unit}".strip(), "met": value <= limit}
        for key, (name, value, unit, limit) in rows.items()
    }


def markdown(result: dict) -> str:
    s, t = result["server"], result["targets"]
    ms = {name: value * 1000 for name, value in s["method_s"].items()}
    ig = s["integrated_gradients_extra"] or {}

    def met(key: str) -> str:
        return "yes" if t[key]["met"] else "**no**"

    rows = [
        ("plain forward pass (logits only)", f"{s['forward_s'] * 1000:.1f} ms", "", ""),
        (
            "the app's forward (attentions, hidden states, value norms)",
            f"{s['app_forward_with_attentions_s'] * 1000:.1f} ms",
            "",
            "",
        ),
        ("attention (last layer), analysis cached", f"{ms['attention']:.2f} ms", "", ""),
        ("attention rollout, analysis cached", f"{ms['rollout']:.2f} ms", "", ""),
        ("value norm ‖αf(x)‖ (one forward with hooks)", f"{ms['value_norm']:.0f} ms", "", ""),
        (
            "gradient × input",
            f"{ms['grad_x_input']:.0f} ms ({s['grad_x_input_over_forward']:.2f}× the forward)",
            "≤ 3×",
            met("grad_x_input_over_forward"),
        ),
        (
            f"integrated gradients, {s['integrated_gradients_steps']} steps in "
            f"{-(-s['integrated_gradients_steps'] // s['integrated_gradients_rows_per_pass'])} pass(es), δ = {ig.get('delta')}",
            f"{ms['integrated_gradients'] / 1000:.2f} s",
            "≤ 2 s",
            met("integrated_gradients_32_steps_s"),
        ),
        (f"occlusion ({s['occlusion_words']} words, batched)", f"{ms['occlusion'] / 1000:.2f} s", "≤ 1.5 s", met("occlusion_s")),
        (
            "faithfulness table, 6 methods + random, a new text",
            f"{s['faithfulness_new_text_s']:.2f} s",
            "≤ 6 s",
            met("faithfulness_all_methods_s"),
        ),
        ("the same, analysis cached", f"{s['faithfulness_cached_analysis_s']:.2f} s", "", ""),
    ]
    if "browser" in result:
        b = result["browser"]
        rows += [
            (
                "Chromium: click Explain the prediction → both plots and the text painted",
                f"{b['click_explain_to_painted_s']:.2f} s",
                "",
                "",
            ),
            (
                "Chromium: click Measure faithfulness → table and curves painted (the server's own time, as the page says)",
                f"{b['click_measure_to_painted_s']:.2f} s ({statistics.median(b['faithfulness_server_s_shown_on_page']):.1f} s)",
                "",
                "",
            ),
            (
                "Chromium: page opened on ?tab=explain → its first result (every tab runs)",
                f"{b['page_to_first_explain_result_s']:.1f} s",
                "",
                "",
            ),
        ]
    lines = [
        f"{result['machine']}, torch {result['torch']} ({s['torch_threads']} threads), load average at start "
        f"{result['load_average_at_start']}; median of {s['repeats']} runs.",
        "",
        f"| measure ({s['tokens']} tokens, {s['model']}) | value | target | met |",
        "|---|---:|---:|:---:|",
        *(f"| {name} | {value} | {target} | {ok} |" for name, value, target, ok in rows),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--browser-repeats", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    import torch

    result = {
        "machine": f"{platform.platform()}, {os.cpu_count()} CPUs",
        "torch": torch.__version__,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "server": server(args.repeats),
    }
    if not args.no_browser:
        result["browser"] = browser(args.browser_repeats)
    result["targets"] = targets(result)
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "attribution.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(markdown(result))


if __name__ == "__main__":
    main()
