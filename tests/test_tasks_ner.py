"""NER post-processing on hand-made probabilities: no model involved."""

import numpy as np
import pytest

from explorer.tasks.ner import LABELS, group_entities, tags_from_spans, words

TEXT = "Tim Cook runs Apple Inc. in Cupertino"
TOKENS = ["[CLS]", "tim", "cook", "runs", "apple", "inc", ".", "in", "cup", "##ert", "##ino", "[SEP]"]
OFFSETS = [None, (0, 3), (4, 8), (9, 13), (14, 19), (20, 23), (23, 24), (25, 27), (28, 31), (31, 34), (34, 37), None]


def probs(tags, confidence=0.9):
    """One row per token: ``confidence`` on the given tag, the rest spread evenly."""
    rows = np.full((len(tags), len(LABELS)), (1 - confidence) / (len(LABELS) - 1))
    for i, tag in enumerate(tags):
        rows[i, LABELS.index(tag)] = confidence
    return rows


def test_tags_from_spans_marks_b_then_i():
    entities = [(0, 8, "PER"), (14, 24, "ORG"), (28, 37, "LOC")]
    assert tags_from_spans(OFFSETS, entities) == [
        "O", "B-PER", "I-PER", "O", "B-ORG", "I-ORG", "I-ORG", "O", "B-LOC", "I-LOC", "I-LOC", "O",
    ]  # fmt: skip


def test_simple_merges_b_and_i_into_entities_with_char_spans():
    tags = ["O", "B-PER", "I-PER", "O", "B-ORG", "I-ORG", "I-ORG", "O", "B-LOC", "I-LOC", "I-LOC", "O"]
    entities = group_entities(probs(tags), TOKENS, OFFSETS, TEXT, "simple")
    assert [(e.type, e.text) for e in entities] == [("PER", "Tim Cook"), ("ORG", "Apple Inc."), ("LOC", "Cupertino")]
    assert entities[0].score == pytest.approx(0.9)


def test_none_keeps_every_tagged_token():
    tags = ["O", "B-PER", "I-PER", "O", "O", "O", "O", "O", "O", "O", "O", "O"]
    entities = group_entities(probs(tags), TOKENS, OFFSETS, TEXT, "none")
    assert [(e.type, e.text) for e in entities] == [("B-PER", "Tim"), ("I-PER", "Cook")]


def test_word_strategies_repair_a_subword_with_a_different_tag():
    # "cupertino" = cup / ##ert / ##ino: the middle piece is tagged O with low confidence.
    tags = ["O", "O", "O", "O", "O", "O", "O", "O", "B-LOC", "O", "I-LOC", "O"]
    rows = probs(tags)
    rows[9] = probs(["O"], confidence=0.4)[0]
    assert [e.text for e in group_entities(rows, TOKENS, OFFSETS, TEXT, "simple")] == ["Cup", "ino"]
    for strategy in ("first", "average", "max"):
        assert [(e.type, e.text) for e in group_entities(rows, TOKENS, OFFSETS, TEXT, strategy)] == [("LOC", "Cupertino")]


def test_first_average_and_max_differ_as_documented():
    # "cupertino": cup and ##ino say O (0.6), ##ert says B-LOC very confidently (0.95).
    rows = probs(["O"] * 12)
    rows[8] = rows[10] = probs(["O"], confidence=0.6)[0]
    rows[9] = probs(["B-LOC"], confidence=0.95)[0]
    assert group_entities(rows, TOKENS, OFFSETS, TEXT, "first") == []  # the first piece decides: O
    assert group_entities(rows, TOKENS, OFFSETS, TEXT, "average") == []  # mean O 0.40 > mean B-LOC 0.35
    found = group_entities(rows, TOKENS, OFFSETS, TEXT, "max")  # the most confident piece decides
    assert [(e.type, e.text, round(e.score, 2)) for e in found] == [("LOC", "Cupertino", 0.95)]


def test_a_new_b_tag_starts_a_new_entity():
    tags = ["O", "B-PER", "B-PER", "O", "O", "O", "O", "O", "O", "O", "O", "O"]
    assert [e.text for e in group_entities(probs(tags), TOKENS, OFFSETS, TEXT)] == ["Tim", "Cook"]


def test_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="choose one of none, simple, first, average, max"):
        group_entities(probs(["O"] * 12), TOKENS, OFFSETS, TEXT, "mean")


def test_punctuation_is_its_own_word_for_word_strategies():
    text = "in Berlin."
    tokens = ["[CLS]", "in", "berlin", ".", "[SEP]"]
    offsets = [None, (0, 2), (3, 9), (9, 10), None]
    rows = probs(["O", "O", "B-LOC", "O", "O"], confidence=0.8)
    rows[3] = probs(["O"], confidence=0.99)[0]  # the full stop is very sure it is O
    for strategy in ("first", "average", "max"):
        assert [e.text for e in group_entities(rows, tokens, offsets, text, strategy)] == ["Berlin"]


