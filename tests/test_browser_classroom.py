"""Classroom and sharing, in the real browser at projector size (1920x1080).

Screenshots of every tab in English and Japanese, normal and projection mode, land in
test-artifacts/screenshots/classroom/. Also: the page follows the browser's language,
a link reopens the same view, and the share button writes that link.
"""

from __future__ import annotations

import urllib.parse

import pytest

from explorer.messages import Msg, render
from explorer.ui.tabs import TAB_IDS
from explorer.ui.tabs import TABS as TAB_SPECS

from .test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, sync_api  # noqa: F401  (skips like test_browser)

# Text that shows a tab's first result is there (en, ja); the tabs and their names come from TABS.
READY = {
    "tokenization": ("tokens from 'all-MiniLM-L6-v2'", "'all-MiniLM-L6-v2' は"),
    "attention": ("6 layers × 12 heads", "6 層 × 12 ヘッド"),
    "step": ("recomputed with numpy", "numpyで再計算"),
    "heads": ("6 layers × 12 heads:", "6層 × 12ヘッド："),
    "positional": ("Sinusoidal PE", "正弦波の位置エンコーディング"),
    "sentiment": ("'minilm-sentiment'", "'minilm-sentiment'"),
    "ner": ("'minilm-ner'", "'minilm-ner'"),
    "qa": ("'minilm-qa'", "'minilm-qa'"),
    "explain": ("completeness gap", "完全性のずれ"),
    "compare": ("the heads that changed most are", "最も変わったヘッドは"),
    "embed": ("Most similar: sentences", "最も似ている:文"),
    "fill": ("filled 1 [MASK]", "個の [MASK] を埋めました"),
}
assert set(READY) == set(TAB_IDS), "say what shows that a new tab's first result is there"
TABS = [(spec.id, (render(Msg(spec.label_key), "en"), render(Msg(spec.label_key), "ja")), READY[spec.id]) for spec in TAB_SPECS]
OUT = ARTIFACTS / "classroom"


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_page(browser, locale: str = "en-US"):
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale=locale)
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    return page


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("projection", [False, True])
def test_every_tab_at_projector_size(browser, app_url, lang, projection):
    OUT.mkdir(parents=True, exist_ok=True)
    page = new_page(browser)
    query = {"lang": lang, **({"projection": "1"} if projection else {})}
    page.goto(f"{app_url}?{urllib.parse.urlencode(query)}")
    which = 1 if lang == "ja" else 0
    page.get_by_role("tab", name=TABS[0][1][which], exact=True).wait_for(timeout=60_000)
    if projection:  # the page-load event sets it
        page.wait_for_function("document.body.classList.contains('projection')", timeout=60_000)
    else:
        assert not page.evaluate("document.body.classList.contains('projection')")
    for tab_id, names, ready in TABS:
        click_tab(page, names[which])
        page.locator(f"#{tab_id}").get_by_text(ready[which]).first.wait_for(timeout=120_000)
        page.wait_for_timeout(700)  # plotly lays out a newly shown tab
        if tab_id == "attention":  # 64 tokens: tick labels must neither clip nor collide
            text = " ".join(["the cat sat on the mat"] * 10 + ["the cat"])  # 62 words + [CLS] + [SEP]
            box = page.locator("#attention").get_by_label("テキスト" if lang == "ja" else "Text", exact=True).first
            box.fill(text)
            page.locator("#attention").get_by_role("button", name="解析する" if lang == "ja" else "Analyze").click()
            page.locator("#attention").get_by_text("64 トークン" if lang == "ja" else "64 tokens").first.wait_for(timeout=60_000)
            page.wait_for_timeout(700)
            assert_tick_labels_fit(page)
        page.screenshot(path=str(OUT / f"{tab_id}-{lang}-{'projection' if projection else 'normal'}.png"), full_page=True)
    if lang == "ja":
        assert page.get_by_text("層(レイヤー)").count() > 0
    assert page.dialogs == []
    page.context.close()


def click_tab(page, name: str) -> None:
    """Click a tab: every tab is on the bar (it wraps; test_browser_layout checks that none hides in a menu)."""
    page.get_by_role("tab", name=name, exact=True).click()


def assert_tick_labels_fit(page) -> None:
    """In the first heatmap, y tick labels do not overlap each other or leave the figure."""
    boxes = page.evaluate(
        """() => {
        const plot = document.querySelector('#attention .js-plotly-plot');
        const outer = plot.getBoundingClientRect();
        return {outer: [outer.left, outer.right],
                ticks: [...plot.querySelectorAll('.ytick text')].map(t => { const r = t.getBoundingClientRect();
                        return [r.left, r.top, r.bottom]; }),
                xticks: [...plot.querySelectorAll('.xtick text')].map(t => t.getBoundingClientRect().left),
                fontSize: parseFloat(getComputedStyle(plot.querySelector('.xtick text')).fontSize)};
    }"""
    )
    ticks = sorted(boxes["ticks"], key=lambda box: box[1])
    assert len(ticks) == 64
    assert all(left >= boxes["outer"][0] - 1 for left, _, _ in ticks)  # not clipped at the left edge
    assert all(a[2] <= b[1] + 0.5 for a, b in zip(ticks, ticks[1:], strict=False))  # no overlap
    # x labels are rotated 60°: neighbours clear each other when dx * sin(60°) exceeds the font size
    xs = sorted(boxes["xticks"])
    assert min(b - a for a, b in zip(xs, xs[1:], strict=False)) * 0.866 >= boxes["fontSize"]


