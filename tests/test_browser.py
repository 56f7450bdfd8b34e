"""A real browser (Debian chromium via playwright) against the running app.

Saves screenshots of every tab under test-artifacts/screenshots/. Needs
/usr/bin/chromium (apt-get install chromium); outside CI the test is skipped
without it, in CI (CI=true) a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import explorer
from explorer.messages import Msg, render
from explorer.ui.tabs import TABS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOSTILE = '<img src=x onerror="window.__pwned=1"></script><script>window.__pwned=2</script>'

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI needs Debian's chromium: apt-get install -y chromium chromium-driver fonts-ipafont-gothic")
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def page(app_url):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        page = context.new_page()
        page.dialogs = []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        page.script_errors = []
        page.on("pageerror", lambda error: page.script_errors.append(str(error)))
        page.goto(app_url)
        page.get_by_role("tab", name="Tokenization").wait_for()
        yield page
        page.screenshot(path=str(ARTIFACTS / "last-state.png"), full_page=True)
        context.close()
        browser.close()


def assert_no_error(page) -> None:
    assert page.locator(".toast-body.error").count() == 0, page.locator(".toast-body").all_inner_texts()
    assert "Something went wrong" not in page.inner_text("body")
    assert page.dialogs == []
    assert page.script_errors == []


def wait_for_plots(page, count: int) -> None:
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length >= {count}", timeout=60_000)


def open_tab(page, name: str):
    """Click the tab called ``name`` (English) and return its panel (``#<tab id>`` of ``TABS``)."""
    spec = next(spec for spec in TABS if render(Msg(spec.label_key)) == name)
    page.get_by_role("tab", name=name, exact=True).click()
    return page.locator(f"#{spec.id}")


def test_tokenization_tab(page):
    tab = open_tab(page, "Tokenization")
    tab.get_by_text("9 tokens from 'all-MiniLM-L6-v2'").wait_for(timeout=60_000)
    tab.get_by_label("Text").first.fill("自然言語処理は人工知能の重要な分野です。 BERT rocks 😀")
    tab.get_by_role("button", name="Tokenize").click()
    tab.get_by_text("シゼン").first.wait_for(timeout=60_000)
    assert tab.get_by_text("補助記号").count() > 0
    page.screenshot(path=str(ARTIFACTS / "tokenization.png"), full_page=True)
    assert_no_error(page)


def test_attention_tab_switches_heads_without_running_the_model(page):
    tab = open_tab(page, "Attention")
    wait_for_plots(page, 4)
    tab.get_by_text("6 layers × 12 heads, 9 tokens").wait_for(timeout=60_000)
    before = explorer.forward_count()
    for _ in range(30):  # the other tabs' first results (run on page load) may still be coming in
        page.wait_for_timeout(1500)
        if explorer.forward_count() == before:
            break
        before = explorer.forward_count()
    number = tab.get_by_label("number input for Head")
    number.fill("7")
    number.press("Enter")
    number.blur()
    page.wait_for_function(
        "[...document.querySelectorAll('.gtitle')].some(t => t.textContent.includes('Layer 0, head 7'))", timeout=30_000
    )
    tab.get_by_label("Hide [CLS]/[SEP]").check()
    page.wait_for_function(
        "[...document.querySelectorAll('.gtitle')].some(t => t.textContent.includes('hidden'))", timeout=30_000
    )
    assert explorer.forward_count() == before
    page.screenshot(path=str(ARTIFACTS / "attention.png"), full_page=True)
    assert_no_error(page)


def test_bertviz_views_render_in_the_app_without_the_network(page, app_url):
    outside = []

    def only_the_app(route):
        if route.request.url.startswith(app_url.rstrip("/")) or route.request.url.startswith(("data:", "about:", "blob:")):
            return route.continue_()
        outside.append(route.request.url)
        return route.abort()

    page.route("**/*", only_the_app)
    try:
        tab = open_tab(page, "Attention")
        tab.get_by_text("bertviz: head view and model view").click()
        frame = tab.frame_locator("iframe.bertviz-frame")
        frame.locator("svg line").first.wait_for(state="attached", timeout=60_000)
        assert "[CLS]" in frame.locator("svg text").all_text_contents()
        frame.get_by_text("[CLS]").first.wait_for(timeout=30_000)
        tab.locator("iframe.bertviz-frame").scroll_into_view_if_needed()
        page.wait_for_timeout(1000)  # a frame scrolled into view paints a moment later
        tab.locator("iframe.bertviz-frame").screenshot(path=str(ARTIFACTS / "bertviz-head-view.png"))
        tab.get_by_label("Model view").check()
        frame.get_by_text("Layers").wait_for(timeout=60_000)
        assert frame.locator("svg line").count() >= 6 * 12 * 9  # every layer x head x token pair of the 9 tokens
        page.wait_for_timeout(1000)
        frame.get_by_text("Layers").wait_for(timeout=30_000)
        tab.locator("iframe.bertviz-frame").screenshot(path=str(ARTIFACTS / "bertviz-model-view.png"))
        assert outside == []
        assert_no_error(page)
    finally:
        tab.get_by_label("Head view").check()
        page.unroute("**/*")


def test_positional_encoding_tab(page):
    tab = open_tab(page, "Positional encoding")
    page.wait_for_function(
        "[...document.querySelectorAll('.gtitle')].some(t => t.textContent.includes('Learned position embeddings'))",
        timeout=60_000,
    )
    assert tab.locator(".js-plotly-plot").count() == 6
    page.screenshot(path=str(ARTIFACTS / "positional.png"), full_page=True)
    assert_no_error(page)


def test_sentiment_tab(page):
    tab = open_tab(page, "Sentiment")
    tab.get_by_text("'minilm-sentiment': positive").wait_for(timeout=60_000)
    tab.get_by_label("Text").first.fill("A dull, lifeless waste of two hours.")
    tab.get_by_role("button", name="Classify").click()
    tab.get_by_text("'minilm-sentiment': negative").wait_for(timeout=60_000)
    wait_for_plots(page, 2)
    page.screenshot(path=str(ARTIFACTS / "sentiment.png"), full_page=True)
    assert_no_error(page)


def test_ner_tab(page):
    tab = open_tab(page, "NER")
    tab.get_by_text("'minilm-ner':").wait_for(timeout=60_000)
    assert tab.locator(".token-view").get_by_text("Tim Cook").count() > 0
    assert tab.locator(".token-view").get_by_text("Apple Inc.").count() > 0
    tab.get_by_label("max").check()
    tab.get_by_text("(max grouping)").wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "ner.png"), full_page=True)
    assert_no_error(page)


