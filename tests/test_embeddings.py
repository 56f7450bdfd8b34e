"""Embeddings tab: pooling on hand-made arrays, the embedded model's own pooling against
sentence-transformers' formula on a padded batch, cosine and PCA on hand-made points, word
positions, the presenter on the "bank" preset and on hostile input."""

from __future__ import annotations

import numpy as np
import pytest

from explorer import api, embeddings
from explorer.errors import InputError
from explorer.present import embed
from explorer.ui.embed import BANK


def test_pooling_on_hand_made_arrays():
    hidden = np.array([[1.0, 0.0], [2.0, 4.0], [4.0, -2.0], [9.0, 9.0]])  # [CLS], w1, w2, [SEP]
    special = np.array([True, False, False, True])
    assert np.allclose(embeddings.pool(hidden, special, "mean"), [3.0, 1.0])
    assert np.allclose(embeddings.pool(hidden, special, "max"), [4.0, 4.0])
    assert np.allclose(embeddings.pool(hidden, special, "cls"), [1.0, 0.0])
    mean_all = hidden.mean(axis=0)
    assert np.allclose(embeddings.pool(hidden, special, "sentence-transformers"), mean_all / np.linalg.norm(mean_all))
    # with padding, only attention-mask-1 rows count
    padded = np.vstack([hidden, [[100.0, -100.0]]])
    mask = np.array([1, 1, 1, 1, 0])
    assert np.allclose(
        embeddings.pool(padded, np.append(special, True), "sentence-transformers", mask), mean_all / np.linalg.norm(mean_all)
    )
    with pytest.raises(ValueError):
        embeddings.pool(hidden, special, "median")


def test_own_pooling_equals_sentence_transformers_formula_on_a_padded_batch():
    """sentence-transformers' Pooling(mean) + Normalize, computed independently on a padded batch."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from explorer.models import embedded_model_path

    folder = embedded_model_path()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    sentences = ["A short one.", "This second sentence is quite a bit longer than the first one."]
    batch = tokenizer(sentences, padding=True, return_tensors="pt")
    with torch.inference_mode():
        states = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    expected = torch.nn.functional.normalize((states * mask).sum(1) / mask.sum(1), dim=1).numpy()
    found = embed.present("\n".join(sentences))
    ours = np.stack(
        [
            embeddings.pool(a.hidden_states[-1], a.special_mask, "sentence-transformers")
            for a in embed.analyses_of(sentences, None)[0]
        ]
    )
    np.testing.assert_allclose(ours, expected, atol=1e-5)
    np.testing.assert_allclose(found.similarity[0, 1], float(expected[0] @ expected[1]), atol=1e-5)


def test_cosine_and_pca_on_hand_made_points():
    vectors = np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [0.0, 0.0]])
    similarity = embeddings.cosine_matrix(vectors)
    assert np.allclose(similarity, similarity.T)
    assert np.allclose(np.diag(similarity)[:3], 1.0) and similarity[0, 2] == pytest.approx(-1.0) and similarity[0, 1] == 0
    assert np.all(similarity[3] == 0)  # a zero vector is similar to nothing
    line = np.array([[t, 2 * t, -t] for t in (0.0, 1.0, 2.0, 5.0)])
    points, share = embeddings.pca_2d(line)
    assert share[0] == pytest.approx(1.0) and np.allclose(points[:, 1], 0.0, atol=1e-9)
    distances = np.abs(np.diff(points[:, 0]))
    assert np.allclose(distances, np.linalg.norm(np.diff(line, axis=0), axis=1))  # the line is recovered
    again, _ = embeddings.pca_2d(line[::-1])
    assert np.allclose(sorted(again[:, 0]), sorted(points[:, 0]))  # fixed signs: the same map
    assert embeddings.pca_2d(line[:1])[0].shape == (1, 2)


def test_word_positions_with_pieces_and_repeats():
    text = "Tokenization, tokenization and bank-robbery at the bank."
    offsets = [
        None,
        (0, 5),
        (5, 12),
        (12, 13),
        (14, 19),
        (19, 26),
        (27, 30),
        (31, 35),
        (35, 36),
        (36, 43),
        (44, 46),
        (47, 50),
        (51, 55),
        (55, 56),
        None,
    ]
    assert embeddings.word_positions(text, offsets, "tokenization") == [[1, 2], [4, 5]]
    assert embeddings.word_positions(text, offsets, "BANK") == [[7], [12]]  # "bank" of bank-robbery is a word too
    assert embeddings.word_positions(text, offsets, "ban") == []  # not inside a word
    assert embeddings.word_positions(text, offsets, "  ") == []


def test_bank_preset_and_layer_curves():
    result = embed.present(BANK)
    assert result.similarity.shape == (4, 4) and result.layer == result.n_layers
    word = embed.word_in_context(BANK, "bank")
    assert len(word.curves) == 6 and all(len(curve) == result.n_layers + 1 for curve in word.curves.values())
    # the chapter's point: the two river sentences stay closer than a river and a money sentence
    assert word.curves["1 ↔ 2"][-1] > word.curves["2 ↔ 3"][-1]
    other = embed.present(BANK, None, "max", 2)
    assert other.layer == 2 and not np.allclose(other.similarity, result.similarity)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n \n",
        "😀😀 emoji only\n<script>alert(1)</script>",
        "control \x00\x07 chars\n日本語と English",
        "word " * 2500,
        "\n".join(["x"] * 40),
    ],
)
def test_hostile_input_answers_in_words(text):
    found = api.embed(text)
    if not text.strip():
        assert found["error_key"] == "embed.no_sentences"
        return
    assert "error" not in found, found
    n = len(found["sentences"])
    assert np.allclose(found["similarity"], np.array(found["similarity"]).T) and len(found["embeddings_2d"]) == n
    if text.count("\n") >= 39:
        assert any("first 32" in warning for warning in found["warnings"])


def test_word_refusals_are_messages():
    with pytest.raises(InputError):
        embed.word_in_context(BANK, "   ")
    with pytest.raises(InputError) as rare:
        embed.word_in_context(BANK, "money")
    assert rare.value.msg.key == "embed.word_too_rare"
    with pytest.raises(InputError):
        embed.present(BANK, None, "median")
