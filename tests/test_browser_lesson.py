"""Lesson mode, 問題5 live and export in a real browser (Debian chromium), in English and Japanese: the toolbar toggle,
``?lesson=`` links, the step menu, previous/next, "open again", the teacher's notes; each step
selects its tab and runs it with its preset. The server runs in its own process
(``test_browser_controls.server``): its log must hold no exception afterwards."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from explorer import lesson
from explorer.messages import Msg, render
from explorer.ui.finetune import TRAINING
from explorer.ui.tabs import TABS

from .test_browser_controls import (  # noqa: F401  (fixtures)
    CHROMIUM,
    CHROMIUM_ARGS,
    LANGUAGES,
    OUT,
    Queue,
    Session,
    browser,
    server,
    sync_api,
    tab_name,
)

SPECS = {spec.id: spec for spec in TABS}


def is_error(message) -> bool:
    return message.type == "error" and not message.text.startswith("Failed to load resource")


def failed(response) -> bool:
    return response.status >= 400 and "/assets/fonts/" not in response.url


def selected_tab(page) -> str:
    """The selected tab's name (a tab the bar had no room for is selected in its overflow menu)."""
    return page.locator("[role=tab][aria-selected=true]").first.inner_text().strip()


def card(page) -> str:
    return page.locator("#lesson-card").inner_text()


def expect_step(session: Session, step_id: str) -> None:
    """The panel shows ``step_id``, its tab is selected and has run: a status line and no error."""
    page, lang = session.page, session.lang
    step = lesson.find(step_id)
    title, tab = render(step.msg("title"), lang), tab_name(SPECS[step.tab], lang)
    # The step's card, then its tab: a step is three events in a row (menu, card, the tab's run).
    page.wait_for_function(
        """([title, tab]) => (document.querySelector('#lesson-card')?.innerText || '').includes(title)
             && [...document.querySelectorAll('[role=tab][aria-selected=true]')].some(t => t.innerText.trim() === tab)""",
        arg=[title, tab],
        timeout=60_000,
    )
    session.settle(started_within=3)
    assert render(step.msg("question"), lang) in card(page)
    assert selected_tab(page) == tab, (step_id, selected_tab(page), card(page)[:100])
    panel = page.locator(f"#{step.tab}")
    statuses = [t for t in panel.locator("[data-testid=markdown]").all_inner_texts() if t.strip()]
    assert statuses, (step_id, "the tab shows nothing")
    assert page.locator(".toast-body.error").count() == 0, page.locator(".toast-body").all_inner_texts()
    assert session.errors == [], session.errors


@pytest.fixture(scope="module")
def open_page(browser, server):  # noqa: F811
    contexts = []

    def open_at(lang: str, query: str) -> Session:
        context = browser.new_context(viewport={"width": 1280, "height": 720}, locale=LANGUAGES[lang])
        contexts.append(context)
        page = context.new_page()
        session = Session(page, Queue(page), lang)
        page.on("pageerror", lambda error: session.errors.append(f"pageerror: {error}"))
        # A failed request is reported with its address below (the console's line has none); fonts are
        # the page style's business, checked by its own tests.
        page.on("console", lambda m: session.errors.append(f"console: {m.text}") if is_error(m) else None)
        page.on("response", lambda r: session.errors.append(f"{r.status} {r.url}") if failed(r) else None)
        page.goto(f"{server.url}?lang={lang}{query}")
        page.get_by_role("tab", name=tab_name(TABS[0], lang), exact=True).wait_for(timeout=60_000)
        session.settle(started_within=5)
        return session

    yield open_at
    for context in contexts:
        context.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_lesson_mode_walks_the_chapter(open_page, lang):
    session = open_page(lang, "")
    page = session.page
    assert not page.locator("#lesson-panel").is_visible()  # no lesson: no panel above the tabs
    page.locator("#lesson-toggle input[type=checkbox]").check()
    page.locator("#lesson-panel").wait_for(state="visible")
    expect_step(session, "3.1")

    page.locator("#lesson-next").click()
    expect_step(session, "3.2")
    page.locator("#lesson-next").click()
    expect_step(session, "3.3")
    page.locator("#lesson-previous").click()
    expect_step(session, "3.2")

    # the step menu: exercise 2 opens the compare tab with both sentences of its preset
    page.locator("#lesson-step input[role=combobox]").click()
    page.locator("[role=option]").filter(has_text=render(lesson.find("q2").msg("title"), lang)).first.click()
    expect_step(session, "q2")
    boxes = page.locator("#compare textarea")
    assert [boxes.nth(i).input_value() for i in range(2)] == [
        lesson.find("q2").preset["text"],
        lesson.find("q2").preset["text_b"],
    ]

    # a student changed the text; "open again" puts the step's preset back
    boxes.first.fill("something else entirely")
    page.locator("#lesson-reopen").click()
    page.wait_for_function(
        "text => document.querySelector('#compare textarea').value === text", arg=lesson.find("q2").preset["text"], timeout=60_000
    )
    expect_step(session, "q2")

    # the teacher's notes: the expected observation and the step's own link
    page.locator("#lesson-notes .label-wrap").first.click()
    notes = page.locator("#lesson-notes [data-testid=markdown]").last
    notes.wait_for(state="visible")
    assert render(lesson.find("q2").msg("notes"), lang)[:20] in notes.inner_text()
    assert notes.locator("a").first.get_attribute("href") == f"?lesson=q2&lang={lang}"
    page.locator("#lesson-notes .label-wrap").first.click()

    page.locator("#lesson-toggle input[type=checkbox]").uncheck()
    page.locator("#lesson-panel").wait_for(state="hidden")
    page.screenshot(path=str(OUT / f"lesson-{lang}.png"))
    assert session.errors == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_lesson_link_opens_its_step(open_page, lang):
    session = open_page(lang, "&lesson=3.4")
    page = session.page
    page.locator("#lesson-panel").wait_for(state="visible")
    assert page.locator("#lesson-toggle input[type=checkbox]").is_checked()
    expect_step(session, "3.4")
    page.locator("#lesson-next").click()
    expect_step(session, "3.5")
    page.screenshot(path=str(OUT / f"lesson-link-{lang}.png"))


