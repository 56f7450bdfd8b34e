"""Embeddings tab: pooling on hand-made arrays, the embedded model's own pooling against
sentence-transformers' formula on a padded batch, cosine and PCA on hand-made points, word
positions and contextual similarity on hand-made offsets and states, the presenter on the "bank"
preset, on hostile input and on 20 sentences, and the API's answer."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import numpy as np
import pytest

from explorer import api, backend, embed_views, embeddings
from explorer.errors import InputError
from explorer.messages import Msg, render
from explorer.present import embed
from explorer.ui.embed import BANK


def test_pooling_equals_an_independent_computation():
    hidden = np.array([[1.0, 0.0], [2.0, 4.0], [4.0, -2.0], [9.0, 9.0]])  # [CLS], w1, w2, [SEP]
    special = np.array([True, False, False, True])
    assert np.allclose(embeddings.pool(hidden, special, "mean"), [3.0, 1.0])
    assert np.allclose(embeddings.pool(hidden, special, "max"), [4.0, 4.0])
    assert np.allclose(embeddings.pool(hidden, special, "cls"), [1.0, 0.0])
    # [CLS] and [SEP] count: (16, 11) / 4, then unit length
    unit = np.array([16.0, 11.0]) / np.hypot(16, 11)
    assert np.allclose(embeddings.pool(hidden, special, "sentence-transformers"), unit)
    # with padding, only attention-mask-1 rows count
    padded = np.vstack([hidden, [[100.0, -100.0]]])
    mask = np.array([1, 1, 1, 1, 0])
    assert np.allclose(embeddings.pool(padded, np.append(special, True), "sentence-transformers", mask), unit)
    # the same on random states, against plain loops
    rng = np.random.default_rng(0)
    states = rng.standard_normal((9, 5))
    specials = np.array([True, False, False, True, False, False, False, False, True])
    words = [row for row, s in zip(states, specials, strict=True) if not s]
    assert np.allclose(embeddings.pool(states, specials, "mean"), sum(words) / len(words))
    assert np.allclose(embeddings.pool(states, specials, "max"), [max(row[d] for row in words) for d in range(5)])
    total = sum(states) / len(states)
    assert np.allclose(embeddings.pool(states, specials, "sentence-transformers"), total / np.sqrt(sum(total**2)))
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
    assert batch["attention_mask"][0].sum() < batch["attention_mask"][1].sum()  # the first row is padded
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
    rng = np.random.default_rng(1)
    cloud = embeddings.cosine_matrix(rng.standard_normal((7, 16)))
    assert np.allclose(cloud, cloud.T) and np.allclose(np.diag(cloud), 1.0)

    line = np.array([[t, 2 * t, -t] for t in (0.0, 1.0, 2.0, 5.0)])
    points, share = embeddings.pca_2d(line)
    assert share[0] == pytest.approx(1.0) and share[1] == pytest.approx(0.0) and np.allclose(points[:, 1], 0.0, atol=1e-9)
    distances = np.abs(np.diff(points[:, 0]))
    assert np.allclose(distances, np.linalg.norm(np.diff(line, axis=0), axis=1))  # the line is recovered
    again, _ = embeddings.pca_2d(line[::-1])
    assert np.allclose(again[::-1], points)  # fixed signs: the same map whatever the order
    # a flat ellipse tilted into 4-D: the two axes and their shares come back
    u, v = np.array([1.0, 1.0, 0.0, 0.0]) / np.sqrt(2), np.array([0.0, 0.0, 1.0, 0.0])
    angles = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    ellipse = 3 * np.cos(angles)[:, None] * u + 1 * np.sin(angles)[:, None] * v + 5.0
    points, share = embeddings.pca_2d(ellipse)
    assert np.allclose(share, [0.9, 0.1])
    assert np.allclose(np.abs(points), np.abs(np.column_stack([3 * np.cos(angles), np.sin(angles)])), atol=1e-9)
    assert embeddings.pca_2d(line[:1])[0].shape == (1, 2) and not embeddings.pca_2d(line[:1])[1].any()
    assert embeddings.pca_2d(np.zeros((0, 3)))[0].shape == (0, 2)


def hand_made(text: str, offsets: list) -> SimpleNamespace:
    return SimpleNamespace(text=text, offsets=offsets)


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
    analysis = hand_made(text, offsets)
    assert embeddings.word_positions(analysis, "tokenization") == [[1, 2], [4, 5]]
    assert embeddings.word_positions(analysis, "BANK") == [[7], [12]]  # "bank" of bank-robbery is a word too
    assert embeddings.word_positions(analysis, "ban") == []  # not inside a word
    assert embeddings.word_positions(analysis, "token") == []  # a piece is not a word
    assert embeddings.word_positions(analysis, "  ") == []
    # a character whose lower case is longer ("İ" -> "i̇") before the word does not shift the match
    shifted = hand_made("İ bank", [None, (0, 1), (2, 6), None])
    assert embeddings.word_positions(shifted, "bank") == [[2]]
    # Japanese has no spaces: the word may touch its neighbours
    japanese = hand_made("私は銀行に行った。", [None, (0, 1), (1, 2), (2, 4), (4, 5), (5, 6), (6, 8), (8, 9), None])
    assert embeddings.word_positions(japanese, "銀行") == [[3]]


def test_word_positions_on_the_real_tokenizer():
    analysis = backend.analyze("Tokenization matters. So does tokenization!")
    pieces = embeddings.word_positions(analysis, "tokenization")
    assert len(pieces) == 2 and all(len(found) >= 2 for found in pieces)  # cut into WordPiece pieces
    assert "".join(analysis.tokens[i].removeprefix("##") for i in pieces[1]) == "tokenization"


def test_contextual_similarity_on_hand_made_states():
    rng = np.random.default_rng(2)
    offsets = [None, (0, 4), (5, 7), (8, 12), None]  # "bank is here" / "here is bank" / "none of it"
    texts = ["bank is here", "here is bank", "none of them"]
    states = [rng.standard_normal((4, 5, 3)) for _ in texts]
    found = [SimpleNamespace(text=t, offsets=offsets, hidden_states=s) for t, s in zip(texts, states, strict=True)]
    holders, curves = embeddings.contextual_similarity_by_layer(found, "bank")
    assert holders == [0, 1] and list(curves) == [(0, 1)]
    a, b = states[0][:, 1], states[1][:, 3]
    expected = [float(x @ y / np.linalg.norm(x) / np.linalg.norm(y)) for x, y in zip(a, b, strict=True)]
    assert np.allclose(curves[(0, 1)], expected) and len(curves[(0, 1)]) == 4


def test_bank_preset_and_layer_curves():
    result = embed.present(BANK)
    assert result.similarity.shape == (4, 4) and result.layer == result.n_layers
    word = embed.word_in_context(BANK, "bank")
    assert len(word.curves) == 6 and all(len(curve) == result.n_layers + 1 for curve in word.curves.values())
    # the chapter's point: at the last layer both same-sense pairs (river, river; money, money) are
    # closer than any pair that mixes a river bank with a money bank
    last = {name: values[-1] for name, values in word.curves.items()}
    assert min(last["1 ↔ 2"], last["3 ↔ 4"]) > max(last[pair] for pair in ("1 ↔ 3", "1 ↔ 4", "2 ↔ 3", "2 ↔ 4"))
    other = embed.present(BANK, None, "max", 2)
    assert other.layer == 2 and not np.allclose(other.similarity, result.similarity)
    assert json.loads(json.dumps(word.api()))["sentences_with_word"] == [1, 2, 3, 4]


def test_api_answer_has_its_keys_and_a_symmetric_matrix():
    found = api.embed(BANK, pooling="mean", layer=-2)
    assert set(found) == {"sentences", "model", "pooling", "layer", "similarity", "embeddings_2d", "notes", "warnings"}
    matrix = np.array(found["similarity"])
    assert matrix.shape == (4, 4) and np.allclose(matrix, matrix.T) and np.allclose(np.diag(matrix), 1.0)
    assert found["layer"] == 5 and found["pooling"] == "mean" and found["model"] == "all-MiniLM-L6-v2"
    assert np.array(found["embeddings_2d"]).shape == (4, 2)
    assert found["sentences"] == list(embed.BANK)
    assert api.embed(BANK, layer=7)["error_key"] == "index.out_of_range"
    assert api.embed(BANK, layer="last")["error_key"] == "index.not_whole"
    assert api.embed(BANK, pooling="median")["error_key"] == "embed.bad_pooling"
    assert api.embed(None)["error_key"] == "input.empty"
    assert api.embed(42)["error_key"] == "input.bad_type"


def test_a_hub_model_that_cannot_load_falls_back_with_a_warning():
    result = embed.present(BANK, "bert-base-uncased")
    assert result.model == "all-MiniLM-L6-v2" and "fallback.used" in [w.key for w in result.warnings]


def test_notes_for_few_sentences_other_models_and_cls():
    one = embed.present("Only one sentence here.")
    assert one.similarity.shape == (1, 1) and {"embed.summary_one", "embed.pca_one"} <= {line.key for line in one.lines}
    assert "embed.extremes" not in [line.key for line in one.lines]
    two = embed.present("First sentence.\nSecond sentence.")
    assert "embed.pca_two" in [line.key for line in two.lines] and "embed.extremes" in [line.key for line in two.lines]
    assert "embed.pca_two" not in [line.key for line in embed.present(BANK).lines]
    assert "embed.cls_untrained" in [line.key for line in embed.present(BANK, None, "cls").lines]
    assert "embed.not_sentence_model" not in [line.key for line in embed.present(BANK).lines]
    tuned = embed.present(BANK, "minilm-sentiment")  # the encoder tuned for sentiment: not a sentence encoder any more
    assert tuned.model == "minilm-sentiment" and "embed.not_sentence_model" in [line.key for line in tuned.lines]


def figure_strings(spec) -> list[str]:
    """Every string plotly draws (data and layout), messages rendered."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            found.append(value)

    walk(json.loads(spec.to_json()))
    return found


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n \n",
        "\x00\x07\n\x1b",
        "😀😀 emoji only\n<b>bold</b> & <a href='https://example.com'>link</a>",
        "control \x00\x07 chars\n日本語と English",
        "word " * 2000,
        "\n".join(["x"] * 40),
    ],
)
def test_hostile_input_answers_in_words(text):
    found = api.embed(text)
    if not text.replace("\x00", "").replace("\x07", "").replace("\x1b", "").strip():
        assert found["error_key"] == "input.empty"
        return
    assert "error" not in found, found
    n = len(found["sentences"])
    assert np.allclose(found["similarity"], np.array(found["similarity"]).T) and len(found["embeddings_2d"]) == n
    assert all("\x00" not in sentence for sentence in found["sentences"])
    if text.count("\n") >= 39:
        assert n == 32 and found["warnings"][0] == render(Msg("embed.too_many", count=40, limit=32))
    if len(text) >= 10_000:  # the backend cut it to the model's 512 tokens: the tab says so
        assert any("512" in note and note.startswith("Sentence 1:") for note in found["notes"]), found["notes"]
    if "\x00" in text:
        assert any(note.startswith("Sentence 1:") for note in found["notes"])
    result = embed.present(text)
    for spec in (result.similarity_figure, result.sentence_map, result.token_map):
        drawn = figure_strings(spec)
        assert not any("<b>bold" in s or "<a href" in s for s in drawn)  # markup drawn as text, not as markup
    if "<b>" in text:
        assert any("&lt;b&gt;bold&lt;/b&gt;" in s for s in figure_strings(result.similarity_figure))


