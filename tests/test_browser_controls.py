"""Every control of every tab, driven in a real browser (Debian chromium), in English and Japanese.

For each language and each tab of ``explorer.ui.tabs.TABS`` (a tab added later is covered, or
fails), the controls are enumerated from the tab's DOM and checked against the app's own
config (``/config``): every example, text box, button, slider (dragged with the mouse, moved
with the arrow keys, typed into its number box, reset), checkbox, radio, dropdown (the model
menu too) and accordion (opened, its controls driven, closed). An element the test does not
know how to drive fails it, so a control added later is exercised or named.

After each action the page must settle with no error toast, no "Something went wrong", every
output of the tab filled (plots drawn, tables with rows, highlighted tokens, status lines), and
a slider's new value must repaint the plots (their titles name it). The server runs in its own
process with a logging handler on its root logger; its log, stdout and stderr must hold no
exception or traceback for the whole run. In Japanese, the visible text of each tab (plot titles,
axes and legends included) must hold no English word outside ``ALLOWED_IN_JAPANESE`` and the
page's own data (model ids, tokens, user and example text). Screenshots of every tab in both
languages land in test-artifacts/screenshots/controls/.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from explorer.messages import Msg, render
from explorer.models import OFFLINE_DEFAULT, REGISTRY, model_availability
from explorer.present.qa import MEAN_OF_HEADS
from explorer.ui.tabs import TABS

from .test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, sync_api  # noqa: F401  (skips like test_browser)

ROOT = Path(__file__).resolve().parent.parent
OUT = ARTIFACTS / "controls"
LANGUAGES = {"en": "en-US", "ja": "ja-JP"}
FAILURE_WORDS = ("Something went wrong", "問題が発生しました")
NUMPY_CHECK = re.compile(r"\d\.\d\de-\d\d")  # "8.68e-07": the difference the numpy check reports

# Component types this test knows how to drive (inputs) or to check (outputs); any other type in a
# tab fails test_every_tab_has_only_controls_this_test_can_drive.
INPUT_TYPES = {"textbox", "button", "slider", "checkbox", "checkboxgroup", "radio", "dropdown", "dataset", "accordion"}
OUTPUT_TYPES = {"markdown", "plot", "dataframe", "highlightedtext", "label", "html", "state"}
LAYOUT_TYPES = {"tabitem", "row", "column", "form", "group"}

# Tabs whose status line may stay empty: none (every presenter writes a summary line).
STATUS_MAY_BE_EMPTY: set[str] = set()

# English words allowed in the Japanese page besides its data (model ids, tokens, user and example
# text, read from the page itself). Each is a name, a symbol or a term the Japanese text keeps.
ALLOWED_IN_JAPANESE = {
    # names of people and of measures named after them
    "Jensen",
    "PCA",
    "Shannon",
    "JS",
    # acronyms and symbols
    "BERT",
    "NER",
    "QA",
    "ID",
    "CLS",
    "SEP",
    "UNK",
    "PAD",
    "MASK",
    "PER",
    "ORG",
    "LOC",
    "MISC",
    "CoNLL",
    "LoRA",
    "d_model",
    "d_k",
    "W_Q",
    "W_K",
    "W_V",
    "W_O",
    "FFN",
    "MiB",
    "GELU",
    "GPT",
    "LayerNorm",
    "MultiHead",
    "Concat",
    "PE",
    "sin",
    "cos",
    "pos",
    "NLP",
    "log",
    # authors of the papers a tab follows, cited as the chapter cites them
    "Clark",
    "DeYoung",  # ERASER (DeYoung et al. 2020), a citation
    "ERASER",
    "Michel",
    # names of tools, libraries, file and commands the text tells the user about
    "MeCab",
    "WordPiece",
    "unidic",
    "lite",
    "numpy",
    "bertviz",
    "softmax",
    "BertJapaneseTokenizer",
    "float",
    "Hugging",
    "Face",
    "Hub",
    "hub",
    "download",
    "pip",
    "install",
    "fugashi",
    "attention",
    "explorer",  # the app's own name, "attention-explorer", in the header
    # technical terms the Japanese catalog keeps in English on purpose, as the chapter does
    "Attention",
    "Self",
    "Rollout",
    "Transformer",
    # values the user picks, shown as they are sent ("none:タグごと"), and the parameter's own name
    "none",
    "simple",
    "first",
    "average",
    "max",
    "aggregation",
    "strategy",
    # the language switch names each language in itself
    "English",
}
ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z_]{2,}")
PATH = re.compile(r"[\w.-]+(?:/[\w.-]+)+|\b\w+\.(?:py|txt|json)\b")  # file paths and file names are names


# ---- the server, in its own process, with its log captured -------------------------------

SERVER = """
import logging, sys
handler = logging.FileHandler(sys.argv[2], encoding="utf-8")
handler.setLevel(logging.WARNING)
handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
logging.getLogger().addHandler(handler)
import time, gradio.blocks
events = open(sys.argv[2] + ".events", "a", buffering=1, encoding="utf-8")  # which handler started and ended, when
_process_api = gradio.blocks.Blocks.process_api
async def process_api(self, block_fn, *args, **kwargs):
    name = getattr(getattr(block_fn, "fn", None), "__name__", block_fn)
    session = kwargs.get("session_hash")
    events.write(f"{time.monotonic():.3f} start {name} {session}\\n")
    try:
        return await _process_api(self, block_fn, *args, **kwargs)
    finally:
        events.write(f"{time.monotonic():.3f} end {name} {session}\\n")
