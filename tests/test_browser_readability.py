"""Text the model cannot read, in the page (issue 16): Japanese on the embedded English models gives a
warning, the Sentiment tab's label is greyed and marked unreliable, and the Attention tab's word view
says it is for Japanese models. Chromium via playwright, as tests/test_browser.py."""

from __future__ import annotations

import urllib.parse

import pytest

from .test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, assert_no_error, sync_api  # noqa: F401  (skips like test_browser)

REVIEW_JA = "全く面白くなくて時間の無駄だった。"
GREY = "rgb(156, 163, 175)"  # ui.common.UNRELIABLE_GREY


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser, app_url: str, **query: str):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.dialogs, page.script_errors = [], []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: page.script_errors.append(str(error)))
    page.goto(f"{app_url}?{urllib.parse.urlencode(query)}")
    return page


def grey_in(locator) -> bool:
    """Whether any element inside ``locator`` is painted in the unreliable grey."""
    return locator.evaluate(
        """(root, grey) => [root, ...root.querySelectorAll('*')].some((el) => {
          const style = getComputedStyle(el);
          return style.backgroundColor === grey || style.color === grey || style.borderColor === grey;
        })""",
        GREY,
    )


@pytest.mark.parametrize(
    ("language", "summary", "warning", "title"),
    [
        ("en", "UNRELIABLE: 'minilm-sentiment' says", "is an English model", "Prediction — UNRELIABLE"),
        ("ja", "信頼できません：「minilm-sentiment」は", "英語のモデル", "予測 — 信頼できません"),
    ],
)
def test_sentiment_on_japanese_is_greyed_and_marked_unreliable(browser, app_url, language, summary, warning, title):
    page = open_page(browser, app_url, tab="sentiment", lang=language, text=REVIEW_JA)
    tab = page.locator("#sentiment")
    tab.get_by_text(summary).wait_for(timeout=90_000)
    assert tab.get_by_text(warning).count() > 0
    assert tab.get_by_text("christian-phu/bert-finetuned-japanese-sentiment").count() > 0  # where to go instead
    label = tab.locator('[data-testid="label"]')
    assert label.locator('[data-testid="block-label"]').inner_text().strip() == title
    assert grey_in(label)
    page.screenshot(path=str(ARTIFACTS / f"sentiment-unreadable-{language}.png"), full_page=True)
    # an English sentence brings the confident label back, in its own colour
    tab.get_by_label("Text" if language == "en" else "テキスト").first.fill("A dull, lifeless waste of two hours.")
    tab.get_by_role("button", name="Classify" if language == "en" else "分類する").click()
    page.wait_for_function("(t) => !document.querySelector('#sentiment').innerText.includes(t)", arg=title, timeout=60_000)
    assert label.locator('[data-testid="block-label"]').inner_text().strip() == ("Prediction" if language == "en" else "予測")
    assert not grey_in(label)
    assert_no_error(page)
    page.context.close()


def test_attention_tab_warns_and_its_word_view_names_the_japanese_models(browser, app_url):
    page = open_page(browser, app_url, tab="attention", text=REVIEW_JA)
    tab = page.locator("#attention")
    tab.get_by_text("'all-MiniLM-L6-v2' is an English model").wait_for(timeout=90_000)
    tab.get_by_text("Attention between words (MeCab morphemes, Japanese models)").click()
    tab.get_by_text("The word-level view is for Japanese models").wait_for(timeout=60_000)
    assert tab.locator("#att-words").get_by_text("tohoku-nlp/bert-base-japanese-v3").count() > 0
    page.screenshot(path=str(ARTIFACTS / "attention-unreadable.png"), full_page=True)
    assert_no_error(page)
    page.context.close()
