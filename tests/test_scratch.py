"""The chapter's numpy formulas: hand-checked values, then parity with real models."""

import numpy as np
import pytest

import explorer
from explorer import backend, scratch
from explorer.analysis import AnalysisKey
from explorer.present.attention import scratch_check


def checked_difference(key: AnalysisKey, layer: int) -> float:
    """The recompute check's message, read back as a number (it is shown as e.g. "5.50e-07")."""
    message = scratch_check(key, layer)
    assert message.key == "att.check"
    return float(dict(message.params)["difference"])


def test_softmax_rows_sum_to_one_and_survive_large_scores():
    weights = scratch.softmax(np.array([[1000.0, 1000.0], [0.0, np.log(3.0)]]))
    np.testing.assert_allclose(weights, [[0.5, 0.5], [0.25, 0.75]])


def test_scaled_dot_product_attention_by_hand():
    # Two keys; the query matches key 1, scaled by 1/sqrt(d_k) = 1/2.
    Q = np.array([[0.0, 0.0, 0.0, 2.0 * np.log(3.0)]])
    K = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    V = np.array([[1.0, 0.0], [0.0, 1.0]])
    output, weights = scratch.scaled_dot_product_attention(Q, K, V)
    np.testing.assert_allclose(weights, [[0.25, 0.75]])
    np.testing.assert_allclose(output, [[0.25, 0.75]])


def test_mask_removes_a_key():
    Q = K = np.eye(3)
    _, weights = scratch.scaled_dot_product_attention(Q, K, np.eye(3), mask=np.array([0.0, 0.0, 1.0]))
    assert np.all(weights[:, 2] < 1e-8)
    np.testing.assert_allclose(weights.sum(-1), 1.0)


def test_split_and_merge_heads_are_inverse_and_slice_dimensions():
    x = np.arange(2 * 6).reshape(2, 6).astype(float)  # T=2, d_model=6
    heads = scratch.split_heads(x, 3)
    assert heads.shape == (3, 2, 2)
    np.testing.assert_array_equal(heads[1], x[:, 2:4])
    np.testing.assert_array_equal(scratch.merge_heads(heads), x)


def test_sinusoidal_encoding_matches_the_formula_and_the_chapters_torch_code():
    torch = pytest.importorskip("torch")
    pe = scratch.sinusoidal_positional_encoding(50, 16)
    assert pe.shape == (50, 16)
    pos, i = 7, 3
    assert pe[pos, 2 * i] == pytest.approx(np.sin(pos / 10000 ** (2 * i / 16)))
    assert pe[pos, 2 * i + 1] == pytest.approx(np.cos(pos / 10000 ** (2 * i / 16)))
    # The chapter's PositionalEncoding (section 3.4), verbatim in torch.
    position = torch.arange(0, 50, dtype=torch.float).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, 16, 2).float() * (-np.log(10000.0) / 16))
    expected = torch.zeros(50, 16)
    expected[:, 0::2] = torch.sin(position * div_term)
    expected[:, 1::2] = torch.cos(position * div_term)
    np.testing.assert_allclose(pe, expected.numpy(), atol=1e-5)


def test_odd_d_model_is_supported():
    pe = scratch.sinusoidal_positional_encoding(4, 5)
    assert pe.shape == (4, 5)
    np.testing.assert_allclose(pe[:, 4], np.sin(np.arange(4) / 10000 ** (4 / 5)))


def test_numpy_attention_reproduces_the_tiny_model(tiny_model):
    analysis = explorer.analyze("the cats sat on the mat.", tiny_model)
    key = AnalysisKey(tiny_model, "the cats sat on the mat.")
    before = explorer.forward_count()
    for layer in range(analysis.n_layers):
        assert checked_difference(key, layer) < 1e-5
    assert explorer.forward_count() == before  # the check reads the cached analysis
    message = scratch_check(key, -1)
    assert dict(message.params)["layer"] == 1 and dict(message.params)["dtype"] == "float32"


def test_numpy_attention_reproduces_one_minilm_head_to_1e_5(fresh_cache):
    """Recompute layer 3, head 7 of the real MiniLM from its own query/key weights."""
    analysis = explorer.analyze("The Transformer was introduced in 2017 by Google.")
    params = backend.self_attention_weights(None, 3)
    X = analysis.hidden_states[3].astype(np.float64)  # the input to layer 3
    d_k = X.shape[1] // 12
    Q = (X @ params["W_Q"] + params["b_Q"])[:, 7 * d_k : 8 * d_k]
    K = (X @ params["W_K"] + params["b_K"])[:, 7 * d_k : 8 * d_k]
    V = (X @ params["W_V"] + params["b_V"])[:, 7 * d_k : 8 * d_k]
    _, weights = scratch.scaled_dot_product_attention(Q, K, V)
    np.testing.assert_allclose(weights, analysis.attention(3, 7), atol=1e-5)
    assert checked_difference(AnalysisKey(analysis.model_name, analysis.text), -1) < 1e-5


def test_the_positional_tabs_default_dimensions_show_fast_low_and_slow_high():
    """The Positional tab opens on the chapter's point: along 100 positions, each default dimension
    turns fewer times than the one before it, from many turns (dimension 0) to almost none."""
    from explorer.present import positional

    dims, notes = positional.parse_dims(positional.DEFAULT_DIMS, 128)
    assert notes == [] and dims == sorted(dims)
    pe = scratch.sinusoidal_positional_encoding(100, 128)
    travel = [float(np.abs(np.diff(pe[:, dim])).sum()) for dim in dims]  # how far each curve moves in all
    assert all(a > 1.5 * b for a, b in zip(travel, travel[1:], strict=False)), travel
    assert travel[0] > 50 and travel[-1] < 0.2, travel
