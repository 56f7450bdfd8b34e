"""Attention between MeCab words (issue 16): the aggregation on hand-made arrays, then end to end with
tiny random Japanese BERTs built here (``BertJapaneseTokenizer``, MeCab + unidic-lite, a small vocab)."""

from __future__ import annotations

import numpy as np
import pytest

from explorer import backend, japanese, models
from explorer.analysis import AnalysisKey
from explorer.present import attention

from . import conftest

TEXT = "自然言語処理は人工知能の重要な分野です。"

# ---- the pure part ----------------------------------------------------------------------------


def test_word_groups_put_each_words_pieces_together():
    tokens = ["[CLS]", "人", "##工", "知能", "の", "[SEP]"]
    special = [True, False, False, False, False, True]
    words = [["人", "##工"], ["知能"], ["の"]]
    assert japanese.word_groups(tokens, special, words) == [[0], [1, 2], [3], [4], [5]]


def test_word_groups_keep_the_pieces_a_cut_text_has_and_refuse_other_tokens():
    special = [True, False, False, True]
    assert japanese.word_groups(["[CLS]", "知能", "人", "[SEP]"], special, [["知能"], ["人", "##工"]]) == [[0], [1], [2], [3]]
    assert japanese.word_groups(["[CLS]", "知", "能", "[SEP]"], special, [["知能"]]) is None  # not this splitter's tokens
    assert japanese.word_groups(["[CLS]", "a", "b", "[SEP]"], special, [["a"]]) is None  # more tokens than pieces
    # the same word twice stays two words
    assert japanese.word_groups(["[CLS]", "の", "の", "[SEP]"], special, [["の"], ["の"]]) == [[0], [1], [2], [3]]


def test_keys_are_summed_and_queries_averaged_over_a_words_pieces():
    # tokens: [CLS] a ##b c ; words: [CLS] | a ##b | c
    weights = np.array(
        [
            [0.1, 0.2, 0.3, 0.4],
            [0.5, 0.1, 0.1, 0.3],
            [0.0, 0.6, 0.2, 0.2],
            [0.25, 0.25, 0.25, 0.25],
        ]
    )
    groups = [[0], [1, 2], [3]]
    expected = np.array(
        [
            [0.1, 0.2 + 0.3, 0.4],
            [(0.5 + 0.0) / 2, (0.1 + 0.1 + 0.6 + 0.2) / 2, (0.3 + 0.2) / 2],
            [0.25, 0.5, 0.25],
        ]
    )
    words = japanese.aggregate_words(weights, groups)
    np.testing.assert_allclose(words, expected)
    np.testing.assert_allclose(words.sum(axis=-1), 1.0)  # each row is still a distribution
    # leading axes (layers, heads) are kept; one piece per word changes nothing
    stacked = japanese.aggregate_words(np.stack([weights, weights.T]), groups)
    assert stacked.shape == (2, 3, 3)
    np.testing.assert_allclose(stacked[0], expected)
    np.testing.assert_allclose(japanese.aggregate_words(weights, [[0], [1], [2], [3]]), weights)


# ---- end to end with tiny random Japanese BERTs ---------------------------------------------------


@pytest.fixture()
def split_japanese_model(tmp_path, monkeypatch):
    """conftest's tiny Japanese BERT with 人工 missing from its vocab: WordPiece makes it 人 + ##工."""
    words = [word for word in conftest.TINY_JA_WORDS if word != "人工"] + ["人", "##工"]
    monkeypatch.setattr(conftest, "TINY_JA_WORDS", words)
    folder = conftest.build_tiny_japanese_bert(tmp_path / "tiny-ja-split")
    spec = models.register_model(
        models.ModelSpec(name="tiny-ja-split", source=str(folder), language="ja", requires=("fugashi", "unidic_lite"))
    )
    yield spec.name
    models.REGISTRY.pop(spec.name, None)
    models.unload_all()
    backend.cache.clear()


def test_the_word_view_of_a_japanese_model_aggregates_its_mecab_words(split_japanese_model):
    key = AnalysisKey(split_japanese_model, TEXT)
    analysis = backend.run(key)
    assert analysis.tokens[5:7] == ("人", "##工")  # one MeCab word, two pieces
    result = attention.word_view(key, 1, 2)
    assert result.words == (
        "[CLS]",
        "自然",
        "言語",
        "処理",
        "は",
        "人工",
        "知能",
        "の",
        "重要",
        "な",
        "分野",
        "です",
        "。",
        "[SEP]",
    )
    groups = [[i] for i in range(5)] + [[5, 6]] + [[i] for i in range(7, analysis.n_tokens)]
    np.testing.assert_allclose(result.weights, japanese.aggregate_words(analysis.attention(1, 2), groups), rtol=1e-6)
    np.testing.assert_allclose(result.weights.sum(axis=-1), 1.0, rtol=1e-5)
    assert result.figure["data"][0]["x"][5] == "5 人工"
    assert result.lines[0].key == "read.words_summary" and result.api()["words"][5] == "人工"


def test_the_word_view_with_the_shared_tiny_japanese_model(tiny_japanese_model):
    key = AnalysisKey(tiny_japanese_model, TEXT)
    result = attention.word_view(key, 0, 0)
    assert len(result.words) == backend.run(key).n_tokens  # every word is one piece in this vocab
    assert result.figure is not None


def test_an_english_model_has_no_word_view(tiny_model):
    result = attention.word_view(AnalysisKey(tiny_model, "the cat sat."), 0, 0)
    assert result.figure is None and result.weights is None
    assert result.lines[0].key == "read.words_none" and result.api()["weights"] is None


def test_a_japanese_sentiment_model_reads_japanese_with_a_confident_label(tmp_path):
    """The registered Japanese sentiment model's path (a MeCab BertJapaneseTokenizer + a 3-class head,
    loaded by ``from_pretrained`` from a folder) with a tiny random stand-in: no warning, a label."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from explorer.present import sentiment

    folder = conftest.build_tiny_japanese_bert(tmp_path / "tiny-ja-sentiment")
    labels = ["negative", "neutral", "positive"]
    config = BertConfig.from_pretrained(folder, id2label=dict(enumerate(labels)), label2id={n: i for i, n in enumerate(labels)})
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder)
    models.register_model(
        models.ModelSpec(
            name="tiny-ja-sentiment", source=str(folder), language="ja", task="sentiment", requires=("fugashi", "unidic_lite")
        )
    )
    try:
        result = sentiment.present(TEXT, "tiny-ja-sentiment", layer=1, head=0)
        assert result.label in labels and result.unreliable is None
        assert not any(message.key.startswith("read.") for message in result.warnings)
        assert result.lines[0].key == "sent.summary"
        # English text is no script problem for a Japanese model, but this tiny vocabulary has no English: [UNK]
        english = sentiment.present("The cat sat.", "tiny-ja-sentiment", layer=1, head=0)
        assert english.unreliable is not None and "read.too_many_unknown" in {m.key for m in english.warnings}
    finally:
        models.REGISTRY.pop("tiny-ja-sentiment", None)
        models.unload_all()
        backend.cache.clear()
