"""Every plotly figure of every tab, in the real browser at 1280x720 (issue 16, defects 3, 4, 10).

One page per language and mode walks the tabs; in every shown ``.js-plotly-plot`` the title, the axis
titles and the tick labels lie inside the figure, tick labels of an axis do not overlap (rotated ones:
neighbours are at least a font size apart across the text's direction), and subplot titles do not overlap.
"""

from __future__ import annotations

import urllib.parse

import pytest

from .test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, sync_api  # noqa: F401  (skips like test_browser)
from .test_browser_classroom import TABS, click_tab

OUT = ARTIFACTS / "figures"  # each tab's panel at 1280x720, to look at

# Boxes of the words of every shown figure in a tab (page coordinates, CSS px).
MEASURE = """(tab) => {
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  // what the reader sees of a figure: its box cut by every ancestor that hides overflow
  const seen = (el) => {
    let [l, t, r, b] = box(el);
    for (let up = el.parentElement; up; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (style.overflowX !== 'visible') { const o = box(up); l = Math.max(l, o[0]); r = Math.min(r, o[2]); }
      if (style.overflowY !== 'visible') { const o = box(up); t = Math.max(t, o[1]); b = Math.min(b, o[3]); }
    }
    return [l, t, r, b];
  };
  const shown = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const words = (el) => (el.textContent || '').trim().length > 0;
  return [...document.querySelectorAll(`#${tab} .js-plotly-plot`)].filter(shown).map((plot, index) => {
    const title = plot.querySelector('.gtitle');
    const axes = [];
    for (const layer of plot.querySelectorAll('.xaxislayer-above, .yaxislayer-above')) {
      const ticks = [...layer.querySelectorAll('.xtick > text, .ytick > text')].filter(words).filter(shown).map((text) => {
        const match = /rotate\\((-?[\\d.]+)/.exec(text.getAttribute('transform') || '');
        const point = text.ownerSVGElement.createSVGPoint();
        point.x = parseFloat(text.getAttribute('x') || 0);
        point.y = parseFloat(text.getAttribute('y') || 0);
        const anchor = point.matrixTransform(text.getScreenCTM());
        return {text: text.textContent, box: box(text), angle: match ? parseFloat(match[1]) : 0,
                anchor: [anchor.x, anchor.y], size: parseFloat(getComputedStyle(text).fontSize)};
      });
      axes.push({name: layer.classList.contains('xaxislayer-above') ? 'x' : 'y', ticks});
    }
    return {
      index,
      title: title && words(title) ? {text: title.textContent, box: box(title)} : null,
      outer: seen(plot),
      axes,
      axisTitles: [...plot.querySelectorAll('.g-xtitle text, .g-ytitle text')].filter(words)
        .map((t) => ({text: t.textContent, box: box(t)})),
      annotations: [...plot.querySelectorAll('.annotation-text-g text')].filter(words)
        .map((t) => ({text: t.textContent, box: box(t)})),
    };
  });
}"""

SLACK = 1.0  # px: subpixel rounding


def inside(inner, outer) -> bool:
    return (
        inner[0] >= outer[0] - SLACK
        and inner[1] >= outer[1] - SLACK
        and inner[2] <= outer[2] + SLACK
        and inner[3] <= outer[3] + SLACK
    )


def overlap(a, b) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > SLACK and min(a[3], b[3]) - max(a[1], b[1]) > SLACK


def tick_collisions(ticks: list[dict]) -> list[tuple[str, str]]:
    """Pairs of neighbouring tick labels that overlap. Unrotated labels: their boxes; rotated labels
    (whose boxes overlap anyway): their anchors must be a font size apart across the text direction."""
    import math

    bad = []
    flat = [tick for tick in ticks if tick["angle"] % 90 == 0]
    for i, a in enumerate(flat):
        bad += [(a["text"], b["text"]) for b in flat[i + 1 :] if overlap(a["box"], b["box"])]
    rotated = sorted((tick for tick in ticks if tick["angle"] % 90 != 0), key=lambda tick: tick["anchor"][0])
    for a, b in zip(rotated, rotated[1:], strict=False):
        angle = math.radians(a["angle"])
        normal = (-math.sin(angle), math.cos(angle))
        across = abs((b["anchor"][0] - a["anchor"][0]) * normal[0] + (b["anchor"][1] - a["anchor"][1]) * normal[1])
        if across < 0.9 * a["size"]:
            bad.append((a["text"], b["text"]))
    return bad


