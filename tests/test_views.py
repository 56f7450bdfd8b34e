"""Figure builders are pure: hand-made arrays in, plotly figures out."""

import json

import numpy as np
import pytest

from explorer import backend, views
from explorer.errors import InputError
from explorer.messages import Msg, render_tree
from explorer.present import positional


def figure(spec: views.PlotlySpec, language: str = "en"):
    """The validated plotly figure of a spec, its words rendered as the UI edge renders them."""
    return render_tree(spec, language).figure()


def test_heatmap_keeps_repeated_tokens_apart():
    fig = figure(views.attention_heatmap(np.eye(3), ["the", "cat", "the"]))  # plotly validates the spec
    heatmap = fig.data[0]
    assert len(set(heatmap.x)) == 3 and heatmap.x[2].startswith("the") and heatmap.x[2] != "the"
    assert heatmap.x[2].strip("\u200b") == "the"  # looks the same on screen
    assert list(fig.layout.xaxis.ticktext) == list(heatmap.x)
    np.testing.assert_array_equal(views.decode_array(heatmap.z), np.eye(3))


def test_spec_json_round_trips_through_plotly():
    rng = np.random.default_rng(0)
    weights = rng.random((5, 5)).astype(np.float32)
    spec = views.attention_heatmap(weights, list("abcde"), title="<b>t</b>")
    parsed = json.loads(spec.to_json())
    np.testing.assert_array_equal(views.decode_array(parsed["data"][0]["z"]), weights)
    assert parsed["layout"]["title"]["text"] == "<b>t</b>"
    row = figure(views.attention_row(weights[0], list("abcde"), "a"))
    assert row.layout.title.text == "a"
    np.testing.assert_allclose(views.decode_array(row.data[0].y), weights[0])


def test_heatmap_rejects_mismatched_labels():
    with pytest.raises(ValueError, match="do not match"):
        views.attention_heatmap(np.eye(3), ["a", "b"])


def test_long_inputs_label_every_nth_token_only():
    labels = [str(i) for i in range(512)]
    fig = figure(views.attention_heatmap(np.full((512, 512), 1 / 512), labels))
    assert len(fig.layout.xaxis.tickvals) <= views.MAX_LABELLED_TOKENS


def test_head_grid_has_one_heatmap_per_head():
    spec = views.head_grid(np.full((12, 4, 4), 0.25), ["a", "b", "c", "d"])
    assert [a["text"] for a in spec["layout"]["annotations"]][:2] == [Msg("fig.head_n", head=0), Msg("fig.head_n", head=1)]
    fig = figure(spec)
    assert len(fig.data) == 12
    assert [a.text for a in fig.layout.annotations][:2] == ["head 0", "head 1"]
    assert figure(spec, "ja").layout.annotations[0].text != "head 0"  # the words follow the page's language


def test_encoding_heatmap_colour_scale_ignores_outliers():
    matrix = np.ones((10, 100)) * 0.1
    matrix[0, 0] = 50.0
    fig = figure(views.encoding_heatmap(matrix, "t"))
    assert fig.data[0].zmax == pytest.approx(0.1)


def test_token_highlights_cover_the_text_in_order():
    text = "The cats sat."
    pieces = views.token_highlights(
        text, [None, (0, 3), (4, 7), (7, 8), (9, 12), (12, 13), None], ["[CLS]", "the", "cat", "##s", "sat", ".", "[SEP]"]
    )
    assert "".join(piece for piece, _ in pieces) == text
    assert pieces[2:4] == [("cat", "cat"), ("s", "##s")]


def test_parse_dims_reports_bad_entries():
    dims, notes = positional.parse_dims("0, 1, x, 300, 1, 5", 128)
    assert dims == [0, 1, 5]
    assert notes == [Msg("pos.dim_not_whole", part="x"), Msg("pos.dim_out_of_range", dim=300, last=127)]
    assert "whole numbers" in str(notes[0]) and "0 and 127" in str(notes[1])
    assert positional.parse_dims("", 2)[0] == [0, 1]
    assert positional.parse_dims("3、4", 8)[0] == [3, 4]  # a Japanese comma separates too


@pytest.fixture()
def short_learned_positions(monkeypatch):
    """A model that learned only 50 positions of 8 dimensions: no model is loaded."""
    monkeypatch.setattr(backend, "position_embeddings", lambda model=None: np.ones((50, 8)))


