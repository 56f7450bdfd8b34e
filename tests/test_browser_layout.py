"""The page's layout in the real browser, as a teacher projects it (issue 16).

One page per (language, projection mode) walks every tab at 1280x720 and records what the tests below
check: the tab's first result starts on the first screen (projection mode, after its primary button),
every tab is on the tab bar (no "…" menu), every table shows all its columns without sideways
scrolling and breaks its headers between words only, token chips keep their case, and axe-core
(tests/js/vendor) finds no accessibility violation. Screenshots of every tab at 1280x720 and
1920x1080 land in test-artifacts/screenshots/layout/.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest

from explorer.messages import Msg, render
from explorer.ui.tabs import TABS

from .test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, sync_api  # noqa: F401  (skips like test_browser)
from .test_browser_classroom import READY
from .test_browser_figures import MEASURE as FIGURES
from .test_browser_figures import figure_problems

OUT = ARTIFACTS / "layout"
AXE = Path(__file__).resolve().parent / "js" / "vendor" / "axe-4.14.1.min.js"
SMALL, LARGE = {"width": 1280, "height": 720}, {"width": 1920, "height": 1080}
# What counts as a tab's result: a figure, highlighted text, a table, a predicted label.
RESULTS = ".js-plotly-plot, [data-testid='highlighted-text'], table, [data-testid='label']"
VISIBLE_PART = 60  # px of the first result that must show above the bottom of the first screen

MEASURE = """([tab, results]) => {
  const panel = document.getElementById(tab);
  const shown = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const tops = [...panel.querySelectorAll(results)].filter(shown).map(e => e.getBoundingClientRect().top);
  const bar = document.querySelector('[role=tablist]') || document.querySelector('.tab-container');
  const barBox = bar.getBoundingClientRect();
  const tabs = [...document.querySelectorAll('[role=tab]')].map(t => {
    const r = t.getBoundingClientRect();
    return {name: t.textContent.trim(), shown: shown(t) && getComputedStyle(t).visibility !== 'hidden',
            inside: r.left >= barBox.left - 1 && r.right <= barBox.right + 1 && r.top >= barBox.top - 1
                    && r.bottom <= barBox.bottom + 1};
  });
  const menu = [...document.querySelectorAll('.overflow-menu')].filter(shown).length;
  // gradio 6.31 draws a table's header as its own <table> and only the rows in view (a virtual list):
  // the grid's aria-rowcount, less the header row, is how many rows the table has
  const rowCount = (table) => {
    const grid = table.closest('.block')?.querySelector('[aria-rowcount]');
    return grid ? Number(grid.getAttribute('aria-rowcount')) - 1 : table.querySelectorAll('tbody tr').length;
  };
  // A table's columns fit when the nearest box that could scroll sideways does not need to.
  const tables = [...panel.querySelectorAll('table')].filter(shown).map(table => {
    let box = table.parentElement;
    while (box && box !== panel && !['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) box = box.parentElement;
    box = box && box !== panel ? box : table;
    const broken = [];
    for (const th of table.querySelectorAll('th')) {
      if (!shown(th)) continue;
      const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const match of node.textContent.matchAll(/[(（]?[^\\s(（]+/g)) {  // a word; Japanese may break before a bracket
          const range = document.createRange();
          range.setStart(node, match.index);
          range.setEnd(node, match.index + match[0].length);
          const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
          if (lines.size > 1) broken.push(match[0]);
        }
      }
      const cut = (e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).textOverflow === 'ellipsis';
      if ([th, ...th.querySelectorAll('*')].some(cut)) broken.push('…' + th.textContent.trim());
    }
    // ... and a short table (a few rows, as QA's top five answers) shows every row without scrolling
    let tall = table.parentElement;
    while (tall && tall !== panel && !['auto', 'scroll'].includes(getComputedStyle(tall).overflowY)) tall = tall.parentElement;
    tall = tall && tall !== panel ? tall : table;
    return {label: (table.closest('.block')?.querySelector('[data-testid=block-label], label, .label')?.textContent || '').trim(),
            overflow: box.scrollWidth - box.clientWidth, broken: broken,
            rows: rowCount(table), cut_rows: tall.scrollHeight - tall.clientHeight};
  });
  const upper = [...panel.querySelectorAll("[data-testid='highlighted-text'] *")]
    .filter(e => getComputedStyle(e).textTransform !== 'none').map(e => e.textContent.trim()).filter(Boolean);
  return {first: tops.length ? Math.min(...tops) : null, height: innerHeight, tabs, menu, tables, upper};
}"""


def tab_name(spec, lang: str) -> str:
    return render(Msg(spec.label_key), lang)


def walk_every_tab(browser, app_url: str, lang: str, projection: bool) -> dict:
    """Open every tab (and, in projection mode, press its primary button); measure it; run axe; screenshots."""
    OUT.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=SMALL, locale="en-US")
    page = context.new_page()
    query = {"lang": lang, **({"projection": "1"} if projection else {})}
    page.goto(f"{app_url}?{urllib.parse.urlencode(query)}")
    which = 1 if lang == "ja" else 0
    page.get_by_role("tab", name=tab_name(TABS[0], lang), exact=True).wait_for(timeout=60_000)
    if projection:
        page.wait_for_function("document.body.classList.contains('projection')", timeout=60_000)
    page.add_script_tag(path=str(AXE))
    mode = "projection" if projection else "normal"
    found = {}
    for spec in TABS:
        page.evaluate("window.scrollTo(0, 0)")
        page.get_by_role("tab", name=tab_name(spec, lang), exact=True).click()
        panel = page.locator(f"#{spec.id}")
        panel.get_by_text(READY[spec.id][which]).first.wait_for(timeout=120_000)
        if projection:  # the teacher presses the button: the result must still start on the first screen
            panel.get_by_role("button", name=render(Msg(spec.primary_key), lang), exact=True).first.click()
            page.wait_for_timeout(300)
            panel.get_by_text(READY[spec.id][which]).first.wait_for(timeout=120_000)
            page.wait_for_function(f"!document.querySelector('#{spec.id} .eta-bar, #{spec.id} .progress-text')", timeout=120_000)
        page.wait_for_timeout(700)  # plotly lays out a newly shown tab
        page.evaluate("window.scrollTo(0, 0)")
        found[spec.id] = page.evaluate(MEASURE, [spec.id, RESULTS])
        found[spec.id]["axe"] = page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map(v =>
                 `${v.id} (${v.impact}, ${v.nodes.length}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`)"""
        )
        page.screenshot(path=str(OUT / f"{spec.id}-{lang}-{mode}-1280x720.png"))
        page.set_viewport_size(LARGE)
        page.wait_for_timeout(900)  # plotly lays the figures out again for the wider columns
        page.screenshot(path=str(OUT / f"{spec.id}-{lang}-{mode}-1920x1080.png"))
        # the figures' and tables' checks again at 1920x1080 (test_browser_figures measures at 1280)
        found[spec.id]["figures_1920"] = [
            problem for figure in page.evaluate(FIGURES, spec.id) for problem in figure_problems(figure)
        ]
        found[spec.id]["tables_1920"] = page.evaluate(MEASURE, [spec.id, RESULTS])["tables"]
        page.set_viewport_size(SMALL)
    context.close()
    return found


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def walk(browser, app_url):
    """``walk(lang, projection)``: every tab's measurements, each walk done once for the module."""
    done: dict = {}

    def measured(lang: str, projection: bool) -> dict:
        if (lang, projection) not in done:
            done[lang, projection] = walk_every_tab(browser, app_url, lang, projection)
        return done[lang, projection]

    return measured


LANGS = pytest.mark.parametrize("lang", ["en", "ja"])
MODES = pytest.mark.parametrize("projection", [False, True], ids=["normal", "projection"])


@LANGS
def test_first_result_starts_on_the_first_screen_of_a_projector(walk, lang):
    found = walk(lang, True)
    late = {
        tab: (m["first"], m["height"])
        for tab, m in found.items()
        if m["first"] is None or m["first"] > m["height"] - VISIBLE_PART
    }
    assert late == {}, f"first result's top (px) below the first 1280x720 screen: {late}"


@LANGS
@MODES
def test_every_tab_is_on_the_bar(walk, lang, projection):
    for tab, m in walk(lang, projection).items():
        assert len(m["tabs"]) == len(TABS), tab
        hidden = [t["name"] for t in m["tabs"] if not (t["shown"] and t["inside"])]
        assert hidden == [] and m["menu"] == 0, f"{tab}: tabs not on the bar: {hidden}, overflow menu shown: {m['menu']}"


@LANGS
@MODES
def test_tables_show_every_column_short_ones_every_row_and_break_headers_between_words(walk, lang, projection):
    found = walk(lang, projection)
    assert sum(len(m["tables"]) for m in found.values()) >= 6  # tokens, morphemes, subwords, heads, NER, QA, …
    bad = {
        tab: [t for t in m["tables"] if t["overflow"] > 1 or t["broken"] or (t["rows"] <= 6 and t["cut_rows"] > 1)]
        for tab, m in found.items()
    }
    assert {tab: tables for tab, tables in bad.items() if tables} == {}


@LANGS
@MODES
def test_figures_and_tables_fit_at_1920(walk, lang, projection):
    found = walk(lang, projection)
    assert {tab: m["figures_1920"] for tab, m in found.items() if m["figures_1920"]} == {}
    bad = {tab: [t for t in m["tables_1920"] if t["overflow"] > 1 or t["broken"]] for tab, m in found.items()}
    assert {tab: tables for tab, tables in bad.items() if tables} == {}


@LANGS
def test_token_chips_keep_their_case(walk, lang):
    upper = {tab: m["upper"] for tab, m in walk(lang, False).items() if m["upper"]}
    assert upper == {}, f"text-transform on token chips: {upper}"


@LANGS
@MODES
def test_axe_finds_no_violation(walk, lang, projection):
    violations = {tab: m["axe"] for tab, m in walk(lang, projection).items() if m["axe"]}
    assert violations == {}


def test_keyboard_alone_runs_a_tab_and_switches_tabs_and_language(browser, app_url):
    """Tab reaches the text box, Enter runs the tab; Enter on a tab opens it; arrows switch the language."""
    page = browser.new_page(viewport=SMALL)
    page.goto(app_url)
    panel = page.locator("#tokenization")
    panel.get_by_text(READY["tokenization"][0]).first.wait_for(timeout=60_000)
    text = panel.get_by_label("Text", exact=True).first
    for _ in range(40):  # Tab from the top of the page to the text box
        page.keyboard.press("Tab")
        if text.evaluate("e => e === document.activeElement"):
            break
    assert text.evaluate("e => e === document.activeElement")
    page.keyboard.press("Control+A")
    page.keyboard.type("Hello world")
    page.keyboard.press("Enter")
    panel.get_by_text("4 tokens from 'all-MiniLM-L6-v2'").first.wait_for(timeout=60_000)
    assert text.input_value() == "Hello world"  # Enter ran the tab, it did not add a line
    # Enter on a focused tab opens it.
    page.get_by_role("tab", name="Attention", exact=True).focus()
    page.keyboard.press("Enter")
    page.locator("#attention").get_by_text(READY["attention"][0]).first.wait_for(timeout=60_000)
    # The language radio: arrows move the choice.
    page.get_by_label("English", exact=True).focus()
    page.keyboard.press("ArrowRight")
    page.get_by_role("tab", name="トークン化", exact=True).wait_for(timeout=30_000)
    page.context.close()


def test_an_example_runs_its_tab(browser, app_url):
    page = browser.new_page(viewport=SMALL)
    page.goto(app_url)
    panel = page.locator("#tokenization")
    panel.get_by_text(READY["tokenization"][0]).first.wait_for(timeout=60_000)
    panel.get_by_text("Hello, how are you?", exact=True).first.click()
    panel.get_by_text("8 tokens from 'all-MiniLM-L6-v2'").first.wait_for(timeout=60_000)
    page.context.close()
