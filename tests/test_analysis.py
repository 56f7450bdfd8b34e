import numpy as np
import pytest

from explorer.analysis import Analysis, align_offsets, check_index
from explorer.errors import InputError


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
    with pytest.raises(InputError) as layer_error:
        analysis.attention(2)
    assert layer_error.value.msg.key == "index.out_of_range"
    assert dict(layer_error.value.msg.params)["value"] == 2 and dict(layer_error.value.msg.params)["last"] == 1
    assert "layer 2" in str(layer_error.value) and "0 to 1" in str(layer_error.value)
    with pytest.raises(InputError) as head_error:
        analysis.attention(0, 3)
    assert head_error.value.msg.key == "index.out_of_range"
    assert "head 3" in str(head_error.value) and "0 to 2" in str(head_error.value)


def test_negative_index_beyond_the_start_does_not_wrap():
    analysis = make_analysis()
    with pytest.raises(InputError) as error:
        analysis.attention(-3)  # two layers: -1 and -2 are valid, -3 is not (no silent modulo)
    assert error.value.msg.key == "index.out_of_range"
    assert check_index(-2, 2, "layer") == 0 and check_index(1, 2, "layer") == 1
    with pytest.raises(InputError):
        check_index(-1, 2, "layer", allow_negative=False)  # the UI's controls never send negatives


@pytest.mark.parametrize("value", ["abc", 1.5, None, "1.5", [1]])
def test_a_non_integer_layer_is_not_a_whole_number(value):
    analysis = make_analysis()
    with pytest.raises(InputError) as error:
        analysis.attention(value)
    assert error.value.msg.key == "index.not_whole"
    assert dict(error.value.msg.params)["value"] == str(value)
    assert "whole number" in str(error.value)


def test_whole_numbers_in_other_types_are_accepted():
    analysis = make_analysis()
    np.testing.assert_array_equal(analysis.attention("1", 2.0), analysis.attentions[1, 2])
    np.testing.assert_array_equal(analysis.attention(np.int64(0), np.int32(1)), analysis.attentions[0, 1])


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
