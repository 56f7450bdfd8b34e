"""BERT's masking recipe (問題3): the simulator draws exactly what transformers' own
DataCollatorForLanguageModeling draws with the same seed, and its shares converge to 15/80/10/10."""

from __future__ import annotations

import numpy as np
import pytest

from explorer import masking

VOCAB, MASK_ID = 1000, 4


def sequence(length: int = 24):
    ids = np.arange(10, 10 + length, dtype=np.int64)
    special = np.zeros(length, dtype=bool)
    special[[0, -1]] = True  # [CLS] ... [SEP]
    return ids, special


class TinyTokenizer:
    """What the collator reads from a tokenizer: the mask token, its id and the vocabulary size."""

    mask_token = "[MASK]"

    def __len__(self) -> int:
        return VOCAB

    def convert_tokens_to_ids(self, token: str) -> int:
        return MASK_ID


@pytest.mark.parametrize("seed", [0, 7, 12345])
def test_the_collator_itself_draws_the_same(seed):
    import torch
    from transformers import DataCollatorForLanguageModeling

    ids, special = sequence()
    collator = DataCollatorForLanguageModeling(TinyTokenizer(), mlm_probability=0.15, seed=seed)
    collator.create_rng()
    batch = torch.as_tensor(ids)[None].repeat(64, 1)
    inputs, labels = collator.torch_mask_tokens(batch.clone(), torch.as_tensor(special)[None].repeat(64, 1).long())
    ours = masking.simulate(ids, special, VOCAB, MASK_ID, seed, draws=64)
    assert np.array_equal(ours.input_ids, inputs.numpy())
    assert np.array_equal(ours.labels, labels.numpy())


@pytest.mark.parametrize(("rate", "mask_share", "random_share"), [(0.3, 0.5, 0.3), (0.5, 1.0, 0.0), (0.15, 0.0, 0.5)])
def test_the_collator_agrees_with_other_recipes_too(rate, mask_share, random_share):
    """Other probabilities (the collator's mlm/mask_replace/random_replace_prob) take the same branches."""
    import torch
    from transformers import DataCollatorForLanguageModeling

    ids, special = sequence(40)
    collator = DataCollatorForLanguageModeling(
        TinyTokenizer(), mlm_probability=rate, mask_replace_prob=mask_share, random_replace_prob=random_share, seed=9
    )
    collator.create_rng()
    batch = torch.as_tensor(ids)[None].repeat(32, 1)
    inputs, labels = collator.torch_mask_tokens(batch.clone(), torch.as_tensor(special)[None].repeat(32, 1).long())
    ours = masking.simulate(
        ids, special, VOCAB, MASK_ID, 9, draws=32, rate=rate, mask_share=mask_share, random_share=random_share
    )
    assert np.array_equal(ours.input_ids, inputs.numpy()) and np.array_equal(ours.labels, labels.numpy())
    if mask_share == 1.0:
        assert not (ours.outcome == "random").any() and not (ours.outcome == "unchanged").any()


def test_outcomes_are_consistent_with_inputs_and_labels():
    ids, special = sequence()
    draws = masking.simulate(ids, special, VOCAB, MASK_ID, seed=3, draws=500)
    original = np.broadcast_to(ids, draws.input_ids.shape)
    chosen = draws.outcome != "not_chosen"
    assert not chosen[:, special].any()  # special tokens are never chosen
    assert np.array_equal(draws.labels == masking.IGNORED, ~chosen)  # the loss only where chosen
    assert np.array_equal(draws.labels[chosen], original[chosen])
    assert (draws.input_ids[draws.outcome == "mask"] == MASK_ID).all()
    assert np.array_equal(draws.input_ids[~chosen], original[~chosen])
    assert np.array_equal(draws.input_ids[draws.outcome == "unchanged"], original[draws.outcome == "unchanged"])


def test_same_seed_same_draw_other_seed_other_draw():
    ids, special = sequence()
    a = masking.simulate(ids, special, VOCAB, MASK_ID, seed=5, draws=20)
    b = masking.simulate(ids, special, VOCAB, MASK_ID, seed=5, draws=20)
    c = masking.simulate(ids, special, VOCAB, MASK_ID, seed=6, draws=20)
    assert np.array_equal(a.input_ids, b.input_ids) and not np.array_equal(a.input_ids, c.input_ids)


def test_shares_converge_over_ten_thousand_draws():
    ids, special = sequence()
    draws = masking.simulate(ids, special, VOCAB, MASK_ID, seed=2024, draws=10_000)
    found = masking.convergence(draws, special)
    assert found.eligible == len(ids) - 2 and len(found.chosen) == 10_000
    chosen = sum(found.counts.values())
    # 220,000 Bernoulli(0.15) trials: the standard error is 0.08 %; 4 standard errors is a safe band
    assert found.chosen[-1] == pytest.approx(0.15, abs=0.004)
    assert found.mask[-1] == pytest.approx(0.8, abs=4 * np.sqrt(0.16 / chosen))
    assert found.random[-1] == pytest.approx(0.1, abs=4 * np.sqrt(0.09 / chosen))
    assert found.unchanged[-1] == pytest.approx(0.1, abs=4 * np.sqrt(0.09 / chosen))
    assert found.mask[-1] + found.random[-1] + found.unchanged[-1] == pytest.approx(1.0)
    # the running share after one draw can be far off; it settles as draws accumulate
    assert abs(found.chosen[-1] - 0.15) <= abs(found.chosen[9] - 0.15) + 0.01


def test_convergence_on_hand_made_draws():
    """Three draws of five tokens ([CLS] a b c [SEP]): the running shares, worked out by hand."""
    special = np.array([True, False, False, False, True])
    n, m, r, u = "not_chosen", "mask", "random", "unchanged"
    outcome = np.array([[n, n, n, n, n], [n, m, r, n, n], [n, m, u, m, n]])
    draws = masking.Draws(outcome, np.zeros(outcome.shape, np.int64), np.zeros(outcome.shape, np.int64))
    found = masking.convergence(draws, special)
    assert found.eligible == 3
    np.testing.assert_allclose(found.chosen, [0 / 3, 2 / 6, 5 / 9])
    assert np.isnan(found.mask[0]) and np.isnan(found.random[0]) and np.isnan(found.unchanged[0])  # nothing chosen yet
    np.testing.assert_allclose(found.mask[1:], [1 / 2, 3 / 5])
    np.testing.assert_allclose(found.random[1:], [1 / 2, 1 / 5])
    np.testing.assert_allclose(found.unchanged[1:], [0, 1 / 5])
    assert found.counts == {"mask": 3, "random": 1, "unchanged": 1}
