"""Compare tab: alignment on hand-made token lists, divergence on hand-made arrays, the position-
embedding switch on the embedded model (問題2), and the presenter/API on real and hostile input."""

from __future__ import annotations

import numpy as np
import pytest

from explorer import api, backend, compare
from explorer.interventions import PositionsOff, applied
from explorer.present import compare as compare_present


def special(tokens):
    return [token in ("[CLS]", "[SEP]") for token in tokens]


def test_alignment_rules_on_hand_made_tokens():
    same = ["[CLS]", "the", "cat", "[SEP]"]
    assert compare.align(same, same, special(same), special(same)).kind == "identical"

    a = ["[CLS]", "the", "cat", "sat", "on", "the", "mat", "[SEP]"]
    b = ["[CLS]", "mat", "the", "on", "sat", "cat", "the", "[SEP]"]
    found = compare.align(a, b, special(a), special(b))
    assert found.kind == "permutation"
    assert [b[unit[0]] for unit in found.b_units] == a  # every token meets itself
    assert (found.b_units[1], found.b_units[5]) == ((2,), (6,))  # the k-th "the" meets the k-th "the"

    tired = ["[CLS]", "it", "was", "tired", "[SEP]"]
    wide = ["[CLS]", "it", "was", "wide", "[SEP]"]
    found = compare.align(tired, wide, special(tired), special(wide))
    assert found.kind == "position" and found.labels[3] == "tired→wide" and found.labels[1] == "it"

    a = ["[CLS]", "this", "movie", "was", "wonder", "##ful", "[SEP]"]
    b = ["[CLS]", "this", "movie", "was", "not", "wonder", "##ful", "at", "all", "[SEP]"]
    found = compare.align(a, b, special(a), special(b))
    assert found.kind == "words"
    assert found.labels == ("[CLS]", "this", "movie", "was", "wonderful", "[SEP]")
    assert found.b_units[4] == (5, 6) and found.a_units[4] == (4, 5)
    assert (found.unmatched_a, found.unmatched_b) == (0, 3)

    # A replaced run of equal length pairs up word by word; an unequal one is left out.
    a = ["[CLS]", "red", "cars", "go", "[SEP]"]
    b = ["[CLS]", "blue", "bus", "##es", "go", "fast", "[SEP]"]
    found = compare.align(a, b, special(a), special(b))
    assert found.labels == ("[CLS]", "red→blue", "cars→buses", "go", "[SEP]")
    assert found.unmatched_b == 1


def test_restrict_sums_keys_averages_queries_and_renormalises():
    weights = np.array(
        [
            [0.5, 0.25, 0.25, 0.0],
            [0.1, 0.2, 0.3, 0.4],
            [0.3, 0.3, 0.2, 0.2],
            [0.0, 0.0, 0.0, 1.0],
        ]
    )
    units = [(0,), (1, 2)]  # token 3 is left out
    restricted = compare.restrict(weights, units)
    by_key = np.array([[0.5, 0.5], [0.1, 0.5], [0.3, 0.5]])
    expected = np.array([by_key[0], (by_key[1] + by_key[2]) / 2])
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(restricted, expected)
    # a row that keeps no weight becomes uniform, not NaN
    assert np.isfinite(compare.restrict(np.eye(3)[[2, 2, 2]], [(0,), (1,)])).all()


def test_js_divergence_on_hand_made_rows():
    p = np.array([[1.0, 0.0], [0.5, 0.5], [0.25, 0.75]])
    q = np.array([[0.0, 1.0], [0.5, 0.5], [0.75, 0.25]])
    found = compare.js_divergence(p, q)
    assert found[0] == pytest.approx(1.0)  # disjoint: one bit
    assert found[1] == pytest.approx(0.0)
    m = np.array([0.5, 0.5])
    kl = lambda x: float(np.sum(x * np.log2(x / m)))  # noqa: E731
    assert found[2] == pytest.approx(0.5 * kl(p[2]) + 0.5 * kl(q[2]))
    assert compare.js_divergence(q, p) == pytest.approx(found)
    grid = compare.head_divergence(np.stack([p, q])[None], np.stack([q, q])[None])
    assert grid.shape == (1, 2) and grid[0, 1] == 0.0 and grid[0, 0] == pytest.approx(found.mean())


def test_without_position_embeddings_a_shuffle_changes_nothing_but_the_order():
    ordered, shuffled = "The cat sat on the mat.", "mat the on sat cat The."
    off = api.compare(ordered, shuffled, positions_off=True)
    on = api.compare(ordered, shuffled, positions_off=False)
    assert off["alignment"]["kind"] == on["alignment"]["kind"] == "permutation"
    assert np.max(off["divergence"]) < 1e-4  # permutation-equivariant: the same attention, permuted
    assert np.mean(on["divergence"]) > 0.05  # with positions, the order matters
    # the switch is part of the cache key: both analyses exist side by side
    plain = backend.analyze(ordered)
    zeroed = backend.analyze(ordered, intervention=PositionsOff())
    assert not np.allclose(plain.attentions, zeroed.attentions)


def test_positions_off_hook_only_touches_its_own_thread():
    import threading

    import torch

    from explorer.models import load_model

    loaded = load_model(None)
    batch = backend.preprocess(loaded, "the cat sat")
    seen = {}

    def other():
        with torch.inference_mode():
            seen["other"] = loaded.model(**batch.inputs).last_hidden_state

    with applied(loaded.model, PositionsOff()):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    with torch.inference_mode():
        plain = loaded.model(**batch.inputs).last_hidden_state
    torch.testing.assert_close(seen["other"], plain)


def test_presenter_tired_wide_and_task_outputs():
    tired = "The animal didn't cross the street because it was too tired."
    wide = "The animal didn't cross the street because it was too wide."
    result = compare_present.present(tired, wide, None, 4, 3)
    assert result.alignment.kind == "position" and "tired→wide" in result.alignment.labels
    assert result.divergence.shape == (result.n_layers, result.n_heads)
    assert result.outputs is None  # a plain encoder has no task answer
    sentiment = compare_present.present("A wonderful film.", "A dreadful film.", "minilm-sentiment", 0, 0)
    records = sentiment.outputs.records()
    assert {row["class"] for row in records} == {"positive", "negative"}
    assert sum(row["a"] for row in records) == pytest.approx(1.0, abs=1e-3)
    # a redraw for another head reads the cache: no forward pass
    passes = backend.forward_count()
    drawn, grid = compare_present.view(result.key, result.key_b, 1, 2)
    assert backend.forward_count() == passes and drawn.difference["data"][0]["type"] == "heatmap"


@pytest.mark.parametrize(
    "text_b",
    ["", "😀 " * 50, "<b>bold</b> & \x00\x07 control", "日本語と English mixed", "word " * 2000],
)
def test_hostile_inputs_answer_in_words(text_b):
    found = api.compare("The cat sat on the mat.", text_b)
    assert "error" in found or found["alignment"]["kind"] in compare.KINDS
    if text_b.strip() == "":
        assert found["error_key"] == "input.empty"