def test_positional_view_explains_a_model_with_fewer_learned_positions(short_learned_positions):
    result = positional.present(64, 100, "0, 2", None)
    assert views.decode_array(result.sinusoid["data"][0]["z"]).shape == (64, 100)  # dimensions x positions
    assert views.decode_array(result.learned["data"][0]["z"]).shape == (8, 50)  # its plots stop at 50
    assert Msg("pos.learned_short", model="all-MiniLM-L6-v2", positions=50) in result.lines
    assert any("learned only 50 positions" in note for note in result.messages()["notes"])
    assert result.dims == [0, 2] and len(result.first_rows) == 4


@pytest.mark.parametrize(
    ("d_model", "max_len", "key"),
    [(64, 600, "index.not_between"), (1, 10, "index.not_between"), (64, 1.5, "index.not_whole"), ("x", 10, "index.not_whole")],
)
def test_positional_view_refuses_sizes_out_of_range(short_learned_positions, d_model, max_len, key):
    with pytest.raises(InputError) as error:
        positional.present(d_model, max_len, "0", None)
    assert error.value.msg.key == key


def test_pool_blocks_keeps_row_sums_and_small_inputs():
    rng = np.random.default_rng(1)
    weights = rng.random((2, 130, 130))
    weights /= weights.sum(-1, keepdims=True)
    pooled = views.pool_blocks(weights, 64)
    assert pooled.shape == (2, 64, 64)
    # Mean over a block of rows of (row sums 1) then mean over key blocks: sum over blocks x width = 1.
    widths = np.diff(np.linspace(0, 130, 65).astype(int))
    np.testing.assert_allclose((pooled * widths).sum(-1), 1.0)
    assert views.pool_blocks(weights[:, :10, :10], 64) is not None and views.pool_blocks(weights[:, :10, :10], 64).shape == (
        2,
        10,
        10,
    )


def test_attention_views_send_no_per_cell_strings():
    labels = [str(i) for i in range(300)]
    heatmap = figure(views.attention_heatmap(np.full((300, 300), 1 / 300), labels)).data[0]
    assert heatmap.customdata is None and heatmap.text is None
    assert len(views.attention_heatmap(np.full((300, 300), 1 / 300), labels).to_json()) < 300 * 300 * 4 * 1.4 + 20_000
    spec = views.head_grid(np.full((12, 300, 300), 1 / 300), labels)
    assert spec["layout"]["title"]["text"].key == "fig.pooled"
    grid = figure(spec)
    assert views.decode_array(grid.data[0].z).shape == (views.THUMBNAIL_CELLS, views.THUMBNAIL_CELLS)
    assert "mean over blocks" in grid.layout.title.text


def test_positional_and_qa_figures_are_specs_that_plotly_accepts_in_both_languages():
    pe = np.linspace(-1, 1, 40).reshape(10, 4)
    specs = [
        views.encoding_curves(pe, [0, 3], Msg("pos.title_sinusoid_curves")),
        views.similarity_heatmap(np.eye(10), Msg("pos.title_sinusoid_similarity")),
        views.span_probabilities(np.full(4, 0.25), np.full(4, 0.25), ["0 a", "1 b", "2 c", "3 d"], Msg("qa.title_probabilities")),
    ]
    for spec in specs:
        assert isinstance(spec, views.PlotlySpec)
        english, japanese = figure(spec, "en"), figure(spec, "ja")
        assert english.layout.title.text and english.layout.title.text != japanese.layout.title.text
    curves = figure(specs[0])
    assert [trace.name for trace in curves.data] == ["dim 0", "dim 3"]
    np.testing.assert_allclose(views.decode_array(curves.data[1].y), pe[:, 3].astype(np.float32))
    assert [trace.name for trace in figure(specs[2]).data] == ["start", "end"]


# ---------------------------------------------------------------- issue 16: nothing clipped, nothing overlapping


def test_tick_plan_shrinks_the_font_then_labels_every_nth_token():
    assert views.tick_plan(10, 400) == (1, 15)  # room for every label at the largest font
    step, size = views.tick_plan(25, 320)
    assert size == views.TICK_SIZES[-1] and step == 2
    for n in (19, 25, 90, 512):  # what is labelled fits: one rotated label a font size apart
        step, size = views.tick_plan(n, 320)
        assert len(range(0, n, step)) * size / views.SIN_ROTATION <= 320


