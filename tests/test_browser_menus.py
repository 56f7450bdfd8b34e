"""Model menus offline and typed sizes out of range, in the real browser (issue 16, defects 9 and 11).

The tests never reach the hub (HF_HUB_OFFLINE=1): every hub model in a menu must say it is not
available here; picking one runs the tab on its offline default, the menu then shows that default
and a warning pops up. A d_model typed beyond the slider's range answers with the catalog's sentence,
not gradio's raw range error.
"""

from __future__ import annotations

import logging
import urllib.parse

import pytest

from explorer.messages import Msg, render
from explorer.models import CATALOG, DEFAULT_MODEL

from .test_browser import CHROMIUM, CHROMIUM_ARGS, sync_api  # noqa: F401  (skips like test_browser)

LANGUAGES = ["en", "ja"]


class Problems(logging.Handler):
    """Errors the server logs while the tests drive it (the app runs in this process)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def server_problems():
    handler = Problems()
    logging.getLogger().addHandler(handler)
    yield handler.records
    logging.getLogger().removeHandler(handler)


def open_tab(browser, app_url: str, lang: str, tab: str):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(f"{app_url}?{urllib.parse.urlencode({'lang': lang, 'tab': tab})}")
    return page


def said(key: str, lang: str, **params) -> str:
    return render(Msg(key, **params), lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_hub_model_offline_is_marked_and_the_menu_switches_to_what_ran(browser, app_url, lang, server_problems):
    page = open_tab(browser, app_url, lang, "attention")
    panel = page.locator("#attention")
    panel.get_by_text("6 layers × 12 heads" if lang == "en" else "6 層 × 12 ヘッド").first.wait_for(timeout=120_000)
    menu = panel.locator(".model-menu input[role=combobox]")
    menu.click()
    options = [text.strip().split("\n")[-1] for text in page.locator("[role=option]").all_inner_texts()]  # "✓" marks the chosen
    # the catalog's hub encoders (other tests register tiny local models after the page was built)
    hub = [spec.name for spec in CATALOG if not spec.embedded and spec.task is None]
    assert hub, "the menu lists hub encoders"
    for name in hub:  # offline and not cached: each says it cannot run here
        assert said("model.suffix_unavailable", lang, model=name) in options, (name, options)
    assert said("model.suffix_embedded", lang, model=DEFAULT_MODEL) in options
    page.locator("[role=option]").filter(has_text=said("model.suffix_unavailable", lang, model="bert-base-uncased")).first.click()
    panel.get_by_role("button", name=said("att.button", lang), exact=True).click()
    warning = said("model.menu_switched", lang, model="bert-base-uncased", fallback=DEFAULT_MODEL)
    page.locator(".toast-body.warning").filter(has_text=warning).first.wait_for(timeout=120_000)
    # the menu now names the model whose results are on screen, and the status line says why
    page.wait_for_function(
        "([el, label]) => el.value === label",
        arg=[menu.element_handle(), said("model.suffix_embedded", lang, model=DEFAULT_MODEL)],
        timeout=30_000,
    )
    panel.get_by_text(said("fallback.used", lang, model=DEFAULT_MODEL)).first.wait_for(timeout=30_000)
    assert page.locator(".toast-body.error").count() == 0
    assert page.errors == [] and server_problems == []
    page.context.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_typed_d_model_out_of_range_gets_the_catalogs_sentence(browser, app_url, lang, server_problems):
    page = open_tab(browser, app_url, lang, "positional")
    panel = page.locator("#positional")
    panel.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    number = panel.locator("input[type=number]").first  # d_model's box
    number.fill("5000")
    number.press("Enter")
    expected = said("index.not_between", lang, what=Msg("word.d_model"), value=5000, low=2, high=1024)
    panel.get_by_text(expected).first.wait_for(timeout=60_000)
    assert page.locator(".toast-body.error").count() == 0
    assert page.errors == [] and server_problems == []
    page.context.close()
