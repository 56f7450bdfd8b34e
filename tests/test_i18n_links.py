"""Bilingual page (relabelling, language detection, messages and figures in the cookie's language)
and shareable links (the parser and the share script, built from the tab table).

The catalogs themselves (every key in both languages, every label a catalog text) are checked
in test_messages.py; the "Copy link" button in a real browser in test_browser_classroom.py.
"""

from __future__ import annotations

import json

import pytest

import app
from explorer.messages import Msg, render
from explorer.ui import i18n, links
from explorer.ui.tabs import TAB_IDS, TABS

from .page_events import page_event

MODEL = "all-MiniLM-L6-v2"


def test_relabel_switches_and_switches_back():
    demo = app.build_demo()
    items = i18n.collect(demo)
    japanese = i18n.relabel(items, "ja")
    english = i18n.relabel(items, "en")
    by_label = {item.keys.get("label"): (ja, en) for item, ja, en in zip(items, japanese, english, strict=True)}
    assert by_label["ui.layer"][0]["label"] == "層(レイヤー)" and by_label["ui.layer"][1]["label"] == "Layer"
    radio = next(u for item, u in zip(items, japanese, strict=True) if item.keys.get("label") == "att.bertviz_kind")
    assert ("ヘッドビュー", "head") in radio["choices"] and ("モデルビュー", "model") in radio["choices"]
    menu = next(u for item, u in zip(items, japanese, strict=True) if item.keys.get("choices", [(None,)])[0][0] == "model")
    assert (f"{MODEL}(同梱・オフライン)", MODEL) in menu["choices"]  # model ids stay, their suffix is translated
    tabs = {item.keys["label"]: ja["label"] for item, ja in zip(items, japanese, strict=True) if "label" in item.keys}
    assert all(spec.label_key in tabs for spec in TABS)  # every tab's name follows the switch
    assert tabs["tab.tokenization"] == "トークン化"


@pytest.mark.parametrize(
    "query, header, expected",
    [("ja", "en-US,en;q=0.9", "ja"), (None, "ja-JP,ja;q=0.9,en;q=0.8", "ja"), (None, "en-GB", "en"), ("xx", None, "en")],
)
def test_language_follows_the_link_then_the_browser(query, header, expected):
    assert i18n.detect(query, header) == expected


def test_links_are_checked_not_trusted():
    link = links.parse(
        {"tab": "attention", "text": "x" * 20_000, "model": "evil/model", "layer": "3", "head": "two", "projection": "1"},
        TAB_IDS,
        known_models={MODEL},
    )
    assert link.tab == "attention" and len(link.values["text"]) == links.MAX_TEXT
    assert "model" not in link.values and link.values["layer"] == 3 and "head" not in link.values and link.projection
    assert links.parse({"tab": "<script>", "lang": "<b>"}, TAB_IDS, set()) == links.Link()
    assert links.parse({"model": MODEL, "lang": "ja", "projection": "0"}, TAB_IDS, {MODEL}) == links.Link(
        values={"model": MODEL}, lang="ja"
    )


def test_every_shareable_field_of_every_tab_is_parsed_from_a_link():
    """A field a tab shares must come back from its link, or the link would not reopen the view."""
    import gradio as gr

    with gr.Blocks():
        handles = {spec.id: spec.build() for spec in TABS}
    for tab_id, handle in handles.items():
        assert handle.shareable, tab_id
        for name in handle.shareable:
            value = {"model": MODEL, **dict.fromkeys(links.SWITCH_FIELDS, "1"), "scale": "norms"}.get(name, "3")
            parsed = links.parse({"tab": tab_id, name: value}, TAB_IDS, {MODEL})
            assert name in parsed.values, (tab_id, name)


def test_switches_and_choices_come_back_from_a_link():
    link = links.parse({"tab": "attention", "hide": "1", "renormalize": "off", "scale": "norms"}, TAB_IDS, set())
    assert link.values == {"hide": True, "renormalize": False, "scale": "norms"}
    junk = links.parse({"tab": "compare", "positions_off": "maybe", "scale": "<b>"}, TAB_IDS, set())
    assert junk.values == {}


def test_the_share_script_writes_only_the_current_tabs_fields():
    script = links.share_js([("attention", "text"), ("attention", "layer"), ("qa", "context")])
    assert json.dumps([["attention", "text"], ["attention", "layer"], ["qa", "context"]]) in script
    assert "owner === tab" in script


def test_messages_from_the_code_translate():
    from explorer import text
    from explorer.errors import InputError
    from explorer.present.positional import parse_dims
    from explorer.ui.common import describe_error

    samples = [text.clean_input("a\x00b").notes[0], describe_error(ValueError("x"))]
    with pytest.raises(InputError) as raised:
        text.clean_input("  ")
    samples.append(raised.value.msg)
    samples += parse_dims("0, x, 999", 64)[1]
    assert len(samples) == 5
    for message in samples:
        english, japanese = render(message, "en"), render(message, "ja")
        assert japanese != english and any("\u3040" <= c <= "\u30ff" for c in japanese), english
        assert str(message) == english
    assert render(Msg("error.first_run", button=Msg("ner.button")), "ja") == "先に「固有表現を探す」を押してください。"
    assert render("A line nobody wrote a key for.", "ja") == "A line nobody wrote a key for."  # a str is data
    with pytest.raises(KeyError):
        render(Msg("no.such_key"), "ja")


def test_status_lines_follow_the_language_cookie(app_url):
    args = ["word " * 600, MODEL, 0, 0, False, False]  # the /attention API's arguments
    ja_message = page_event(app_url, "analyze", [*args, "weights"], language="ja")[0]
    en_message = page_event(app_url, "analyze", [*args, "weights"], language="en")[0]
    assert "6 層 × 12 ヘッド" in ja_message and "6 layers × 12 heads" in en_message
    assert "最大 512 トークン" in ja_message and "only the first 512 tokens" in en_message
    assert "テキストを入力" in page_event(app_url, "run", ["", MODEL], language="ja")[0]
    assert "enter some text" in page_event(app_url, "run", ["", MODEL])[0]  # no cookie: English
    # The public API answers in English whatever the cookie says.
    gradio_client = pytest.importorskip("gradio_client")
    japanese = gradio_client.Client(app_url, verbose=False, headers={"Cookie": f"{i18n.COOKIE}=ja"})
    assert "6 layers × 12 heads" in japanese.predict(*args, api_name="/attention")["notes"][0]


def test_figures_speak_japanese_too(app_url):
    outputs = page_event(app_url, "analyze", ["The cat sat on the mat.", MODEL, 2, 5, True, False, "weights"], language="ja")
    head, row, mean, grid = (json.loads(figure["plot"]) for figure in outputs[1:5])
    assert head["layout"]["title"]["text"] == "2 層、ヘッド 5 — [CLS]/[SEP] を非表示"
    assert head["layout"]["xaxis"]["title"]["text"] == "キー(参照される側)"
    assert head["data"][0]["x"][0] == "1 the"  # token labels are data: never translated
    assert "ヘッド 11" in [a["text"] for a in grid["layout"]["annotations"]]
    assert mean["layout"]["title"]["text"].startswith("2 層、12 ヘッドの平均")
    assert "の参照先" in row["layout"]["title"]["text"]
    positional = page_event(app_url, "plot", [64, 50, "0, 1", MODEL], language="ja")
    curves = json.loads(positional[2]["plot"])
    assert curves["layout"]["title"]["text"].startswith("正弦波の位置エンコーディング")
    assert curves["data"][0]["name"] == "次元 0"