gradio.blocks.Blocks.process_api = process_api
import app
app.with_queue(app.build_demo()).launch(server_name="127.0.0.1", server_port=int(sys.argv[1]), quiet=True,
                                         theme=app.THEME, css=app.CSS)
"""
# Warnings the server may log without anything being wrong (each is a line the user also sees).
EXPECTED_LOG = (re.compile(r"^WARNING explorer\.models\.loading: loading \S+ failed: "),)  # a hub model, offline
BAD_LOG = re.compile(r"Traceback|ComponentProcessingError|Exception|\b[A-Z]\w*Error\b|^(ERROR|CRITICAL) ", re.M)


@dataclass
class Server:
    url: str
    logs: list[Path]
    process: subprocess.Popen

    def problems(self) -> list[str]:
        found = []
        for path in self.logs:
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                if any(pattern.search(line) for pattern in EXPECTED_LOG):
                    continue
                if BAD_LOG.search(line):
                    found.append(f"{path.name}: {line[:300]}")
        return found


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("controls-server")
    log, stdout, stderr = folder / "root-logger.log", folder / "stdout.txt", folder / "stderr.txt"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADIO_", "EXPLORER_"))}
    env.update(GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1", PYTHONPATH=str(ROOT))
    with stdout.open("w") as out, stderr.open("w") as err:
        process = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(log)], cwd=ROOT, env=env, stdout=out, stderr=err)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(stderr.read_text()[-3000:]) from None
            time.sleep(0.2)
    yield Server(url, [log, stdout, stderr], process)
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def config(server) -> dict:
    with urllib.request.urlopen(f"{server.url}config", timeout=30) as response:
        return json.loads(response.read())


# ---- what the app's config says each tab holds ---------------------------------------------


@dataclass
class Node:
    id: int
    type: str
    props: dict
    accordion: int | None  # the accordion it sits in, if any


@dataclass
class TabConfig:
    nodes: list[Node]
    submit_targets: set[int]  # text boxes with a submit event
    change_targets: set[int]  # components with any event (change, input, submit…)
    outputs: set[int]  # components some event writes to
    in_page: set[int] = field(default_factory=set)  # components whose every event runs in the page only (js, no server)

    def of(self, kind: str, accordion: int | None | str = "any") -> list[Node]:
        return [n for n in self.nodes if n.type == kind and (accordion == "any" or n.accordion == accordion)]


def tab_config(config: dict, tab_id: str) -> TabConfig:
    components = {c["id"]: c for c in config["components"]}

    def find(node):
        component = components.get(node["id"], {})
        if component.get("type") == "tabitem" and component["props"].get("id") == tab_id:
            return node
        return next((found for child in node.get("children", []) if (found := find(child))), None)

    nodes: list[Node] = []

    def walk(node, accordion):
        component = components[node["id"]]
        if component["type"] != "tabitem" and component["props"].get("visible", True) is not False:
            nodes.append(Node(node["id"], component["type"], component["props"], accordion))
        inner = node["id"] if component["type"] == "accordion" else accordion
        for child in node.get("children", []):
            walk(child, inner)

    tab = find(config["layout"])
    assert tab is not None, f"no tab {tab_id!r} in the page"
    walk(tab, None)
    submit, triggered, outputs, to_server = set(), set(), set(), set()
    for dependency in config["dependencies"]:
        for target, event in dependency["targets"]:
            triggered.add(target)
            if event == "submit":
                submit.add(target)
            if dependency["backend_fn"]:
                to_server.add(target)
        outputs |= set(dependency["outputs"])
    return TabConfig(nodes, submit, triggered, outputs, triggered - to_server)


# ---- the browser ----------------------------------------------------------------------------


class Queue:
    """gradio's queue traffic of a page: joins sent, and requests still open (the result streams)."""

    def __init__(self, page):
        self.open: set = set()
        self.joins = 0
        page.on("request", self._start)
        page.on("requestfinished", self._end)
        page.on("requestfailed", self._end)

    def _start(self, request):
        if "/gradio_api/queue/" in request.url or "/gradio_api/run/" in request.url:  # run/: events outside the queue
            self.open.add(request)
            self.joins += "/queue/join" in request.url or "/gradio_api/run/" in request.url

    def _end(self, request):
        self.open.discard(request)