def test_crowded_token_axes_are_thinned_for_the_narrowest_column():
    labels = [f"{i} word" for i in range(90)]
    qa = figure(views.span_probabilities(np.zeros(90), np.zeros(90), labels, "t"))
    assert len(qa.layout.xaxis.tickvals) <= 30  # 45 labels overlapped in a 590 px column
    row = figure(views.attention_row(np.zeros(25), labels[:25], "t"))
    plan = views.bar_ticks(labels[:25])
    assert len(row.layout.xaxis.tickvals) == len(range(0, 25, plan[0])) and row.layout.xaxis.tickfont.size == plan[1]
    heatmap = figure(views.attention_heatmap(np.eye(19), labels[:19]))
    x_step, x_size = views.heatmap_ticks(labels[:19], labels[:19])["x"]
    assert len(heatmap.layout.xaxis.tickvals) * x_size / views.SIN_ROTATION <= views.DESIGN_WIDTH - 150


def test_long_titles_wrap_and_the_top_margin_grows():
    assert views.wrap_title("short") == "short"
    ja = "正弦波の位置エンコーディング:選んだ次元の位置による変化"
    wrapped = views.wrap_title(ja)
    assert "<br>" in wrapped and wrapped.replace("<br>", "") == ja
    assert all(views.text_width(line, views.TITLE_SIZE) <= views.DESIGN_WIDTH - 30 for line in wrapped.split("<br>"))
    en = "Answer tokens → question tokens (layer 5, mean of heads), the attention of every answer token"
    assert all(line.strip() for line in views.wrap_title(en).split("<br>"))
    assert " ".join(views.wrap_title(en).split("<br>")) == en  # breaks only at spaces in English
    spec = render_tree(views.attention_heatmap(np.eye(2), ["a", "b"], title=ja), "ja")
    top = spec["layout"]["margin"]["t"]
    fitted = views.fit_titles(spec)
    lines = fitted["layout"]["title"]["text"].count("<br>") + 1
    assert lines >= 2 and fitted["layout"]["margin"]["t"] == top + views.TITLE_LINE * (lines - 1)


def test_head_grid_shares_the_heatmaps_colour_scale_and_names_tokens_on_hover():
    rng = np.random.default_rng(0)
    weights = rng.dirichlet(np.ones(5) * 0.3, size=(12, 5)).astype(np.float32)  # (12, 5, 5)
    labels = ["[CLS]", "the", "cat", "the", "[SEP]"]
    grid = figure(views.head_grid(weights, labels))
    top = views.layer_top(weights)
    assert [trace.zmax for trace in grid.data] == [pytest.approx(top)] * 12  # not a fixed 0–1
    assert list(grid.data[3].x) == views.unique_labels(labels)  # hover "%{y} → %{x}" reads token labels
    assert figure(views.attention_heatmap(weights[3], labels, zmax=top)).data[0].zmax == pytest.approx(top)


def test_head_grid_titles_fit_four_columns_at_the_design_width():
    grid = views.head_grid(np.full((12, 3, 3), 1 / 3), list("abc"))
    size = grid["layout"]["annotations"][0]["font"]["size"]
    column = views.DESIGN_WIDTH * 0.92 / 4
    for language in ("en", "ja"):
        titles = [render_tree(a["text"], language) for a in grid["layout"]["annotations"]]
        assert max(views.text_width(title, size) for title in titles) < column - 10


@pytest.mark.parametrize("top", [0.0067, 0.013, 0.03, 0.0135, 0.135, 0.4, 1.35])
def test_percent_axes_never_repeat_a_label(top):
    axis = views.percent_ticks(top)
    decimals = int(axis["tickformat"][1:-1])
    labels = [f"{value * 100:.{decimals}f}%" for value in np.arange(0, top + 1e-12, axis["dtick"])]
    assert 2 <= len(labels) <= 5 and len(set(labels)) == len(labels)


def test_a_shown_share_is_what_the_label_box_shows_and_never_a_false_certainty():
    assert views.shown_share(0.9993) == 0.99 and f"{views.shown_share(0.9993):.0%}" == "99%"
    assert views.shown_share(0.0004) == 0.01 and views.shown_share(1.0) == 1.0 and views.shown_share(0.0) == 0.0
    assert views.shown_share(0.734) == 0.73
