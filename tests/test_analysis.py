import numpy as np
import pytest

from explorer.analysis import Analysis, align_offsets


def make_analysis(n_tokens=4, layers=2, heads=3, hidden=5):
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(layers, heads, n_tokens, n_tokens))
    attentions = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    return Analysis(
        model_name="hand-made",
        text="a b",
        tokens=("[CLS]", "a", "b", "[SEP]")[:n_tokens],
        token_ids=np.arange(n_tokens),
        offsets=(None, (0, 1), (2, 3), None)[:n_tokens],
        special_mask=np.array([True, False, False, True][:n_tokens]),
        attention_mask=np.ones(n_tokens, dtype=np.int64),
        attentions=attentions.astype(np.float32),
        hidden_states=rng.normal(size=(layers + 1, n_tokens, hidden)).astype(np.float32),
    )


def test_negative_layers_count_from_the_end():
    analysis = make_analysis()
    np.testing.assert_array_equal(analysis.attention(-1, 0), analysis.attentions[1, 0])
    np.testing.assert_array_equal(analysis.attention(0), analysis.attentions[0])


def test_out_of_range_layer_or_head_says_the_valid_range():
    analysis = make_analysis()
    with pytest.raises(IndexError, match="0 to 1"):
        analysis.attention(2)
    with pytest.raises(IndexError, match="head 3"):
        analysis.attention(0, 3)


def test_arrays_are_read_only():
    analysis = make_analysis()
    with pytest.raises(ValueError):
        analysis.attentions[0, 0, 0, 0] = 1.0


def test_shapes_are_validated_once_at_construction():
    analysis = make_analysis()
    with pytest.raises(ValueError, match="attentions"):
        Analysis(**{**analysis.__dict__, "attentions": np.zeros((2, 3, 4, 5), dtype=np.float32)})
    with pytest.raises(ValueError, match="offsets"):
        Analysis(**{**analysis.__dict__, "offsets": (None,)})


def test_labels_stay_unique_for_repeated_tokens_and_mean_rows_sum_to_one():
    analysis = make_analysis()
    assert analysis.token_labels() == ["0 [CLS]", "1 a", "2 b", "3 [SEP]"]
    np.testing.assert_allclose(analysis.mean_attention(1).sum(-1), 1.0, rtol=1e-6)
    assert analysis.token_text(1) == "a" and analysis.token_text(0) == "[CLS]"


def test_align_offsets_for_slow_tokenizers():
    text = "自然言語 Processing は"
    tokens = ["[CLS]", "自然", "言語", "process", "##ing", "は", "[SEP]"]
    special = [True, False, False, False, False, False, True]
    assert align_offsets(text, tokens, special) == [None, (0, 2), (2, 4), (5, 12), (12, 15), (16, 17), None]


def test_align_offsets_recovers_after_an_unknown_token():
    text = "a 😀 b"
    assert align_offsets(text, ["a", "[UNK]", "b"], [False, False, False]) == [(0, 1), None, (4, 5)]
