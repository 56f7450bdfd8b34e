"""bertviz views offline: vendored scripts intact, compact payload, hostile tokens stay text.

The browser tests at the end render the views in Chromium with every network request
refused; they skip where no Chromium is installed (CI installs it).
"""

from __future__ import annotations

import hashlib
import html
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from explorer import bertviz_views as bv
from explorer.analysis import Analysis
from explorer.errors import InputError
from explorer.messages import Msg

HOSTILE = ("</script><img src=x onerror=alert(1)>", "<script>alert(2)</script>", '"><svg onload=alert(3)>', "&amp;")


def hand_made(tokens: tuple[str, ...], layers: int = 2, heads: int = 3, seed: int = 0) -> Analysis:
    rng = np.random.default_rng(seed)
    n = len(tokens)
    scores = rng.normal(scale=3.0, size=(layers, heads, n, n))
    attentions = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    return Analysis(
        model_name="hand-made",
        text=" ".join(tokens),
        tokens=tokens,
        token_ids=np.arange(n),
        offsets=tuple(None for _ in tokens),
        special_mask=np.zeros(n, dtype=bool),
        attention_mask=np.ones(n, dtype=np.int64),
        attentions=attentions.astype(np.float32),
        hidden_states=rng.normal(size=(layers + 1, n, 4)).astype(np.float32),
    )


def vendored_sums() -> dict[str, str]:
    readme = (bv.VENDOR / "README.md").read_text()
    return {name: digest for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, re.M)}


def test_vendored_scripts_match_their_published_sha256():
    sums = vendored_sums()
    assert set(sums) == {*bv.SCRIPTS, *bv.VIEW_SCRIPTS.values()}
    for name, digest in sums.items():
        assert hashlib.sha256((bv.VENDOR / name).read_bytes()).hexdigest() == digest, name
    for licence in ("d3-LICENSE.txt", "jquery-LICENSE.txt", "bertviz-LICENSE.txt"):
        assert (bv.VENDOR / licence).stat().st_size > 500


def decode(packed: dict) -> np.ndarray:
    """Python twin of the page's unpackAttention()."""
    import base64

    shape = packed["shape"]
    counts = np.frombuffer(base64.b64decode(packed["counts"]), "<u2")
    keys = np.frombuffer(base64.b64decode(packed["keys"]), "<u2")
    values = np.frombuffer(base64.b64decode(packed["values"]), "<f2").astype(np.float32)
    dense = np.zeros((int(np.prod(shape[:-1])), shape[-1]), np.float32)
    rows = np.repeat(np.arange(len(counts)), counts)
    dense[rows, keys] = values
    return dense.reshape(shape)


def test_packing_keeps_every_weight_above_the_threshold_to_float16_precision():
    weights = hand_made(tuple("abcdefgh"), layers=3, heads=4).attentions
    packed = bv.pack_attention(weights, 0.01)
    restored = decode(packed)
    kept = weights >= 0.01
    np.testing.assert_allclose(restored[kept], weights[kept], rtol=1e-3, atol=1e-4)
    assert (restored[~kept] == 0).all()
    assert 0 < kept.sum() < weights.size  # the test data exercises both branches


