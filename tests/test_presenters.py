"""One presenter per tab, gradio-free: typed results whose words are keys, one index policy.

Each defect of the old handlers has its test here: head 7 of a 4-head model silently showed
head 3 (the modulo wrap), layer -100 gave "Something went wrong (IndexError)", and a d_model of
5000 typed into its box gave gradio's raw range error instead of the app's message.
"""

from __future__ import annotations

import json

import pytest

from explorer.errors import InputError
from explorer.messages import Msg, render_tree
from explorer.present import attention, ner, positional, qa, sentiment, tokenization
from explorer.views import PlotlySpec, decode_array

TEXT = "The animal didn't cross the street because it was too tired."


def key_of(caught: pytest.ExceptionInfo) -> str:
    return caught.value.msg.key


def test_a_head_beyond_the_model_is_refused_not_wrapped(tiny_model):
    analysis_key = attention.present("the cat sat", tiny_model).key  # 2 layers x 4 heads
    with pytest.raises(InputError) as caught:
        attention.view(analysis_key, 0, 7)
    assert key_of(caught) == "index.out_of_range"
    assert "0 to 3" in str(caught.value)


@pytest.mark.parametrize(("layer", "head"), [(-100, 0), (6, 0), (0, 12), (0, -13), ("abc", 0), (1.5, 0)])
def test_out_of_range_or_broken_indices_get_a_keyed_message(layer, head):
    with pytest.raises(InputError) as caught:
        attention.present(TEXT, layer=layer, head=head)
    assert key_of(caught) in ("index.out_of_range", "index.not_whole")


def test_negative_indices_count_from_the_end_in_the_python_api():
    result = attention.present(TEXT, layer=-1, head=-1)
    assert (result.layer, result.head) == (5, 11)


def test_a_control_kept_from_a_bigger_model_is_fitted_and_said():
    result = attention.present(TEXT, layer=11, head=3, fit=True)
    assert result.layer == 5
    assert [line.key for line in result.lines if line.key == "index.fitted"] == ["index.fitted"]


def test_a_d_model_out_of_range_is_the_apps_message_not_gradios():
    from explorer.ui.common import BoundedSlider

    slider = BoundedSlider(*positional.D_MODEL_RANGE, value=128, step=2)
    assert slider.preprocess(5000) == 5000  # gradio's own Slider raises a raw English range error here
    assert slider.get_block_name() == "slider"  # the browser still draws gradio's slider
    with pytest.raises(InputError) as caught:
        positional.present(d_model=5000)
    assert key_of(caught) == "index.not_between"
    assert "1024" in str(caught.value)


def every_string(node) -> list[str]:
    if isinstance(node, dict):
        return [s for value in node.values() for s in every_string(value)]
    if isinstance(node, list | tuple):
        return [s for value in node for s in every_string(value)]
    return [node] if isinstance(node, str) else []


def results():
    yield tokenization.present("自然言語 and the cat")
    yield attention.present(TEXT, hide_special=True, renormalize=True)
    yield attention.present(TEXT, layer=2, head=5, norms=True)
    yield positional.present(64, 50, "0, 1, x, 999")
    yield sentiment.present("A dull, lifeless waste of two hours.")
    yield ner.present("Tim Cook is the CEO of Apple Inc.")
    yield qa.present("When was the Transformer introduced?", "The Transformer was introduced in 2017.")


def test_figures_speak_the_pages_language_and_keep_no_key():
    for result in results():
        views = [value for value in vars(result).values() if hasattr(value, "__dataclass_fields__")]
        figures = [value for part in (result, *views) for value in vars(part).values() if isinstance(value, PlotlySpec)]
        assert figures or isinstance(result, tokenization.TokenizationResult)
        for spec in figures:
            english, japanese = render_tree(spec, "en"), render_tree(spec, "ja")
            json.dumps(japanese)  # nothing unrendered is left (a Msg is not JSON)
            title_en, title_ja = english["layout"]["title"]["text"], japanese["layout"]["title"]["text"]
            assert title_en and title_ja != title_en, title_en
            assert not any(isinstance(s, Msg) for s in every_string(japanese))


def test_every_result_has_json_for_the_api_and_keyed_lines():
    for result in results():
        payload = result.api()
        json.dumps(payload)
        assert all(isinstance(line, Msg) for line in result.lines + result.warnings)
        assert payload["notes"] == [str(line) for line in result.lines]


def test_ignored_dimensions_are_said_in_both_languages():
    result = positional.present(64, 50, "0, 1, x, 999")
    assert [line.key for line in result.lines] == ["pos.summary", "pos.dim_not_whole", "pos.dim_out_of_range"]
    assert result.dims == [0, 1]
    assert "「x」" in result.lines[1].render("ja")


def test_qa_low_confidence_and_no_answer_are_warnings():
    # A question the chapter's paragraph cannot answer. (On a one-sentence context the shipped model
    # can be sure of a wrong span: "cat", 0.47, for "What is the capital of Mars?" -- see its card.)
    from explorer.ui.qa import CHAPTER_CONTEXT

    result = qa.present("Who is the president of France?", CHAPTER_CONTEXT)
    assert {line.key for line in result.warnings} & {"qa.low_confidence", "qa.no_answer_wins"}


def test_the_head_heatmap_and_the_thumbnails_share_one_colour_scale(tiny_model):
    """Issue 16: thumbnails on 0–1 beside a heatmap on 0–0.4 made one head look like two."""
    result = attention.present("the cat sat on the mat", tiny_model, layer=1, head=2)
    view = result.view
    head_top = view.head["data"][0]["zmax"]
    assert [trace["zmax"] for trace in view.grid["data"]] == [head_top] * len(view.grid["data"])
    layer_max = max(float(decode_array(trace["z"]).max()) for trace in view.grid["data"])  # no pooling at 8 tokens
    assert head_top == pytest.approx(layer_max) and head_top > float(view.weights.max()) - 1e-6
    assert "the" in view.grid["data"][2]["x"][1]  # thumbnail hover names tokens, not indices