@dataclass
class Session:
    page: object
    queue: Queue
    lang: str
    errors: list[str] = field(default_factory=list)  # JavaScript exceptions and console errors
    events: Path | None = None  # the server's record of handlers started and ended
    covered: dict = field(default_factory=dict)  # tab -> {kind: count exercised}

    def settle(self, since: int | None = None, started_within: float = 0.6, quiet: float = 0.25, timeout: float = 60) -> None:
        """Wait until the page has sent what the action triggered and every result is in (no sleeps beyond polling).

        ``since``: the number of events sent before the action (the page may have sent the new
        one already, while the action itself was being performed).
        """
        page, start = self.page, time.monotonic()
        joins = self.queue.joins if since is None else since
        while self.queue.joins == joins and not self.queue.open and time.monotonic() - start < started_within:
            page.wait_for_timeout(20)
        quiet_since = None
        while time.monotonic() - start < timeout:
            busy = bool(self.queue.open) or page.locator(".eta-bar, .progress-text, .progress-level").count() > 0
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet:
                return
            page.wait_for_timeout(20)
        progress = page.locator(".eta-bar, .progress-text, .progress-level").count()
        still_open = sorted(request.url.split("/gradio_api/")[-1][:80] for request in self.queue.open)
        raise AssertionError(
            f"the page never settled: {self.queue.joins - joins} events sent in {timeout:.0f} s, "
            f"{progress} progress elements shown, requests open: {still_open}; "
            f"handlers the server started and did not end: {self.unfinished()}"
        )

    def unfinished(self) -> list[str]:
        """Handlers with more starts than ends in the server's record (any session)."""
        if self.events is None or not self.events.exists():
            return []
        running: dict[str, int] = {}
        for line in self.events.read_text(encoding="utf-8").splitlines():
            _, kind, name, session = line.split(" ", 3)
            running[f"{name} ({session})"] = running.get(f"{name} ({session})", 0) + (1 if kind == "start" else -1)
        return [name for name, count in running.items() if count]

    def check(self, panel, tab_id: str, what: str, layout: TabConfig | None = None, status_may_be_empty: bool = False) -> None:
        """After an action: no error anywhere, and (given the tab's layout) every output of the tab filled."""
        page = self.page
        toasts = page.locator(".toast-body.error")
        assert toasts.count() == 0, (what, toasts.all_inner_texts())
        body = page.inner_text("body")
        assert not any(words in body for words in FAILURE_WORDS), (what, body[:2000])
        assert self.errors == [], (what, self.errors)
        if layout is not None:
            expected = {kind: len(layout.of(kind, accordion=None)) for kind in ("plot", "dataframe", "highlightedtext", "label")}
            markdowns = layout.of("markdown", accordion=None)
            expected["status"] = [i for i, node in enumerate(markdowns) if node.id in layout.outputs and not status_may_be_empty]
            status_indices = expected.pop("status")
            deadline = time.monotonic() + 10  # plotly draws a figure a moment after gradio hands it over
            while True:
                filled = panel.evaluate(FILLED_OUTPUTS_JS)
                if {kind: filled[kind] for kind in expected} == expected or time.monotonic() > deadline:
                    break
                page.wait_for_timeout(200)
            statuses = [filled["markdowns"][i] for i in status_indices]
            assert all(text.strip() for text in statuses), (tab_id, what, "an empty status line", statuses)
            assert len(filled["markdowns"]) == len(markdowns), (tab_id, what, "markdown blocks", filled["markdowns"])
            got = {kind: filled[kind] for kind in expected}
            assert got == expected, (tab_id, what, "filled outputs (got, expected)", got, expected)


FILLED_OUTPUTS_JS = """(panel) => {
  const outside = el => !el.closest('.gr-accordion');
  const all = s => [...panel.querySelectorAll(s)].filter(outside);
  return {
    plot: all('.js-plotly-plot')
      .filter(p => p.querySelector('.main-svg') && (p.querySelector('.gtitle') || {}).textContent).length,
    dataframe: all('table.header-table').filter(t => t.closest('.block').querySelector('[data-testid^=cell-0-]')).length,
    highlightedtext: all('[data-testid=highlighted-text]')
      .filter(h => [...h.querySelectorAll('.token .text')].some(t => t.textContent.trim())).length,
    label: all('[data-testid=label]').filter(l => (l.querySelector('[data-testid=label-output-value]') || {}).textContent).length,
    markdowns: all('[data-testid=markdown]').map(m => m.innerText),
  };
}"""