def figure_problems(figure: dict) -> list[str]:
    """What is clipped or overlapping in one measured figure."""
    problems = []
    outer = figure["outer"]
    name = (figure["title"] or {}).get("text") or f"figure {figure['index']}"
    if figure["title"] and not inside(figure["title"]["box"], outer):
        problems.append(f"{name}: title clipped {figure['title']['box']} outside {outer}")
    for title in figure["axisTitles"]:
        if not inside(title["box"], outer):
            problems.append(f"{name}: axis title {title['text']!r} clipped")
    for axis in figure["axes"]:
        clipped = [tick["text"] for tick in axis["ticks"] if not inside(tick["box"], outer)]
        if clipped:
            problems.append(f"{name}: {axis['name']} tick labels clipped {clipped[:4]}")
        collisions = tick_collisions(axis["ticks"])
        if collisions:
            problems.append(f"{name}: {len(collisions)} {axis['name']} tick labels overlap, e.g. {collisions[:3]}")
    notes = figure["annotations"]
    for i, a in enumerate(notes):
        for b in notes[i + 1 :]:
            if overlap(a["box"], b["box"]):
                problems.append(f"{name}: subplot titles overlap: {a['text']!r} and {b['text']!r}")
    return problems


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.mark.parametrize(("lang", "projection"), [("en", False), ("ja", False), ("en", True), ("ja", True)])
def test_every_figure_fits_at_1280(browser, app_url, lang, projection):
    OUT.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    query = {"lang": lang, **({"projection": "1"} if projection else {})}
    page.goto(f"{app_url}?{urllib.parse.urlencode(query)}")
    which = 1 if lang == "ja" else 0
    page.get_by_role("tab", name=TABS[0][1][which], exact=True).wait_for(timeout=60_000)
    if projection:
        page.wait_for_function("document.body.classList.contains('projection')", timeout=60_000)
    problems, measured = [], 0
    for tab_id, names, ready in TABS:
        click_tab(page, names[which])
        page.locator(f"#{tab_id}").get_by_text(ready[which]).first.wait_for(timeout=120_000)
        page.wait_for_timeout(900)  # plotly lays out a newly shown tab
        if tab_id == "attention":  # the page's own redraw, with the longest titles: hidden and renormalised
            page.locator("#att-hide input").check()
            page.locator("#att-renormalize input").check()
            page.wait_for_function("window.__attentionRedraws >= 2", timeout=30_000)
            page.wait_for_timeout(500)
        for figure in page.evaluate(MEASURE, tab_id):
            measured += 1
            problems += [f"[{tab_id}] {problem}" for problem in figure_problems(figure)]
        page.locator(f"#{tab_id}").screenshot(path=str(OUT / f"{tab_id}-{lang}-{'projection' if projection else 'normal'}.png"))
    context.close()
    assert measured >= 12
    assert not problems, "\n".join(problems)


# Per character of a highlighted text (labels left out): its text and the top of its line box.
CHARACTERS = """(tab) => {
  const field = document.querySelector(`#${tab} .textfield`);
  const out = [];
  const walker = document.createTreeWalker(field, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest('.label, .score-text, button')) continue;
    const highlighted = !!node.parentElement.closest('.token.highlighted');
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      // a blank of gradio's markup between pieces, drawn as a space that is not in the text
      const stray = !node.parentElement.closest('.text') && rect && rect.width > 0.5;
      const shown = stray || node.parentElement.closest('.text');
      if (rect && shown) out.push([node.data[i], Math.round(rect.top), highlighted, stray]);
    }
  }
  return out;
}"""


def split_words(characters: list) -> list[str]:
    """Words (runs of non-space characters) whose letters lie on more than one line."""
    words, current, tops = [], "", set()
    for char, top, *_ in [*characters, (" ", 0, False, False)]:
        if char.isspace():
            if len(tops) > 1:
                words.append(current)
            current, tops = "", set()
        else:
            current, tops = current + char, tops | {top}
    return words


def test_the_answer_highlight_flows_with_the_text(browser, app_url):
    """Issue 16, defect 5: the text after the answer went on a new line and words split ("translat/ion")."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(f"{app_url}?tab=qa&lang=en")
    tab_id, names, ready = next(tab for tab in TABS if tab[0] == "qa")
    page.get_by_role("tab", name=TABS[0][1][0], exact=True).wait_for(timeout=60_000)
    click_tab(page, names[0])
    page.locator("#qa").get_by_text(ready[0]).first.wait_for(timeout=120_000)
    page.wait_for_timeout(500)
    characters = page.evaluate(CHARACTERS, tab_id)
    context.close()
    marked = [i for i, (_, _, highlighted, _) in enumerate(characters) if highlighted]
    assert marked, "no highlighted answer"
    assert split_words(characters) == []
    assert not any(stray for *_, stray in characters)  # no space the text does not have
    after = next((c for c in characters[marked[-1] + 1 :] if not c[0].isspace()), None)
    if after is not None:  # the text goes on beside the answer, not on a new line
        assert after[1] == characters[marked[-1]][1], (characters[marked[-1]], after)