def test_page_follows_the_browser_language(browser, app_url):
    page = new_page(browser, locale="ja-JP")
    page.goto(app_url)
    page.get_by_role("tab", name="トークン化", exact=True).wait_for(timeout=60_000)
    assert page.get_by_label("日本語").is_checked()
    page.get_by_label("English").check()
    page.get_by_role("tab", name="Tokenization", exact=True).wait_for(timeout=30_000)
    page.context.close()


def test_a_link_reopens_the_same_view_and_the_button_writes_it(browser, app_url):
    page = new_page(browser)
    text = "The animal didn't cross the street because it was too tired."
    query = urllib.parse.urlencode({"tab": "attention", "text": text, "layer": 3, "head": 5})
    page.goto(f"{app_url}?{query}")
    title = "[...document.querySelectorAll('#attention .gtitle')].some(t => t.textContent.includes('Layer 3, head 5'))"
    page.wait_for_function(title, timeout=120_000)
    assert page.locator("#attention").get_by_label("Text", exact=True).first.input_value() == text
    page.get_by_role("button", name="Copy link").click()
    link = page.locator("#share-link textarea, #share-link input").first
    page.wait_for_function("document.querySelector('#share-link textarea, #share-link input').value.includes('tab=')")
    copied = link.input_value()
    params = urllib.parse.parse_qs(urllib.parse.urlparse(copied).query)
    assert params["tab"] == ["attention"] and params["text"] == [text]
    assert params["layer"] == ["3"] and params["head"] == ["5"] and params["model"] == ["all-MiniLM-L6-v2"]
    page.context.close()
    # The copied link, opened by a student: the same tab, text, layer and head.
    student = new_page(browser)
    student.goto(copied)
    student.wait_for_function(title, timeout=120_000)
    assert student.locator("#attention").get_by_label("Text", exact=True).first.input_value() == text
    assert student.get_by_role("tab", name="Attention", exact=True).get_attribute("aria-selected") == "true"
    student.context.close()


def test_a_link_shares_every_field_of_its_tab(browser, app_url):
    """The QA tab shares its question and its context: the button writes both, the link restores both."""
    page = new_page(browser)
    question, context = "Who wrote it?", "The note was written by Ada Lovelace in 1843."
    page.goto(f"{app_url}?{urllib.parse.urlencode({'tab': 'qa', 'text': question, 'context': context})}")
    page.locator("#qa").get_by_text("'minilm-qa': “").wait_for(timeout=120_000)  # answered from the linked context
    assert page.locator("#qa").get_by_label("Question", exact=True).input_value() == question
    page.get_by_role("button", name="Copy link").click()
    page.wait_for_function("document.querySelector('#share-link textarea, #share-link input').value.includes('tab=qa')")
    copied = page.locator("#share-link textarea, #share-link input").first.input_value()
    params = urllib.parse.parse_qs(urllib.parse.urlparse(copied).query)
    assert params["text"] == [question] and params["context"] == [context] and params["model"] == ["minilm-qa"]
    page.context.close()
    student = new_page(browser)
    student.goto(copied)
    student.locator("#qa").get_by_text("'minilm-qa': “").wait_for(timeout=120_000)
    assert student.locator("#qa").get_by_label("Question", exact=True).input_value() == question
    assert student.locator("#qa").get_by_label("Context", exact=True).input_value() == context
    student.context.close()


def test_a_link_carries_the_attention_switches(browser, app_url):
    """Hide [CLS]/[SEP], renormalise and norms come back from a link, and the button writes them."""
    page = new_page(browser)
    page.goto(f"{app_url}?{urllib.parse.urlencode({'tab': 'attention', 'hide': 1, 'renormalize': 1, 'scale': 'norms'})}")
    hidden = "[...document.querySelectorAll('#attention .gtitle')].some(t => t.textContent.includes('[CLS]/[SEP] hidden'))"
    page.wait_for_function(hidden, timeout=120_000)
    assert page.locator("#att-hide input").is_checked() and page.locator("#att-renormalize input").is_checked()
    assert page.locator("#attention").get_by_label("norms", exact=False).first.is_checked()
    page.get_by_role("button", name="Copy link").click()
    page.wait_for_function("document.querySelector('#share-link textarea, #share-link input').value.includes('tab=attention')")
    copied = page.locator("#share-link textarea, #share-link input").first.input_value()
    params = urllib.parse.parse_qs(urllib.parse.urlparse(copied).query)
    assert params["hide"] == ["1"] and params["renormalize"] == ["1"] and params["scale"] == ["norms"]
    page.locator("#att-hide input").uncheck()  # off is the default: the link leaves it out
    page.get_by_role("button", name="Copy link").click()
    page.wait_for_function("!document.querySelector('#share-link textarea, #share-link input').value.includes('hide=')")
    assert page.dialogs == []
    page.context.close()
