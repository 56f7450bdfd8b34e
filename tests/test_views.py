"""Figure builders are pure: hand-made arrays in, plotly figures out."""

import json

import numpy as np
import pytest

from explorer import presenters, views


def test_heatmap_keeps_repeated_tokens_apart():
    fig = views.attention_heatmap(np.eye(3), ["the", "cat", "the"]).figure()  # plotly validates the spec
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
    row = views.attention_row(weights[0], list("abcde"), "a").figure()
    np.testing.assert_allclose(views.decode_array(row.data[0].y), weights[0])


def test_heatmap_rejects_mismatched_labels():
    with pytest.raises(ValueError, match="do not match"):
        views.attention_heatmap(np.eye(3), ["a", "b"])


def test_long_inputs_label_every_nth_token_only():
    labels = [str(i) for i in range(512)]
    fig = views.attention_heatmap(np.full((512, 512), 1 / 512), labels).figure()
    assert len(fig.layout.xaxis.tickvals) <= views.MAX_LABELLED_TOKENS


def test_head_grid_has_one_heatmap_per_head():
    fig = views.head_grid(np.full((12, 4, 4), 0.25), ["a", "b", "c", "d"]).figure()
    assert len(fig.data) == 12
    assert [a.text for a in fig.layout.annotations][:2] == ["head 0", "head 1"]


def test_encoding_heatmap_colour_scale_ignores_outliers():
    matrix = np.ones((10, 100)) * 0.1
    matrix[0, 0] = 50.0
    fig = views.encoding_heatmap(matrix, "t")
    assert fig.data[0].zmax == pytest.approx(0.1)


def test_token_highlights_cover_the_text_in_order():
    text = "The cats sat."
    pieces = views.token_highlights(
        text, [None, (0, 3), (4, 7), (7, 8), (9, 12), (12, 13), None], ["[CLS]", "the", "cat", "##s", "sat", ".", "[SEP]"]
    )
    assert "".join(piece for piece, _ in pieces) == text
    assert pieces[2:4] == [("cat", "cat"), ("s", "##s")]


def test_parse_dims_reports_bad_entries():
    dims, notes = presenters.parse_dims("0, 1, x, 300, 1, 5", 128)
    assert dims == [0, 1, 5]
    assert len(notes) == 2 and "whole numbers" in notes[0] and "0 and 127" in notes[1]
    assert presenters.parse_dims("", 2)[0] == [0, 1]


def test_positional_view_clamps_and_explains():
    view = presenters.positional_view(64, 600, "0, 2", None)
    assert np.array(view.sinusoid.data[0].z).shape == (64, 600)
    assert any("learned only 512 positions" in note for note in view.notes)


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
    heatmap = views.attention_heatmap(np.full((300, 300), 1 / 300), labels).figure().data[0]
    assert heatmap.customdata is None and heatmap.text is None
    assert len(views.attention_heatmap(np.full((300, 300), 1 / 300), labels).to_json()) < 300 * 300 * 4 * 1.4 + 20_000
    grid = views.head_grid(np.full((12, 300, 300), 1 / 300), labels).figure()
    assert views.decode_array(grid.data[0].z).shape == (views.THUMBNAIL_CELLS, views.THUMBNAIL_CELLS)
    assert "mean over blocks" in grid.layout.title.text
