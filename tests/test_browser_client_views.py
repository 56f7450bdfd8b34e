"""The Attention tab redraws another head or query token in the page (issue 11): no request reaches
the server, and the cells drawn equal the server's own figures for that head.

Chromium via playwright, as tests/test_browser.py; the app runs in this process (``app_url``).
"""

from __future__ import annotations

import numpy as np
import pytest

from explorer import views
from explorer.messages import render_tree
from explorer.present import attention

from .test_browser import CHROMIUM, CHROMIUM_ARGS, assert_no_error, sync_api, wait_for_plots  # noqa: F401  (skips like test_browser)

TEXT = "The animal didn't cross the street because it was too tired."
TEXT_JA = "猫がマットの上に座った。"  # mostly [UNK] for the English model, still a layer to redraw


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser, app_url: str, query: str):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.dialogs, page.script_errors, page.server_calls = [], [], []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: page.script_errors.append(str(error)))
    # Every request to gradio's API (queue joins, file fetches, heartbeats): a redraw in the page makes none.
    page.on("request", lambda request: page.server_calls.append(request.url) if "/gradio_api/" in request.url else None)
    page.goto(app_url + query)
    return page


def head_cells(page) -> tuple[str, np.ndarray, list[float]]:
    """The head heatmap's title and cells, and the query row's bars, as plotly holds them in the page."""
    found = page.evaluate(
        """() => {
      const gd = (id) => document.querySelector(`#${id} div[data-testid="plotly"]`);
      const head = gd("att-head-plot"), row = gd("att-row-plot");
      const cells = Array.from(head.data[0].z, (r) => Array.from(r));
      return [head.layout.title.text, cells, Array.from(row.data[0].y), row.layout.title.text];
    }"""
    )
    return found[0], np.asarray(found[1], dtype=np.float64), [*found[2]], found[3]


def figures_in(page) -> dict:
    """Each figure's title, its traces' z (or y), its first trace's x and x tick values, as plotly holds them."""
    return page.evaluate(
        """() => Object.fromEntries(['head', 'row', 'mean', 'grid'].map((name) => {
      const gd = document.querySelector(`#att-${name}-plot div[data-testid="plotly"]`);
      const z = gd.data.map((t) => Array.from(t.z || [t.y], (r) => Array.from(r)));
      return [name, {title: gd.layout.title.text, z, x: Array.from(gd.data[0].x), tickvals: gd.layout.xaxis.tickvals}];
    }))"""
    )


def settle(page) -> None:
    """Wait until the page has made no API request for a while (page-load runs and heartbeats done)."""
    count = -1
    for _ in range(40):
        if len(page.server_calls) == count:
            return
        count = len(page.server_calls)
        page.wait_for_timeout(1500)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_head_and_query_switch_redraw_in_the_page_with_the_servers_values(browser, app_url, language):
    text = TEXT if language == "en" else TEXT_JA
    page = open_page(browser, app_url, f"?tab=attention&lang={language}&layer=2&text={text}")
    tab = page.locator("#attention")
    wait_for_plots(page, 4)
    page.wait_for_function("document.querySelector('#att-head-plot div[data-testid=plotly]')?.layout?.meta", timeout=60_000)
    settle(page)
    slider = tab.locator("input[type=range]").nth(1)  # layer, head
    before = len(page.server_calls)
    slider.focus()
    for expected_head in (1, 2, 3):
        slider.press("ArrowRight")
        page.wait_for_function(f"window.__attentionRedraws >= {expected_head}", timeout=10_000)
    title, cells, row, row_title = head_cells(page)
    server = attention.present(text, None, 2, 3, 0)
    assert f"{3}" in title and title.count("2") >= 1
    np.testing.assert_allclose(cells, server.view.weights, atol=1e-4)
    np.testing.assert_allclose(row, server.view.weights[0], atol=1e-4)
    # another query token, from the dropdown: the row follows, still in the page
    query = tab.get_by_label("Query token (its attention row)" if language == "en" else "クエリのトークン(その Attention の行)")
    query.click()
    page.get_by_role("option").nth(2).click()
    page.wait_for_function("window.__attentionRedraws >= 4", timeout=10_000)
    _, _, row, row_title = head_cells(page)
    np.testing.assert_allclose(row, server.view.weights[2], atol=1e-4)
    assert server.view.tokens[2].replace("##", "") in row_title
    # the share line follows the head too
    share = attention.present(text, None, 2, 3, 0).view.shares
    assert f"{100 * share.head_weights:.0f}%" in tab.inner_text()
    page.wait_for_timeout(500)
    assert page.server_calls[before:] == [], page.server_calls[before:]
    assert_no_error(page)
    page.context.close()