def test_labels_without_a_prefix_continue_like_i_tags():
    labels = ["O", "PER", "LOC"]
    rows = np.full((len(TOKENS), 3), 0.05)
    rows[:, 0] = 0.9
    rows[1:3] = [0.05, 0.9, 0.05]  # tim cook: PER PER
    rows[8:11] = [0.05, 0.05, 0.9]  # cup ##ert ##ino: LOC
    for strategy in ("simple", "first", "average", "max"):
        found = group_entities(rows, TOKENS, OFFSETS, TEXT, strategy, labels)
        assert [(e.type, e.text) for e in found] == [("PER", "Tim Cook"), ("LOC", "Cupertino")]
    assert [(e.type, e.text) for e in group_entities(rows, TOKENS, OFFSETS, TEXT, "none", labels)][:2] == [
        ("PER", "Tim"),
        ("PER", "Cook"),
    ]


def test_words_follow_the_continuation_mark_not_the_characters():
    # "5°C" is one WordPiece word (5 ##° ##c); "東京" two (BERT splits CJK characters); [UNK] starts a word.
    tokens = ["[CLS]", "5", "##°", "##c", "東", "京", "[UNK]", "##s", "[SEP]"]
    offsets = [None, (0, 1), (1, 2), (2, 3), (4, 5), (5, 6), (7, 8), (8, 9), None]
    assert words(tokens, offsets) == [[1, 2, 3], [4], [5], [6, 7]]
    text = "5°C 東京 ßs"
    rows = probs(["O", "B-MISC", "O", "O", "B-LOC", "B-LOC", "O", "O", "O"])
    for strategy in ("first", "max"):  # "5" decides (first piece, most confident piece)
        found = group_entities(rows, tokens, offsets, text, strategy)
        assert [(e.type, e.text) for e in found] == [("MISC", "5°C"), ("LOC", "東"), ("LOC", "京")]


def test_a_symbol_that_starts_the_word_decides_it_under_first():
    text = "€999"  # € ##99 ##9: the first piece says O, so the word is O
    tokens, offsets = ["[CLS]", "€", "##99", "##9", "[SEP]"], [None, (0, 1), (1, 3), (3, 4), None]
    rows = probs(["O", "O", "B-MISC", "B-MISC", "O"], confidence=0.6)
    assert group_entities(rows, tokens, offsets, text, "first") == []
    assert [e.text for e in group_entities(rows, tokens, offsets, text, "average")] == ["€999"]


def test_a_decomposed_accent_stays_in_its_word_the_documented_exception():
    # An uncased tokenizer drops the combining tilde: "Sa\u0303o" (4 characters) becomes the piece "sao".
    text = "in Sa\u0303o Paulo"
    tokens, offsets = ["[CLS]", "in", "sao", "paulo", "[SEP]"], [None, (0, 2), (3, 7), (8, 13), None]
    rows = probs(["O", "O", "B-LOC", "I-LOC", "O"])
    for strategy in ("simple", "first", "average", "max"):
        assert [(e.type, e.text) for e in group_entities(rows, tokens, offsets, text, strategy)] == [("LOC", "Sa\u0303o Paulo")]


def tagger_analysis(tags, text=TEXT, offsets=OFFSETS):
    """A hand-made token classifier's ``Analysis``: logits that put 0.9 on each tag."""
    from explorer.analysis import Analysis

    n = len(tags)
    return Analysis(
        model_name="hand-made-tagger",
        text=text,
        tokens=tuple(TOKENS),
        token_ids=np.arange(n),
        offsets=tuple(offsets),
        special_mask=np.array([span is None for span in offsets]),
        attention_mask=np.ones(n, dtype=np.int64),
        attentions=np.full((1, 1, n, n), 1 / n, dtype=np.float32),
        hidden_states=np.zeros((2, n, 2), dtype=np.float32),
        logits=np.log(probs(tags)).astype(np.float32),
        labels=tuple(LABELS),
    )


def test_entities_and_token_tags_of_an_analysis_decode_its_logits():
    from explorer.tasks.ner import entities, token_tags

    tags = ["O", "B-PER", "I-PER", "O", "B-ORG", "I-ORG", "I-ORG", "O", "B-LOC", "I-LOC", "I-LOC", "O"]
    analysis = tagger_analysis(tags)
    assert [(e.type, e.text) for e in entities(analysis)] == [("PER", "Tim Cook"), ("ORG", "Apple Inc."), ("LOC", "Cupertino")]
    expected = group_entities(probs(tags), TOKENS, OFFSETS, TEXT, "first")
    for got, want in zip(entities(analysis, "first"), expected, strict=True):
        assert (got.type, got.start, got.end) == (want.type, want.start, want.end)
        assert got.score == pytest.approx(want.score, abs=1e-6)
    found = token_tags(analysis)
    assert [tag for tag, _ in found] == tags
    assert all(p == pytest.approx(0.9, abs=1e-6) for _, p in found)


def test_a_model_without_token_logits_is_not_a_tagger():
    from dataclasses import replace

    from explorer.errors import ExplorerError
    from explorer.tasks.ner import entities, token_tags

    sentence_level = replace(tagger_analysis(["O"] * 12), logits=np.zeros(2, dtype=np.float32))
    for decode in (entities, token_tags):
        with pytest.raises(ExplorerError) as error:
            decode(sentence_level)
        assert error.value.msg.key == "ner.not_tagger" and "hand-made-tagger" in str(error.value)
