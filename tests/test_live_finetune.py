"""問題5 live (explorer.live_finetune): parsing the class's sentences, training the linear head on
hand-made features, and once on the embedded encoder."""

from __future__ import annotations

import numpy as np
import pytest

from explorer import live_finetune
from explorer.errors import InputError


def separable(n: int = 8, d: int = 16, seed: int = 1) -> tuple[np.ndarray, list[int]]:
    """Two clouds far apart along the first axis."""
    rng = np.random.default_rng(seed)
    labels = [i % 2 for i in range(n)]
    features = rng.normal(size=(n, d))
    features[:, 0] += np.where(np.array(labels) == 1, 4.0, -4.0)
    return features, labels


def test_the_loss_falls_and_separable_sentences_are_all_learned():
    features, labels = separable()
    epochs = list(live_finetune.train(features, labels))
    assert len(epochs) == live_finetune.EPOCHS
    assert epochs[-1].loss < epochs[0].loss / 2
    assert epochs[-1].accuracy == 1.0
    predicted = epochs[-1].head.probabilities(features).argmax(axis=1)
    assert predicted.tolist() == labels
    assert np.allclose(epochs[-1].head.probabilities(features).sum(axis=1), 1.0)


def test_training_is_deterministic_for_a_seed():
    features, labels = separable()
    first = [epoch.loss for epoch in live_finetune.train(features, labels, seed=3)]
    again = [epoch.loss for epoch in live_finetune.train(features, labels, seed=3)]
    other = [epoch.loss for epoch in live_finetune.train(features, labels, seed=4)]
    assert first == again
    assert first != other


def test_one_class_or_too_few_sentences_is_a_keyed_message():
    features, _ = separable(4)
    with pytest.raises(InputError) as raised:
        next(live_finetune.train(features, [1, 1, 1, 1]))
    assert raised.value.msg.key == "finetune.too_few"
    with pytest.raises(InputError):
        live_finetune.parse("+ good\n- bad\n+ fine")  # one negative only
    with pytest.raises(ValueError):
        next(live_finetune.train(features, [0, 1, 0, 1, 0]))  # five labels for four rows


def test_the_class_marks_each_line_with_plus_or_minus():
    sentences, labels = live_finetune.parse("+ great\n\n- awful\n＋ lovely \n－ dull\n")
    assert sentences == ["great", "awful", "lovely", "dull"]
    assert labels == [1, 0, 1, 0]
    with pytest.raises(InputError) as raised:
        live_finetune.parse("+ great\nawful\n- dull\n+ ok\n- bad")
    assert raised.value.msg.key == "finetune.no_mark"
    assert dict(raised.value.msg.params)["line"] == 2
    with pytest.raises(InputError) as raised:
        live_finetune.parse("\n".join(["+ a", "- b"] * 21))
    assert raised.value.msg.key == "finetune.too_many"


def test_the_curve_has_one_point_per_epoch_so_far():
    spec = live_finetune.loss_curve([0.7, 0.5, 0.3], [0.5, 0.75, 1.0])
    assert spec["data"][0]["y"] == [0.7, 0.5, 0.3]
    assert spec["data"][1]["x"] == [1, 2, 3]
    assert spec.figure("ja").layout.title.text  # a valid plotly figure, its words in Japanese


def test_a_head_on_the_embedded_encoder_learns_the_default_sentences():
    from explorer.ui.finetune import TRAINING

    sentences, labels = live_finetune.parse(TRAINING)
    features = live_finetune.encode(sentences)
    assert features.shape == (len(sentences), 384)
    epochs = list(live_finetune.train(features, labels))
    last = epochs[-1]
    assert last.accuracy == 1.0
    # the class sees it learn: the loss starts near log 2 and falls over the epochs, not in one step
    losses = [epoch.loss for epoch in epochs]
    assert losses[0] > 0.3 and losses[9] > losses[-1] and losses[-1] < losses[0] / 5, losses[::10]
    new = live_finetune.encode(["An enjoyable film with a lovely ending.", "A tedious and disappointing movie."])
    assert last.head.probabilities(new).argmax(axis=1).tolist() == [1, 0]