def test_a_new_layer_comes_from_the_server_and_its_heads_then_switch_in_the_page(browser, app_url):
    page = open_page(browser, app_url, f"?tab=attention&text={TEXT}")
    tab = page.locator("#attention")
    wait_for_plots(page, 4)
    page.wait_for_function("document.querySelector('#att-head-plot div[data-testid=plotly]')?.layout?.meta", timeout=60_000)
    settle(page)
    layer, head = tab.locator("input[type=range]").nth(0), tab.locator("input[type=range]").nth(1)
    before = len(page.server_calls)
    layer.focus()
    layer.press("ArrowRight")  # layer 1: one round trip
    page.wait_for_function(
        "document.querySelector('#att-head-plot div[data-testid=plotly]').layout.title.text.startsWith('Layer 1')",
        timeout=30_000,
    )
    assert len(page.server_calls) > before
    settle(page)
    before = len(page.server_calls)
    head.focus()
    head.press("ArrowRight")
    page.wait_for_function("window.__attentionRedraws >= 1", timeout=10_000)
    title, cells, _, _ = head_cells(page)
    assert title.startswith("Layer 1, head 1")
    np.testing.assert_allclose(cells, attention.present(TEXT, None, 1, 1).view.weights, atol=1e-4)
    # hiding [CLS]/[SEP] and renormalising: in the page too, all four figures, equal to the server's
    middle = len(page.server_calls)
    for hide, renorm in ((True, False), (True, True), (False, True), (False, False)):
        tab.get_by_label("Hide [CLS]/[SEP]").set_checked(hide)
        tab.get_by_label("Renormalise rows over visible tokens").set_checked(renorm)
        page.wait_for_function(
            f"document.querySelector('#att-head-plot div[data-testid=plotly]').layout.meta.endsWith('-{int(hide)}{int(renorm)}')",
            timeout=10_000,
        )
        page.wait_for_timeout(300)
        server = attention.present(TEXT, None, 1, 1, 0, hide, renorm).view
        drawn = figures_in(page)
        assert drawn["head"]["title"].startswith("Layer 1, head 1") and ("hidden" in drawn["head"]["title"]) == hide
        # cells within 8e-6 in the pack (ClientLayer); a renormalised row's sum carries every cell's rounding
        close = {"atol": 5e-5 if renorm else 1e-5, "rtol": 0}
        np.testing.assert_allclose(drawn["head"]["z"][0], server.weights, **close)
        np.testing.assert_allclose(drawn["mean"]["z"][0], views.decode_array(server.mean["data"][0]["z"]), **close)
        for thumbnail, trace in zip(drawn["grid"]["z"], server.grid["data"], strict=True):
            np.testing.assert_allclose(thumbnail, views.decode_array(trace["z"]), **close)
        assert drawn["head"]["x"] == server.head["data"][0]["x"]
        assert drawn["head"]["tickvals"] == server.head["layout"]["xaxis"]["tickvals"]
        assert drawn["grid"]["title"] == render_tree(server.grid["layout"]["title"]["text"], "en")
    page.wait_for_timeout(500)
    assert page.server_calls[middle:] == [], page.server_calls[middle:]
    assert_no_error(page)
    page.context.close()
