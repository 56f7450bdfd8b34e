import numpy as np

from explorer.tasks.attribution import attention_rollout, token_scores


def test_identity_attention_rolls_out_to_identity():
    attentions = np.broadcast_to(np.eye(4), (3, 2, 4, 4))
    np.testing.assert_allclose(attention_rollout(attentions), np.eye(4))


def test_rollout_of_one_layer_by_hand():
    layer = np.array([[0.5, 0.5], [0.0, 1.0]])
    attentions = np.stack([np.stack([layer, layer])])  # 1 layer, 2 identical heads
    expected = 0.5 * layer + 0.5 * np.eye(2)  # rows already sum to 1
    np.testing.assert_allclose(attention_rollout(attentions), expected)


def test_rows_sum_to_one_and_layers_compose_in_order():
    rng = np.random.default_rng(0)
    raw = rng.random((3, 2, 5, 5))
    attentions = raw / raw.sum(-1, keepdims=True)
    rollout = attention_rollout(attentions)
    np.testing.assert_allclose(rollout.sum(-1), 1.0)
    manual = np.eye(5)
    for layer in attentions:
        mixed = 0.5 * layer.mean(0) + 0.5 * np.eye(5)
        manual = (mixed / mixed.sum(-1, keepdims=True)) @ manual
    np.testing.assert_allclose(rollout, manual)


def test_token_scores_zero_specials_and_scale_to_one():
    rng = np.random.default_rng(1)
    raw = rng.random((2, 3, 4, 4))
    scores = token_scores(raw / raw.sum(-1, keepdims=True), np.array([True, False, False, True]))
    assert scores[0] == 0 and scores[3] == 0 and scores.max() == 1.0
