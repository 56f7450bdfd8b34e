"""Bilingual labels (complete catalog), language detection and shareable links (pure parts)."""

from __future__ import annotations

import gradio as gr
import pytest

import app
from explorer.ui import i18n, links


def static_texts(demo: gr.Blocks) -> list[tuple[str, str]]:
    found = []
    for block in demo.blocks.values():
        if type(block).__name__ in ("Api", "Dataset", "State"):
            continue
        for prop in i18n.PROPS:
            value = getattr(block, prop, None)
            if isinstance(value, str) and value.strip():
                found.append((type(block).__name__, value))
        if isinstance(block, i18n.TEXT_VALUE) and isinstance(block.value, str) and block.value.strip():
            found.append((type(block).__name__, block.value))
    return found


def test_every_label_help_text_and_explanation_has_a_japanese_translation():
    demo = app.build_demo()
    missing = [(kind, text[:60]) for kind, text in static_texts(demo) if text not in i18n.JA]
    assert missing == []
    assert len(i18n.collect(demo)) >= 80  # the switch reaches every one of them


def test_relabel_switches_and_switches_back():
    demo = app.build_demo()
    items = i18n.collect(demo)
    japanese = i18n.relabel(items, "ja")
    english = i18n.relabel(items, "en")
    by_label = {item.english.get("label"): (ja, en) for item, ja, en in zip(items, japanese, english, strict=True)}
    assert by_label["Layer"][0]["label"] == "層(レイヤー)" and by_label["Layer"][1]["label"] == "Layer"
    radio = next(u for item, u in zip(items, japanese, strict=True) if "choices" in item.english)
    assert ("ヘッドビュー", "head") in radio["choices"]


@pytest.mark.parametrize(
    "query, header, expected",
    [("ja", "en-US,en;q=0.9", "ja"), (None, "ja-JP,ja;q=0.9,en;q=0.8", "ja"), (None, "en-GB", "en"), ("xx", None, "en")],
)
def test_language_follows_the_link_then_the_browser(query, header, expected):
    assert i18n.detect(query, header) == expected


def test_links_are_checked_not_trusted():
    link = links.parse(
        {"tab": "attention", "text": "x" * 20_000, "model": "evil/model", "layer": "3", "head": "two", "projection": "1"},
        known_models={"all-MiniLM-L6-v2"},
    )
    assert link.tab == "attention" and len(link.text) == links.MAX_TEXT
    assert link.model is None and link.layer == 3 and link.head is None and link.projection
    assert links.parse({"tab": "<script>"}, set()).tab is None


def test_messages_from_the_code_translate():
    from explorer import presenters, text
    from explorer.errors import InputError

    samples = [text.clean_input("a\x00b").notes[0], presenters.describe_error(ValueError("x"))]
    try:
        text.clean_input("  ")
    except InputError as error:
        samples.append(str(error))
    samples += presenters.parse_dims("0, x, 999", 64)[1]
    for english in samples:
        japanese = i18n.message(english, "ja")
        assert japanese != english and any("\u3040" <= c <= "\u30ff" for c in japanese), english
        assert i18n.message(english, "en") == english
    assert i18n.message("Click Find entities first.", "ja") == "先に「固有表現を探す」を押してください。"
    assert i18n.message("A line nobody wrote a pattern for.", "ja") == "A line nobody wrote a pattern for."


def test_status_lines_follow_the_language_cookie(app_url):
    gradio_client = pytest.importorskip("gradio_client")

    japanese = gradio_client.Client(app_url, verbose=False, headers={"Cookie": f"{i18n.COOKIE}=ja"})
    english = gradio_client.Client(app_url, verbose=False)
    args = ("word " * 600, "all-MiniLM-L6-v2", 0, 0, False, False)
    ja_message = japanese.predict(*args, api_name="/attention")[0]
    en_message = english.predict(*args, api_name="/attention")[0]
    assert "層 × 12 ヘッド" in ja_message and "6 layers × 12 heads" in en_message
    assert "最大 512 トークン" in ja_message and "only the first 512 tokens" in en_message
    assert "テキストを入力" in japanese.predict("", "all-MiniLM-L6-v2", api_name="/tokenize")[0]


def test_figures_speak_japanese_too(app_url):
    import json

    gradio_client = pytest.importorskip("gradio_client")
    japanese = gradio_client.Client(app_url, verbose=False, headers={"Cookie": f"{i18n.COOKIE}=ja"})
    result = japanese.predict("The cat sat on the mat.", "all-MiniLM-L6-v2", 2, 5, True, False, api_name="/attention")
    head, row, mean, grid = (json.loads(figure["plot"]) for figure in result[1:5])
    assert head["layout"]["title"]["text"] == "2 層、ヘッド 5 — [CLS]/[SEP] を非表示"
    assert head["layout"]["xaxis"]["title"]["text"] == "キー(参照される側)"
    assert head["data"][0]["x"][0] == "1 the"  # token labels are data: never translated
    assert "ヘッド 11" in [a["text"] for a in grid["layout"]["annotations"]]
    positional = japanese.predict(64, 50, "0, 1", "all-MiniLM-L6-v2", api_name="/positional_encoding")
    curves = json.loads(positional[2]["plot"])
    assert curves["layout"]["title"]["text"].startswith("正弦波の位置エンコーディング")