def test_threshold_rises_until_the_data_fits_the_budget(monkeypatch):
    analysis = hand_made(tuple(f"t{i}" for i in range(40)), layers=2, heads=12)
    small = bv.head_view(analysis, 0)
    assert small.threshold == bv.THRESHOLDS[0] and small.notes == ()
    monkeypatch.setattr(bv, "DATA_BUDGET_BYTES", small.data_bytes // 3)
    squeezed = bv.head_view(analysis, 0)
    assert squeezed.threshold > bv.THRESHOLDS[0] and squeezed.data_bytes <= small.data_bytes // 3
    notes = [note for note in squeezed.notes if note.key == "bertviz.threshold"]
    assert len(notes) == 1 and dict(notes[0].params)["threshold"] == f"{squeezed.threshold:g}"
    assert "not sent" in str(notes[0])


def test_model_view_keeps_layers_within_the_line_budget():
    assert bv.model_view_layers(6, 12, 16, around=3) == list(range(6))
    layers = bv.model_view_layers(24, 16, 384, around=23, max_lines=5_000_000)
    assert layers[-1] == 23 and len(layers) == 5_000_000 // (16 * 384 * 384)
    assert bv.model_view_layers(24, 16, 512, around=0, max_lines=10) == [0]  # always one layer


def test_head_view_shows_one_layer_and_caps_tokens():
    analysis = hand_made(tuple(f"w{i}" for i in range(150)), layers=3, heads=2)
    view = bv.head_view(analysis, -1)
    assert view.layers == (2,) and view.n_tokens == bv.MAX_TOKENS
    assert Msg("bertviz.tokens_cut", shown=128, total=150) in view.notes
    assert any("first 128 of 150 tokens" in str(note) for note in view.notes)
    with pytest.raises(InputError) as error:
        bv.render(analysis, "neuron", 0)
    assert error.value.msg.key == "bertviz.unknown_view" and "'neuron'" in str(error.value)


def test_model_view_says_which_layers_it_left_out():
    analysis = hand_made(tuple(f"w{i}" for i in range(100)), layers=6, heads=12)  # 120,000 lines a layer
    view = bv.model_view(analysis, around_layer=4)
    assert view.layers == (3, 4) and len(view.layers) == bv.MODEL_VIEW_MAX_LINES // (12 * 100 * 100)
    cut = [note for note in view.notes if note.key == "bertviz.layers_cut"]
    assert len(cut) == 1 and dict(cut[0].params)["total"] == 6


def test_out_of_range_layer_is_refused_not_wrapped():
    analysis = hand_made(("a", "b"), layers=2, heads=1)
    for kind in ("head", "model"):
        with pytest.raises(InputError) as error:
            bv.render(analysis, kind, 2)
        assert error.value.msg.key == "index.out_of_range"


def test_json_in_the_script_cannot_close_it():
    text = bv.safe_json({"tokens": list(HOSTILE) + ["\u2028"]})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    import json

    assert json.loads(text)["tokens"][:4] == list(HOSTILE)


def test_hostile_tokens_never_appear_as_markup():
    view = bv.head_view(hand_made(HOSTILE + ("ok",)), 0)
    assert view.html.startswith("<iframe") and 'sandbox="allow-scripts"' in view.html
    assert "allow-same-origin" not in view.html
    srcdoc = re.search(r'srcdoc="([^"]*)"', view.html).group(1)  # no raw quote can end the attribute early
    document = html.unescape(srcdoc)
    scripts = re.findall(r"<script>(.*?)</script>", document, re.S)
    assert len(scripts) == 4  # d3, jquery, shim, view: no token closed a script or opened one
    markup = re.sub(r"<script>.*?</script>", "", document, flags=re.S)
    assert "onerror" not in markup and "<img" not in markup and "<svg" not in markup
    assert not any("<img" in script or "<svg" in script for script in scripts[2:])  # the JSON has \\u003c instead


# --- in the real browser, offline -------------------------------------------------------------

chromium = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(chromium is None, reason="Debian chromium not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def offline_page():
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.requests = []

        def refuse(route):
            page.requests.append(route.request.url)
            route.abort()

        page.route("**/*", refuse)  # every request fails: the views must need none
        page.dialogs, page.errors = [], []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        yield page
        browser.close()


def render_in(page, view: bv.BertvizView, name: str):
    page.set_content(f"<html><body><div id='host'>{view.html}</div></body></html>")
    frame = page.frame_locator("iframe.bertviz-frame")
    frame.locator("svg line").first.wait_for(state="attached", timeout=60_000)
    out = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / f"bertviz-{name}.png"))
    return frame


@needs_browser
@pytest.mark.parametrize("kind", ["head", "model"])
def test_views_render_offline_and_hostile_tokens_stay_text(offline_page, kind):
    analysis = hand_made(("[CLS]",) + HOSTILE + ("the", "cat", "[SEP]"), layers=2, heads=3)
    frame = render_in(offline_page, bv.render(analysis, kind, 1), kind)
    lines = frame.locator("svg line").count()
    expected_lines = (1 if kind == "head" else 2) * 3 * analysis.n_tokens**2
    assert lines == expected_lines  # bertviz drew every (head, query, key) line from the unpacked data
    if kind == "model":  # tokens appear in the detail panel of a clicked thumbnail
        child = next(f for f in offline_page.frames if f != offline_page.main_frame)
        child.evaluate(
            "() => [...document.querySelectorAll('rect')].find(r => r.style.opacity === '0' && +r.getAttribute('height') > 40)"
            ".dispatchEvent(new MouseEvent('click', {bubbles: true}))"
        )
    shown = frame.locator("svg text").all_text_contents()
    for token in HOSTILE:
        assert token in shown  # the markup is displayed as the token's text...
    assert frame.locator("img").count() == 0 and frame.locator("svg svg").count() == 0  # ...not parsed
    assert offline_page.dialogs == [] and offline_page.errors == []
    assert offline_page.locator("#host img, #host script").count() == 0
    assert offline_page.requests == []  # nothing was fetched


@needs_browser
def test_line_opacity_in_the_page_matches_the_weights(offline_page):
    analysis = hand_made(("a", "b", "c", "d"), layers=1, heads=1, seed=3)
    frame = render_in(offline_page, bv.head_view(analysis, 0), "opacity-check")
    opacities = frame.locator("svg line").evaluate_all("lines => lines.map(l => +l.getAttribute('stroke-opacity'))")
    expected = analysis.attentions[0, 0].ravel()
    np.testing.assert_allclose(opacities, np.where(expected >= bv.THRESHOLDS[0], expected, 0), rtol=2e-3, atol=1e-4)


def test_the_palette_gives_twelve_heads_twelve_colours():
    assert len(set(bv.HEAD_COLOURS)) == len(bv.HEAD_COLOURS) >= 16  # BERT-large has 16 heads
    assert "HEAD_COLOURS_JSON" not in bv.head_view(hand_made(("a", "b"), layers=1, heads=12), 0).html


@needs_browser
def test_head_view_draws_twelve_heads_in_twelve_colours(offline_page):
    """Issue 16: bertviz's 10 colours made heads 10 and 11 look like heads 0 and 1."""
    analysis = hand_made(("a", "b", "c"), layers=1, heads=12, seed=5)
    frame = render_in(offline_page, bv.head_view(analysis, 0), "twelve-heads")
    # the head checkboxes above the tokens: 20 px squares, one per head, in the head's colour
    fills = frame.locator("svg rect[width='20'][height='20']").evaluate_all("rects => rects.map(r => r.getAttribute('fill'))")
    assert len(fills) == 12
    assert len(set(fills)) == 12, fills