def test_qa_tab(page):
    tab = open_tab(page, "QA")
    tab.get_by_text("'minilm-qa': “2017”").wait_for(timeout=60_000)
    assert tab.locator(".js-plotly-plot").count() == 2
    page.screenshot(path=str(ARTIFACTS / "qa.png"), full_page=True)
    assert_no_error(page)


def test_hostile_markup_is_shown_as_text_not_run(page):
    tab = open_tab(page, "Tokenization")
    tab.get_by_label("Text").first.fill(HOSTILE)
    tab.get_by_role("button", name="Tokenize").click()
    tab.get_by_text("onerror").first.wait_for(timeout=60_000)
    tab = open_tab(page, "Attention")
    tab.get_by_label("Text").first.fill(HOSTILE)
    tab.get_by_role("button", name="Analyze").click()
    page.wait_for_function("[...document.querySelectorAll('.ytick')].some(t => t.textContent.includes('script'))", timeout=60_000)
    assert page.evaluate("window.__pwned") is None
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator("script:text('__pwned')").count() == 0
    page.screenshot(path=str(ARTIFACTS / "hostile-input.png"), full_page=True)
    assert_no_error(page)


HOSTILE_SET = [
    HOSTILE,
    '"><svg onload="window.__pwned=3">',
    '<iframe srcdoc="<script>parent.__pwned=4</script>"></iframe>',
    "{{constructor.constructor('window.__pwned=5')()}}",
    "[x](javascript:window.__pwned=6) <b onmouseover=window.__pwned=7>hover</b>",
]


def tab_inputs() -> list[tuple[str, list[str], str]]:
    """(tab name, labels of its text boxes, its button) for every tab of ``TABS``: a new tab is attacked too."""
    import gradio as gr

    with gr.Blocks():
        handles = {spec.id: spec.build() for spec in TABS}
    found = []
    for spec in TABS:
        boxes = [c for c in handles[spec.id].shareable.values() if isinstance(c, gr.Textbox)]
        found.append((render(Msg(spec.label_key)), [box.label for box in boxes], render(Msg(spec.primary_key))))
    return found


TAB_INPUTS = tab_inputs()
assert all(labels for _, labels, _ in TAB_INPUTS)  # every tab takes some text


@pytest.mark.parametrize("tab_name, labels, button", TAB_INPUTS)
def test_hostile_markup_runs_in_no_tab(page, tab_name, labels, button):
    tab = open_tab(page, tab_name)
    for hostile in HOSTILE_SET:
        for label in labels:
            # not exact: a box with help text (info) is named by its label and that text together
            tab.get_by_label(label).first.fill(hostile)
        tab.get_by_role("button", name=button, exact=True).click()
        page.wait_for_timeout(400)
        page.wait_for_function("!document.querySelector('.eta-bar, .progress-text')", timeout=60_000)
        for frame in page.frames:  # the bertviz iframe included
            assert frame.evaluate("window.__pwned") is None, (tab_name, hostile)
        assert page.locator('img[src="x"], svg[onload], b[onmouseover], a[href^="javascript"]').count() == 0
        assert page.locator("iframe:not(.bertviz-frame)").count() == 0
    slug = tab_name.split()[0].lower()
    page.screenshot(path=str(ARTIFACTS / f"hostile-{slug}.png"), full_page=True)
    assert_no_error(page)


def test_empty_input_shows_a_message(page):
    tab = open_tab(page, "Attention")
    tab.get_by_label("Text").first.fill("   ")
    tab.get_by_role("button", name="Analyze").click()
    tab.get_by_text("Please enter some text").wait_for(timeout=30_000)
    assert_no_error(page)