def test_hostile_words_and_refusals_are_messages():
    with pytest.raises(InputError) as empty:
        embed.word_in_context(BANK, "   ")
    assert empty.value.msg.key == "embed.no_word"
    with pytest.raises(InputError) as rare:
        embed.word_in_context(BANK, "money")
    assert rare.value.msg.key == "embed.word_too_rare" and dict(rare.value.msg.params)["count"] == 1
    with pytest.raises(InputError):
        embed.word_in_context(BANK, "x" * 10_000)
    marked = embed.word_in_context("<b>bank</b> one.\nA <b>bank</b> two.", "<b>bank</b>")
    assert all("<b>bank" not in s for s in figure_strings(marked.figure))
    with pytest.raises(InputError):
        embed.present(BANK, None, "median")


def test_japanese_on_the_english_model_is_flagged_unreadable():
    result = embed.present("私は銀行に行った。\n銀行は金利を上げた。\n川の土手に座った。")
    assert "embed.unreadable" in [w.key for w in result.warnings]
    assert "embed.unreadable" not in [w.key for w in embed.present(BANK).warnings]


def test_figures_write_values_and_keep_labels_short():
    labels = [embed_views.sentence_label(i, "A very long sentence that goes on and on " * 3) for i in range(32)]
    assert all(len(label) <= embed_views.LABEL_CHARACTERS + 4 for label in labels)
    spec = embed_views.similarity_heatmap(np.eye(32) * 0.5 + 0.5, labels, "t")
    trace = spec["data"][0]
    assert trace["texttemplate"] == "%{text}" and trace["text"][0][1] == ".50" and trace["text"][0][0] == "1.00"
    matrix = np.array([[1.0, -0.25, -0.001], [-0.25, 1.0, 0.5], [-0.001, 0.5, 1.0]])
    small = embed_views.similarity_heatmap(matrix, labels[:3], "t")
    assert small["data"][0]["text"][0][1:] == ["-0.25", "0.00"]


def test_twenty_sentences_in_a_few_seconds(capsys):
    """20 new sentences through the backend (20 cached forwards) and the tab's numpy: the time is printed."""
    sentences = "\n".join(f"Sentence number {i} says something about {word}." for i, word in enumerate("abcdefghijklmnopqrst"))
    embed.present("Warm the model up.")
    began = time.perf_counter()
    result = embed.present(sentences)
    cold = time.perf_counter() - began
    began = time.perf_counter()
    embed.present(sentences, None, "mean", 3)
    warm = time.perf_counter() - began
    assert result.similarity.shape == (20, 20) and result.points.shape == (20, 2)
    with capsys.disabled():
        print(f"\n20 sentences: {cold:.3f} s new, {warm:.3f} s another pooling and layer (cached analyses)")