def test_the_server_logged_no_exception(server):  # noqa: F811
    assert server.process.poll() is None, "the server died"
    assert server.problems() == []


class Downloads:
    """Every download of a page (a figure button downloads one file a figure, in any order)."""

    def __init__(self, page):
        self.page, self.found = page, []
        page.on("download", lambda item: self.found.append(item))

    def after(self, trigger, suffix: str) -> tuple[str, bytes]:
        """Run ``trigger`` (a click); the name and content of the first new download whose name ends in ``suffix``."""
        seen = len(self.found)
        trigger()
        for _ in range(600):
            new = [item for item in self.found[seen:] if item.suggested_filename.endswith(suffix)]
            if new:
                return new[0].suggested_filename, Path(new[0].path()).read_bytes()
            self.page.wait_for_timeout(100)
        raise AssertionError(f"no {suffix} download: {[item.suggested_filename for item in self.found[seen:]]}")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_exercise_5_live_and_export(open_page, lang):
    session = open_page(lang, "&lesson=q5")
    page = session.page
    downloads = Downloads(page)
    expect_step(session, "q5")
    tune = page.locator("#live-finetune")
    tune.locator(".label-wrap").first.click()
    says = lambda key, **params: render(Msg(key, **params), lang)  # noqa: E731

    # one class only: a sentence, not a traceback
    boxes = tune.locator("textarea")
    boxes.first.wait_for(timeout=60_000)
    boxes.first.fill("+ a lovely film\n+ great fun")
    session.settle()  # the box's input reaches the page's state before the button reads it
    assert boxes.first.input_value() == "+ a lovely film\n+ great fun"
    tune.get_by_role("button", name=says("finetune.train"), exact=True).click()
    too_few = says("finetune.too_few", least=2, negative=0, positive=2)
    try:
        tune.get_by_text(too_few).wait_for(timeout=60_000)
    except Exception as error:  # CI saw this time out once: say what the page showed instead
        shown = tune.locator("[data-testid=markdown]").all_inner_texts()
        raise AssertionError(f"no {too_few!r}; box: {boxes.first.input_value()!r}; shown: {shown}") from error

    boxes.first.fill(TRAINING)
    tune.get_by_role("button", name=says("finetune.train"), exact=True).click()
    trained = says("finetune.trained", sentences=6, accuracy="100%", loss="\0").split("\0")[0]
    tune.get_by_text(trained).wait_for(timeout=60_000)
    tune.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)  # the loss curve
    tune.get_by_role("button", name=says("finetune.try"), exact=True).click()
    tune.locator("[data-testid=cell-1-0]").wait_for(timeout=60_000)  # two sentences tried
    table = " ".join(tune.locator("[data-testid^=cell-]").all_inner_texts())
    assert says("label.positive") in table and says("label.negative") in table
    session.settle()

    # export: the tab's figures as PNG and SVG, its analysis as JSON
    box = page.locator("#sentiment .export")
    box.locator(".label-wrap").first.click()
    name, content = downloads.after(box.get_by_role("button", name=says("export.png"), exact=True).click, ".png")
    assert name.startswith("sentiment-") and name.endswith(".png") and content[:4] == b"\x89PNG"
    name, content = downloads.after(box.get_by_role("button", name=says("export.svg"), exact=True).click, ".svg")
    assert name.endswith(".svg") and b"<svg" in content[:500]
    box.get_by_role("button", name=says("export.data"), exact=True).click()
    link = box.locator("a.export-link", has_text=".json")
    link.wait_for(timeout=60_000)
    name, content = downloads.after(link.click, ".json")
    document = json.loads(content)
    assert re.fullmatch(r"sentiment-analysis-\d{8}-\d{6}\.json", name) and document["tab"] == "sentiment"
    assert any(trace.get("z") for figure in document["figures"] for trace in figure["traces"])  # one layer's attention
    assert document["predictions"]

    # a table as CSV: the tokenization tab's token table
    page.get_by_role("tab", name=tab_name(SPECS["tokenization"], lang), exact=True).click()
    session.settle(started_within=3)
    box = page.locator("#tokenization .export")
    box.locator(".label-wrap").first.click()
    box.get_by_role("button", name=says("export.data"), exact=True).click()
    link = box.locator("a.export-link", has_text=".csv").first
    link.wait_for(timeout=60_000)
    name, content = downloads.after(link.click, ".csv")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    assert name.startswith("tokenization-table-") and len(rows) > 2 and len(set(map(len, rows))) == 1
    page.screenshot(path=str(OUT / f"lesson-finetune-export-{lang}.png"))
    assert session.errors == [], session.errors