@pytest.fixture(scope="module")
def browser():
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def sessions(browser, server):
    """One page per language, opened once (the page load runs every tab)."""
    opened: dict[str, Session] = {}

    def open_page(lang: str) -> Session:
        if lang not in opened:
            context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale=LANGUAGES[lang])
            page = context.new_page()
            session = Session(page, Queue(page), lang, events=Path(str(server.logs[0]) + ".events"))
            page.on("pageerror", lambda error: session.errors.append(f"pageerror: {error}"))
            page.on("console", lambda m: session.errors.append(f"console: {m.text}") if m.type == "error" else None)
            page.on("dialog", lambda dialog: (session.errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
            page.goto(f"{server.url}?lang={lang}")
            page.get_by_role("tab", name=tab_name(TABS[0], lang), exact=True).wait_for(timeout=60_000)
            session.settle(started_within=5)
            opened[lang] = session
        return opened[lang]

    def discard(lang: str) -> None:
        """Close a page a failed test left in an unknown state: the next test opens a fresh one."""
        session = opened.pop(lang, None)
        if session is not None:
            session.page.screenshot(path=str(OUT / f"failed-{lang}.png"), full_page=True)
            session.page.context.close()

    open_page.discard = discard
    yield open_page
    for session in opened.values():
        session.page.context.close()


def tab_name(spec, lang: str) -> str:
    return render(Msg(spec.label_key), lang)


# ---- reading the page -----------------------------------------------------------------------

# An example: a gallery button, or the first cell of a row of the examples table (several inputs).
EXAMPLE_ITEMS = ".gallery-item, [data-testid^=dataset-cell-][data-testid$='-0']"
TITLES_JS = "panel => [...panel.querySelectorAll('.gtitle')].map(t => t.textContent)"
CONTROLS_JS = """(panel) => {
  const EXAMPLE_ITEMS = JSON_EXAMPLE_ITEMS;
  const accordions = [...panel.querySelectorAll('.gr-accordion')];
  const where = el => el.closest('.gr-accordion') ? accordions.indexOf(el.closest('.gr-accordion')) : -1;
  const known = new Set();
  const take = (kind, els) => els.map(el => { known.add(el); return {kind, accordion: where(el)}; });
  const q = s => [...panel.querySelectorAll(s)];
  const found = [
    ...take('button', q('button.lg')),
    ...take('example', q(EXAMPLE_ITEMS)),
    ...take('textbox', q('[data-testid=textbox]')),
    ...take('slider', q('input[type=range]')),
    ...take('number', q('[data-testid=number-input]')),
    ...take('reset', q('[data-testid=reset-button]')),
    ...take('checkbox', q('input[type=checkbox]')),
    ...take('dropdown', q('input[role=combobox]')),
    ...take('accordion', q('.gr-accordion > .label-wrap, .gr-accordion button.label-wrap')),
  ];
  const radios = new Set(q('input[type=radio]').map(r => { known.add(r); return r.closest('.block'); }));  // one group a block
  radios.forEach(block => found.push({kind: 'radio', accordion: where(block)}));
  q('[data-testid^=dataset-cell]').forEach(el => known.add(el));
  // What belongs to an output's own toolbar: plotly's modebar, a table's menus and hidden upload,
  // a legend, the confidence bars of a label, the bertviz frame.
  const internal = el => el.closest('.js-plotly-plot, [role=toolbar], [data-testid=highlighted-text], [data-testid=label]')
    || el.closest('.block')?.querySelector('table.header-table') || el.matches('[data-testid=file-upload]')
    || el.closest('iframe');
  const unknown = q('button, input, textarea, select, [role=combobox], [contenteditable=true]')
    .filter(el => !known.has(el) && !el.closest('[data-testid^=dataset-cell]') && !internal(el))
    .map(el => el.outerHTML.slice(0, 200));
  return {found, unknown};
}""".replace("JSON_EXAMPLE_ITEMS", json.dumps(EXAMPLE_ITEMS))


def controls(panel) -> tuple[dict[str, int], list[str]]:
    """Counts per kind of the controls in the tab's DOM (open accordions included), and unknown elements."""
    result = panel.evaluate(CONTROLS_JS)
    counts: dict[str, int] = {}
    for item in result["found"]:
        counts[item["kind"]] = counts.get(item["kind"], 0) + 1
    return counts, result["unknown"]


def titles(panel) -> list[str]:
    return panel.evaluate(TITLES_JS)


def number_in(text: str, value: float) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(format_number(value))}(?![\d.])", text) is not None


def format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# ---- driving each kind of control ---------------------------------------------------------


class Driver:
    def __init__(self, session: Session, tab_id: str, layout: TabConfig, config: dict | None = None):
        self.session, self.page, self.tab_id, self.layout, self.config = session, session.page, tab_id, layout, config
        self.panel = self.page.locator(f"#{tab_id}")
        self.done: dict[str, int] = {}
        self.status_may_be_empty = tab_id in STATUS_MAY_BE_EMPTY
        self.baseline = session.queue.joins  # events sent so far (the page is settled when a driver starts)

    def count(self, kind: str) -> None:
        self.done[kind] = self.done.get(kind, 0) + 1

    def act(self, what: str, expect_event: bool = True, in_page: bool = False) -> None:
        """After an action: wait for its results, check the page. Events are counted from the end of the previous act.
        ``in_page``: the control redraws in the page (issue 11): nothing may reach the server."""
        self.session.settle(since=self.baseline)
        if in_page:
            assert self.session.queue.joins == self.baseline, f"{self.tab_id}: {what} called the server"
        elif expect_event:
            assert self.session.queue.joins > self.baseline, f"{self.tab_id}: {what} sent nothing to the server"
        self.baseline = self.session.queue.joins
        self.session.check(self.panel, self.tab_id, what, self.layout, self.status_may_be_empty)

    def statuses(self) -> list[str]:
        return self.panel.locator("[data-testid=markdown]").all_inner_texts()

    # examples and text boxes
    def examples(self) -> None:
        datasets = self.layout.of("dataset")
        boxes = self.layout.of("textbox")
        for dataset in datasets:
            targets = [n.id for n in boxes]
            items = self.panel.locator(EXAMPLE_ITEMS)
            assert items.count() == len(dataset.props["samples"]), (self.tab_id, "examples")
            labels = self.panel.locator("[data-testid=block-info]").all_inner_texts()
            for index, sample in enumerate(dataset.props["samples"]):
                items.nth(index).click()
                self.act(f"example {index + 1}")
                # the example brings its text, not the English labels the boxes were built with
                assert self.panel.locator("[data-testid=block-info]").all_inner_texts() == labels, (self.tab_id, "labels")
                checks = [n.id for n in self.layout.of("checkbox")]
                radios = {n.id: n for n in self.layout.of("radio")}
                for column, component_id in enumerate(dataset.props["component_ids"]):
                    if component_id in radios:  # a radio the example sets (Embeddings: the pooling)
                        values = [choice[1] for choice in radios[component_id].props["choices"]]
                        groups = self.panel.locator(".block:has(input[type=radio])").all()
                        groups = [g for g in groups if g.locator(".block input[type=radio]").count() == 0]  # innermost
                        options = groups[list(radios).index(component_id)].locator("input[type=radio]")
                        picked = [i for i in range(options.count()) if options.nth(i).is_checked()]
                        assert picked == [values.index(sample[column])], (self.tab_id, "example radio", index)
                        continue
                    if component_id in checks:  # a checkbox the example sets (Compare: positions off)
                        box = self.panel.locator("input[type=checkbox]").nth(checks.index(component_id))
                        ticked = sample[column] == "✓"  # the table shows ✓ / – (ui.common.MarkedCheckbox)
                        assert box.is_checked() == ticked, (self.tab_id, "example checkbox", index)
                        continue
                    if component_id not in targets:  # a model menu: it shows the example's model
                        chosen = str(sample[column])
                        if model_availability(chosen) == "unavailable":  # offline: the example ran on the offline
                            chosen = OFFLINE_DEFAULT[REGISTRY[chosen].task]  # default, and the menu shows what ran
                        menu = self.panel.locator(".model-menu input[role=combobox]")
                        assert menu.input_value().startswith(chosen), (self.tab_id, "example model", index)
                        continue
                    box = self.panel.locator("[data-testid=textbox]").nth(targets.index(component_id))
                    assert box.input_value() == sample[column], (self.tab_id, "example", index)
                self.count("example")

    def scope(self, accordion: int):
        """Where controls of ``accordion`` live (-1: the tab outside any accordion, listed first in the DOM)."""
        return self.panel if accordion < 0 else self.accordions().nth(accordion)

    def nodes_in(self, kind: str, accordion: int) -> list[Node]:
        return self.layout.of(kind, accordion=None if accordion < 0 else self.layout.of("accordion")[accordion].id)

    def textboxes(self, accordion: int = -1) -> None:
        for index, node in enumerate(self.nodes_in("textbox", accordion)):
            box = self.scope(accordion).locator("[data-testid=textbox]").nth(index)
            box.fill(box.input_value())  # as typed: the current text, so later results stay meaningful
            # gradio: Enter submits a one-line box, Shift+Enter a box of several lines
            box.press("Enter" if int(node.props.get("lines", 1)) == 1 else "Shift+Enter")
            self.act(f"text box {node.props.get('label')}", expect_event=node.id in self.layout.submit_targets)
            self.count("textbox")

    # buttons
    def buttons(self, accordion: int = -1) -> None:
        buttons = self.panel.locator("button.lg")
        for index in range(buttons.count()):
            button = buttons.nth(index)
            if self.in_accordion(button) != accordion:
                continue
            name = button.inner_text()
            button.click()
            self.act(f"button {name!r}")
            if accordion >= 0:  # a button inside an accordion writes there
                box = self.accordions().nth(accordion)
                written = [text for text in box.locator("[data-testid=markdown]").all_inner_texts() if text.strip()]
                assert written, (self.tab_id, f"{name!r} showed nothing")
                if name == render(Msg("att.check_button"), self.session.lang):  # the numpy check says how close it is
                    assert any(NUMPY_CHECK.search(text) for text in written), (self.tab_id, written)
            self.count("button")

    def in_accordion(self, locator) -> int:
        return locator.evaluate(
            "(el, panel) => el.closest('.gr-accordion') ? [...panel.querySelectorAll('.gr-accordion')]"
            ".indexOf(el.closest('.gr-accordion')) : -1",
            self.panel.element_handle(),
        )

    def accordions(self):
        return self.panel.locator(".gr-accordion")

    # sliders: drag, keys, typed number, reset
    def sliders(self, accordion: int = -1) -> None:
        nodes = self.nodes_in("slider", accordion)
        scope = self.scope(accordion)
        for index, node in enumerate(nodes):
            slider = scope.locator("input[type=range]").nth(index)
            number = scope.locator("[data-testid=number-input]").nth(index)
            label = node.props.get("label")
            low, high, step = float(slider.get_attribute("min")), float(slider.get_attribute("max")), float(node.props["step"])
            initial = float(number.input_value())

            def repainted(how, before, expected=None, slider=slider, number=number, label=label) -> None:
                value = float(number.input_value())
                assert float(slider.input_value()) == value, (self.tab_id, label, how)
                if expected is not None:
                    assert value == expected, (self.tab_id, label, how, value, expected)
                after = titles(self.panel)
                assert after != before, (self.tab_id, f"{label} by {how}: the plots were not redrawn", before)
                named = any(number_in(title, value) for title in after)
                if value == MEAN_OF_HEADS:  # the QA head slider's -1 is drawn as "mean of heads"
                    named = named or any(render(Msg("qa.mean_of_heads"), self.session.lang) in title for title in after)
                assert named, (self.tab_id, label, how, value, after)

            # drag the thumb with the mouse, a quarter of the track (at least one step)
            before, value = titles(self.panel), float(number.input_value())
            slider.scroll_into_view_if_needed()  # the mouse does not scroll
            box = slider.bounding_box()
            fraction = (value - low) / (high - low)
            target = fraction + (0.25 if fraction <= 0.5 else -0.25)
            y = box["y"] + box["height"] / 2
            self.page.mouse.move(box["x"] + 8 + fraction * (box["width"] - 16), y)
            self.page.mouse.down()
            self.page.mouse.move(box["x"] + 8 + target * (box["width"] - 16), y, steps=6)
            self.page.mouse.up()
            self.act(f"drag {label}", in_page=node.id in self.layout.in_page)
            assert float(number.input_value()) != value, (self.tab_id, label, "the drag moved nothing")
            repainted("drag", before)
            # the arrow keys
            before, value = titles(self.panel), float(number.input_value())
            slider.focus()
            self.page.keyboard.press("ArrowRight" if value + step <= high else "ArrowLeft")
            self.act(f"arrow key on {label}", in_page=node.id in self.layout.in_page)
            repainted("arrow key", before, value + step if value + step <= high else value - step)
            # a typed number, then Enter
            before, value = titles(self.panel), float(number.input_value())
            typed = next(v for v in (low, low + step, high) if v not in (value, initial))
            number.fill(format_number(typed))
            number.press("Enter")
            self.act(f"typed number in {label}", in_page=node.id in self.layout.in_page)
            repainted("typed number", before, typed)
            # the reset button brings the value of the page load back
            before = titles(self.panel)
            scope.locator("[data-testid=reset-button]").nth(index).click()
            self.act(f"reset {label}", in_page=node.id in self.layout.in_page)
            repainted("reset", before, float(node.props["value"]))
            self.done["slider"] = self.done.get("slider", 0) + 1
            for kind in ("number", "reset"):
                self.count(kind)

    def checkboxes(self) -> None:
        boxes = self.panel.locator("input[type=checkbox]")
        in_page = {n.props.get("elem_id") for n in self.layout.of("checkbox") if n.id in self.layout.in_page} - {None}
        for index in range(boxes.count()):
            box = boxes.nth(index)
            label = box.evaluate("el => el.closest('label, .block').innerText")
            block = box.evaluate("el => el.closest('.block[id]')?.id || null")
            initial = box.is_checked()  # each box of a group too: switched and switched back
            for state in (not initial, initial):
                box.set_checked(state)
                self.act(f"checkbox {label!r} {state}", in_page=block in in_page)
                assert box.is_checked() == state
            self.count("checkbox")

    def radios(self, accordion: int = -1) -> None:
        groups = self.panel.locator(".block:has(> * input[type=radio]), .block:has(input[type=radio])")
        groups = [g for g in groups.all() if g.locator(".block input[type=radio]").count() == 0]  # the innermost blocks
        for group in groups:
            options = group.locator("input[type=radio]")
            name = group.locator("[data-testid=block-info]").first.inner_text()
            if self.in_accordion(options.first) != accordion:
                continue
            original = next(i for i in range(options.count()) if options.nth(i).is_checked())
            other = next(i for i in range(options.count()) if i != original)
            for choice in (other, original):
                before = (self.statuses(), self.frames_text(), titles(self.panel))
                options.nth(choice).check()
                self.act(f"radio {name} -> {choice}")
                assert options.nth(choice).is_checked()
                after = (self.statuses(), self.frames_text(), titles(self.panel))
                assert after != before, (self.tab_id, "the radio changed nothing")
            self.count("radio")

    # tables that answer a click on a cell (the Heads tab's grid and ranking)
    def tables(self) -> None:
        """Click a cell of every table with a select listener, under each option of the radios that
        listener reads. A click either opens another tab (checked filled, with this tab's text, then
        this tab is selected again) or changes this tab (a text box or a status line)."""
        tables = {n.id for n in self.layout.of("dataframe")}
        radios = {n.id: n for n in self.layout.of("radio")}
        listeners = [
            d
            for d in self.config["dependencies"]
            if any(event == "select" and target in tables for target, event in d["targets"])
        ]
        for listener in listeners:
            table_id = next(target for target, event in listener["targets"] if event == "select")
            options = [
                (radio, value) for radio in listener["inputs"] if radio in radios for _, value in radios[radio].props["choices"]
            ]
            for radio, value in options or [(None, None)]:
                if radio is not None:
                    choice = self.element(radio).locator(f"input[type=radio][value='{value}']")
                    if not choice.is_checked():
                        choice.check()
                        self.act(f"radio {value} before a table click")
                before = (
                    self.page.locator("button[role=tab][aria-selected=true]").inner_text(),
                    self.textbox_values(),
                    self.statuses(),
                )
                cell = self.element(table_id).locator("[data-testid=cell-1-2]")
                cell.scroll_into_view_if_needed()
                cell.click()
                self.session.settle(since=self.baseline)
                assert self.session.queue.joins > self.baseline, (self.tab_id, "a table click sent nothing")
                self.baseline = self.session.queue.joins
                selected = self.page.locator("button[role=tab][aria-selected=true]").inner_text()
                if selected != before[0]:
                    opened = next(spec for spec in TABS if tab_name(spec, self.session.lang) == selected)
                    other = self.page.locator(f"#{opened.id}")
                    self.session.check(
                        other, opened.id, f"opened from a table of {self.tab_id}", tab_config(self.config, opened.id)
                    )
                    text = before[1][0]
                    assert text in other.locator("[data-testid=textbox]").first.input_value(), (
                        self.tab_id,
                        "opened without the text",
                    )
                    self.page.get_by_role("tab", name=before[0], exact=True).click()
                    self.act("back from the opened tab", expect_event=False)
                else:
                    assert (self.textbox_values(), self.statuses()) != before[1:], (self.tab_id, "a table click changed nothing")
                    self.session.check(self.panel, self.tab_id, "table click", self.layout, self.status_may_be_empty)
                self.count("table")
            if options:  # the radio back to its first option, as the page loaded it
                self.element(options[0][0]).locator(f"input[type=radio][value='{options[0][1]}']").check()
                self.act("radio back")

    def textbox_values(self) -> list[str]:
        return [box.input_value() for box in self.panel.locator("[data-testid=textbox]").all()]

    def element(self, node_id: int):
        """A control by its ``elem_id`` (gradio's DOM carries no component ids): tables with a select
        listener and the radios they read must have one."""
        node = next(n for n in self.layout.nodes if n.id == node_id)
        assert node.props.get("elem_id"), (self.tab_id, f"give the {node.type} {node.props.get('label')!r} an elem_id")
        return self.page.locator(f"#{node.props['elem_id']}")

    def frames_text(self) -> str:
        """The documents of the tab's frames (bertviz: its two views differ), empty without one."""
        return "".join(frame.get_attribute("srcdoc") or "" for frame in self.panel.locator("iframe").all())

    def pick(self, dropdown, avoid: str | None = None, prefer=None) -> str:
        """Open a dropdown and choose an option other than the current one; returns its text."""
        dropdown.click()
        options = self.page.locator("[role=option]")
        options.first.wait_for()
        texts = [t.replace("✓", "").strip() for t in options.all_inner_texts()]
        current = dropdown.input_value()
        candidates = [i for i, t in enumerate(texts) if t != current and t != avoid]
        if prefer:
            candidates.sort(key=lambda i: not prefer(texts[i]))
        choice = candidates[0]
        options.nth(choice).click()
        return texts[choice]

    def dropdowns(self) -> None:
        menus = self.panel.locator("input[role=combobox]")
        in_page = {n.props.get("elem_id") for n in self.layout.of("dropdown") if n.id in self.layout.in_page} - {None}
        for index in range(menus.count()):
            menu = menus.nth(index)
            if menu.evaluate("el => !!el.closest('.model-menu')"):
                continue
            before = titles(self.panel)
            chosen = self.pick(menu)
            block = menu.evaluate("el => el.closest('.block[id]')?.id || null")
            self.act(f"dropdown {menu.get_attribute('aria-label')} -> {chosen}", in_page=block in in_page)
            assert menu.input_value() == chosen
            assert titles(self.panel) != before, (self.tab_id, "choosing a token redrew nothing")
            self.count("dropdown")

    def model_menu(self, primary) -> None:
        menu = self.panel.locator(".model-menu input[role=combobox]")
        assert menu.count() == 1, (self.tab_id, "one model menu")
        original = menu.input_value()
        embedded = render(Msg("model.suffix_embedded", model="\0"), self.session.lang).split("\0")[1]
        for step in ("another", "back"):
            if step == "another":
                chosen = self.pick(menu, prefer=lambda text: text.endswith(embedded))  # offline models first
            else:
                menu.click()
                self.page.locator("[role=option]").filter(has_text=original).first.click()
                chosen = original
            triggers = self.layout.change_targets
            model_node = next(n for n in self.layout.of("dropdown") if "model-menu" in (n.props.get("elem_classes") or []))
            self.act(f"model menu -> {chosen}", expect_event=model_node.id in triggers)
            primary.click()
            self.act(f"{primary.inner_text()} with {chosen}")
            model_id = re.split(r"[ (（]", chosen)[0]
            assert model_id in REGISTRY, chosen
            said = " ".join(self.statuses()) + " ".join(titles(self.panel))
            assert model_id in said, (self.tab_id, "the result does not name the model", said[:300])
        self.count("dropdown")

    def accordion(self, index: int) -> dict[str, int]:
        """Open, drive what is inside, close; returns the controls found inside (counted with the tab's)."""
        accordion = self.accordions().nth(index)
        header = accordion.locator(".label-wrap").first
        header.click()
        self.act(f"open accordion {index}", expect_event=False)
        assert accordion.locator(".label-wrap.open").count() == 1, (self.tab_id, "the accordion did not open")
        if accordion.locator("[data-testid=markdown], button, input").count() == 0:
            raise AssertionError(f"{self.tab_id}: accordion {index} shows nothing when open")
        drawn = bool(self.layout.of("html", accordion=self.layout.of("accordion")[index].id))  # bertviz's frame
        if drawn:
            accordion.locator("iframe").first.wait_for(timeout=60_000)
            accordion.frame_locator("iframe").first.locator("svg line").first.wait_for(state="attached", timeout=60_000)
        counts, _ = controls(accordion)
        self.textboxes(accordion=index)
        self.sliders(accordion=index)
        self.buttons(accordion=index)
        self.radios(accordion=index)
        if drawn:
            accordion.frame_locator("iframe").first.locator("svg line").first.wait_for(state="attached", timeout=60_000)
        header.click()
        self.act(f"close accordion {index}", expect_event=False)
        assert accordion.locator(".label-wrap.open").count() == 0, (self.tab_id, "the accordion did not close")
        self.count("accordion")
        return counts


def visible_text(page, panel) -> str:
    """The page's text and the tab's plot texts. Without gradio's screen-reader announcer (``.sr-only``):
    gradio 6.31 announces its untranslated key "common.complete" there, in every language."""
    return page.evaluate(
        """panel => {
      let text = document.body.innerText;
      for (const hidden of document.querySelectorAll('.sr-only, .katex')) {  // + formulas (KaTeX): symbols, not words
        if (hidden.innerText.trim()) text = text.split(hidden.innerText).join(' ');
      }
      return text + '\\n' + [...panel.querySelectorAll('svg text')].map(t => t.textContent).join('\\n');
    }""",
        panel.element_handle(),
    )


def data_words(page) -> set[str]:
    """Words the page shows as data: model ids, inputs, examples, table cells, tokens, tick labels."""
    texts = page.evaluate(
        """() => [
      ...[...document.querySelectorAll('textarea, input')].map(i => i.value),
      ...[...document.querySelectorAll('[role=option], .gallery-item, [data-testid^=dataset-cell], [data-testid^=cell-]')]
        .map(e => e.textContent),
      ...[...document.querySelectorAll('.token .text, .xtick text, .ytick text')].map(e => e.textContent),
    ]"""
    )
    texts += list(REGISTRY)
    return {word for text in texts for word in ENGLISH_WORD.findall(text or "")}


# ---- the tests ----------------------------------------------------------------------------

TAB_IDS = [spec.id for spec in TABS]


def test_every_tab_has_only_controls_this_test_can_drive(config):
    for spec in TABS:
        kinds = {node.type for node in tab_config(config, spec.id).nodes}
        assert kinds <= INPUT_TYPES | OUTPUT_TYPES | LAYOUT_TYPES, (spec.id, kinds - INPUT_TYPES - OUTPUT_TYPES - LAYOUT_TYPES)


def test_no_slider_has_two_always_last_change_listeners(config):
    """gradio 6.31: after the reset button (↺), a slider with two ``always_last`` change listeners fires
    ``change`` forever (the page never settles). One listener, chained with ``.then``, is fine."""
    sliders = {c["id"]: c["props"].get("label") for c in config["components"] if c["type"] == "slider"}
    listeners = {
        slider: [
            d["api_name"]
            for d in config["dependencies"]
            if [slider, "change"] in d["targets"] and d["trigger_mode"] == "always_last"
        ]
        for slider in sliders
    }
    assert {sliders[s]: names for s, names in listeners.items() if len(names) > 1} == {}


@pytest.mark.parametrize("lang", list(LANGUAGES))
@pytest.mark.parametrize("tab_id", TAB_IDS)
def test_every_control_of_the_tab(sessions, config, lang, tab_id):
    try:
        drive_every_control(sessions, config, lang, tab_id)
    except BaseException:
        sessions.discard(lang)
        raise


def drive_every_control(sessions, config, lang: str, tab_id: str) -> None:
    spec = next(spec for spec in TABS if spec.id == tab_id)
    session = sessions(lang)
    page = session.page
    page.get_by_role("tab", name=tab_name(spec, lang), exact=True).click()
    layout = tab_config(config, tab_id)
    session.settle()
    driver = Driver(session, tab_id, layout, config)
    panel = driver.panel
    panel.wait_for()
    session.check(panel, tab_id, "opened", layout, driver.status_may_be_empty)

    present, unknown = controls(panel)
    assert unknown == [], f"{tab_id}: elements this test does not drive: {unknown}"
    primary = panel.get_by_role("button", name=render(Msg(spec.primary_key), lang), exact=True)
    assert primary.count() == 1, (tab_id, "the primary button")

    driver.examples()
    driver.textboxes()
    driver.buttons()
    driver.sliders()
    driver.checkboxes()
    driver.radios()
    driver.tables()
    driver.dropdowns()
    driver.model_menu(primary)
    for index in range(driver.accordions().count()):
        inside = driver.accordion(index)
        for kind, count in inside.items():
            if kind != "accordion":
                present[kind] = present.get(kind, 0) + count

    # Everything present was exercised, and the DOM holds what the app declares.
    declared = {
        "button": len(layout.of("button")),
        "example": sum(len(n.props["samples"]) for n in layout.of("dataset")),
        "textbox": len(layout.of("textbox")),
        "slider": len(layout.of("slider")),
        "number": len(layout.of("slider")),
        "reset": len(layout.of("slider")),
        "checkbox": len(layout.of("checkbox")) + sum(len(n.props["choices"]) for n in layout.of("checkboxgroup")),
        "radio": len(layout.of("radio")),
        "dropdown": len(layout.of("dropdown")),
        "accordion": len(layout.of("accordion")),
    }
    declared["table"] = sum(
        max(1, sum(len(n.props["choices"]) for n in layout.of("radio") if n.id in d["inputs"]))
        for d in config["dependencies"]
        for target, event in d["targets"]
        if event == "select" and target in {n.id for n in layout.of("dataframe")}
    )
    present["table"] = declared["table"]  # counted from the app's listeners: a cell looks like any table's
    declared = {kind: count for kind, count in declared.items() if count}
    present = {kind: count for kind, count in present.items() if count}
    assert present == declared, (tab_id, "DOM vs app", present, declared)
    assert driver.done == present, (tab_id, "exercised vs present", driver.done, present)
    session.covered[tab_id] = dict(driver.done)
    print(f"\n{lang} {tab_id}: exercised {dict(sorted(driver.done.items()))}")

    page.screenshot(path=str(OUT / f"{tab_id}-{lang}.png"), full_page=True)
    if lang == "ja":
        text = visible_text(page, panel)
        allowed = ALLOWED_IN_JAPANESE | data_words(page)
        words = set(ENGLISH_WORD.findall(PATH.sub(" ", text)))
        assert words & data_words(page) and "BERT" in words, (tab_id, "the text check reads no text")  # not vacuous
        english = sorted(words - allowed)
        where = {word: re.search(rf".{{0,40}}{re.escape(word)}.{{0,40}}", text, re.S).group(0) for word in english}
        print(f"ja {tab_id}: English words left: {where}")
        assert english == [], (tab_id, where)


def test_every_tab_was_driven_in_both_languages(sessions):
    for lang in LANGUAGES:
        assert set(sessions(lang).covered) == set(TAB_IDS), lang


def test_the_server_logged_no_exception(server):
    assert server.process.poll() is None, "the server died"
    assert server.problems() == []
