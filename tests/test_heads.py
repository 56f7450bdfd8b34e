"""Head roles, labels and the head finder on hand-made attention arrays with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from explorer import heads

TOKENS = ("[CLS]", "a", ",", "b", "[SEP]")
SPECIAL = np.array([True, False, False, False, True])
T = len(TOKENS)


def one_hot_rows(targets: list[int]) -> np.ndarray:
    """A (T, T) head whose query q puts all its attention on key targets[q]."""
    weights = np.zeros((T, T))
    weights[np.arange(T), targets] = 1.0
    return weights


def stack(*matrices: np.ndarray) -> np.ndarray:
    """One layer of heads: (1, H, T, T)."""
    return np.stack(matrices)[None]


def test_shares_of_heads_with_known_answers():
    attentions = stack(
        one_hot_rows([0, 0, 0, 0, 0]),  # all to [CLS]
        one_hot_rows([0, 0, 1, 2, 3]),  # previous token (the first row has none: it looks at itself)
        np.full((T, T), 1 / T),  # uniform
        one_hot_rows([1, 2, 3, 4, 4]),  # next token (the last row has none)
        one_hot_rows([2, 2, 2, 2, 2]),  # all to ","
        one_hot_rows([0, 1, 2, 3, 4]),  # self
        one_hot_rows([4, 4, 4, 4, 4]),  # all to [SEP]
    )
    measured = heads.role_shares(attentions, TOKENS, SPECIAL)
    shares = {name: measured.shares[name][0] for name in heads.SHARES}
    np.testing.assert_allclose(shares["cls"], [1.0, 0.4, 0.2, 0.0, 0.0, 0.2, 0.0])
    np.testing.assert_allclose(shares["prev"], [0.2, 0.8, 0.16, 0.0, 0.2, 0.0, 0.0])  # uniform: 4 of 5 rows have a previous key
    np.testing.assert_allclose(shares["next"], [0.0, 0.0, 0.16, 0.8, 0.2, 0.0, 0.2])
    np.testing.assert_allclose(shares["self"], [0.2, 0.2, 0.2, 0.2, 0.2, 1.0, 0.2])
    np.testing.assert_allclose(shares["punct"], [0.0, 0.2, 0.2, 0.2, 1.0, 0.2, 0.0])
    np.testing.assert_allclose(shares["sep"], [0.0, 0.0, 0.2, 0.4, 0.0, 0.2, 1.0])
    np.testing.assert_allclose(measured.entropy[0], [0, 0, np.log(T), 0, 0, 0, 0], atol=1e-12)
    np.testing.assert_allclose(measured.relative_entropy[0, 2], 1.0)
    assert list(measured.labels[0]) == ["cls", "prev", "broad", "next", "punct", "self", "sep"]
    np.testing.assert_allclose(measured.special_share_per_layer(), [(1.0 + 0.4 + 0.4 + 0.4 + 0 + 0.4 + 1.0) / 7])


def test_padding_rows_and_keys_are_left_out():
    """Two padding positions appended: the shares are those of the real tokens alone."""
    tokens = (*TOKENS, "[PAD]", "[PAD]")
    special = np.array([*SPECIAL, True, True])
    mask = np.array([1] * T + [0, 0])
    weights = np.zeros((T + 2, T + 2))
    weights[:, 0] = 1.0  # every row (padding rows too) to [CLS]
    weights[T:, :] = 0.0
    weights[T:, T] = 1.0  # padding rows look at padding: must not count
    measured = heads.role_shares(weights[None, None], tokens, special, mask)
    assert measured.shares["cls"][0, 0] == pytest.approx(1.0)
    assert measured.shares["sep"][0, 0] == 0.0  # [PAD] is special but not a [SEP]


def test_labels_follow_the_documented_thresholds():
    zero = dict.fromkeys(heads.SHARES, 0.0)
    assert heads.label_of({**zero, "prev": heads.ROLE_SHARE}, 0.0) == "prev"  # "at least" the threshold
    assert heads.label_of({**zero, "prev": 0.49, "sep": 0.3}, heads.BROAD_ENTROPY) == "broad"
    assert heads.label_of({**zero, "prev": 0.49}, heads.BROAD_ENTROPY - 0.01) == "mixed"
    assert heads.label_of({**zero, "cls": 0.6, "punct": 0.4}, 0.9) == "cls"  # a share wins over a spread


@pytest.mark.parametrize(
    ("token", "expected"), [(".", True), ("##.", True), ("、", True), ("?!", True), ("a.", False), ("it", False), ("", False)]
)
def test_punctuation_tokens(token, expected):
    assert heads.is_punctuation(token) is expected


def test_the_finder_ranks_every_head_by_one_weight_ties_by_position():
    attentions = np.zeros((2, 3, T, T))
    attentions[1, 2, 3, 1] = 0.9
    attentions[0, 1, 3, 1] = 0.5
    attentions[1, 0, 3, 1] = 0.5
    ranking = heads.find_heads(attentions, query=3, key=1)
    assert len(ranking) == 6
    assert ranking[:3] == [(1, 2, pytest.approx(0.9)), (0, 1, 0.5), (1, 0, 0.5)]
    assert [weight for _, _, weight in ranking] == sorted((w for _, _, w in ranking), reverse=True)


def test_head_roles_keep_the_api_contract():
    class Fake:  # what head_roles reads from an Analysis
        tokens = TOKENS
        special_mask = SPECIAL
        attention_mask = np.ones(T, dtype=np.int64)
        attentions = stack(one_hot_rows([0, 0, 1, 2, 3]), np.full((T, T), 1 / T))

    roles = heads.head_roles(Fake())
    assert [(r["layer"], r["head"]) for r in roles] == [(0, 0), (0, 1)]
    assert {"layer", "head", "label", "cls", "sep", "self", "prev", "next", "punct", "entropy"} <= set(roles[0])
    assert roles[0]["label"] == "previous token" and roles[1]["label"] == "broad"
    assert roles[1]["entropy"] == pytest.approx(np.log(T), abs=1e-4)
