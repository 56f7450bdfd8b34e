"""Syntax heads (Clark et al. 2019, section 4.2) on hand-made arrays and hand-parsed sentences."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.syntax import OFFSETS, ROOT, SyntaxCounts, arcs_of, offset_hits, predicted_heads, word_level, word_of_pieces

pytestmark = pytest.mark.unit

# "The cat sat on the mat ." parsed by hand: each word's head word and relation.
CAT_WORDS = ["The", "cat", "sat", "on", "the", "mat", "."]
CAT_HEADS = [1, 2, ROOT, 2, 5, 3, 2]
CAT_RELATIONS = ["det", "nsubj", "ROOT", "prep", "det", "pobj", "punct"]
# "She quickly left ."
SHE_HEADS = [2, 2, ROOT, 2]
SHE_RELATIONS = ["nsubj", "advmod", "ROOT", "punct"]


def pointing(heads: list[int]) -> np.ndarray:
    """A word attention matrix whose every dependent puts all its attention on its gold head (the root on itself)."""
    n_words = len(heads)
    matrix = np.zeros((n_words, n_words))
    for dependent, head in enumerate(heads):
        matrix[dependent, dependent if head == ROOT else head] = 1.0
    return matrix


def gathering(heads: list[int]) -> np.ndarray:
    """Every head word spreads its attention evenly over its dependents (a word without any: on itself)."""
    n_words = len(heads)
    matrix = np.zeros((n_words, n_words))
    for head_word in range(n_words):
        dependents = [d for d, h in enumerate(heads) if h == head_word]
        matrix[head_word, dependents or [head_word]] = 1.0 / max(1, len(dependents))
    return matrix


def previous_word(n_words: int) -> np.ndarray:
    """Each word attends to the word before it; the first word, which has none, to the second."""
    matrix = np.zeros((n_words, n_words))
    for word in range(n_words):
        matrix[word, word - 1 if word else 1] = 1.0
    return matrix


def cat_attention() -> np.ndarray:
    """(2 layers, 2 heads, W, W): 0.0 points at gold heads, 0.1 gathers dependents, 1.0 previous word, 1.1 uniform."""
    n_words = len(CAT_WORDS)
    return np.stack(
        [
            np.stack([pointing(CAT_HEADS), gathering(CAT_HEADS)]),
            np.stack([previous_word(n_words), np.full((n_words, n_words), 1.0 / n_words)]),
        ]
    )


def test_word_level_sums_key_pieces_and_averages_query_pieces():
    # [CLS] the play ##ing cat [SEP]: words the=0, playing=1 (two pieces), cat=2; specials belong to none
    owner = np.array([-1, 0, 1, 1, 2, -1])
    attention = np.array(
        [
            [100, 100, 100, 100, 100, 100],  # [CLS] row: dropped
            [0, 1, 2, 3, 4, 0],  # the
            [0, 5, 6, 7, 8, 0],  # play
            [0, 1, 2, 3, 4, 0],  # ##ing
            [9, 1, 1, 1, 1, 9],  # cat: its weight on [CLS]/[SEP] is dropped
            [100, 100, 100, 100, 100, 100],  # [SEP] row: dropped
        ],
        dtype=float,
    )
    # to "playing": sum of the play and ##ing columns; from "playing": mean of its two rows
    expected = np.array([[1, 2 + 3, 4], [(5 + 1) / 2, (6 + 7 + 2 + 3) / 2, (8 + 4) / 2], [1, 1 + 1, 1]])
    np.testing.assert_allclose(word_level(attention, owner, 3), expected)
    # leading layer and head axes are kept
    stacked = np.stack([np.stack([attention, 2 * attention])])
    np.testing.assert_allclose(word_level(stacked, owner, 3), np.stack([np.stack([expected, 2 * expected])]))


def test_word_level_refuses_a_word_without_pieces():
    with pytest.raises(ValueError, match="words without a piece"):
        word_level(np.ones((3, 3)), np.array([0, 2, -1]), 3)


def test_pieces_align_to_words_by_character_offsets():
    # "the playing cat": [CLS] the play ##ing cat [SEP]
    offsets = [None, (0, 3), (4, 8), (8, 11), (12, 15), None]
    assert word_of_pieces(offsets, [(0, 3), (4, 11), (12, 15)]).tolist() == [-1, 0, 1, 1, 2, -1]
    # "I don't know": pieces i don ' t know, spaCy words I do n't know: "don" starts in "do"
    pieces = [(0, 1), (2, 5), (5, 6), (6, 7), (8, 12)]
    assert word_of_pieces(pieces, [(0, 1), (2, 4), (4, 7), (8, 12)]).tolist() == [0, 1, 2, 2, 3]
    # "I cannot go": one piece "cannot" for the words "can" and "not": "not" gets no piece
    owner = word_of_pieces([(0, 1), (2, 8), (9, 11)], [(0, 1), (2, 5), (5, 8), (9, 11)])
    assert owner.tolist() == [0, 1, 3] and 2 not in owner


def test_predictions_exclude_the_word_itself_and_ties_go_to_the_first_word():
    matrix = np.array([[0.9, 0.05, 0.05], [0.2, 0.6, 0.2], [0.1, 0.3, 0.6]])
    to_head, to_dependent = predicted_heads(matrix)
    assert to_head.tolist() == [1, 0, 1]  # row argmax without the diagonal; row 0 ties 1 and 2 -> 1
    assert to_dependent.tolist() == [1, 2, 1]  # column argmax without the diagonal: A[1,0]=.2 > A[2,0]=.1, A[1,2]=.2 > A[0,2]


def test_a_head_pointing_at_the_gold_heads_scores_one_and_others_what_we_count_by_hand():
    counts = SyntaxCounts(2, 2)
    counts.add_sentence(cat_attention(), CAT_HEADS, CAT_RELATIONS)
    relations = counts.relations
    assert {name: rel.count for name, rel in relations.items()} == {"det": 2, "nsubj": 1, "prep": 1, "pobj": 1, "punct": 1}
    for name, rel in relations.items():
        assert rel.dependent_to_head[0, 0] == rel.count, name  # 0.0 points at every gold head
        assert rel.head_to_dependent[0, 1] == rel.count, name  # 0.1: each head word attends to its dependents
    # 1.0, the previous word: The->(cat) right, cat->The wrong, on->sat right, the->on, mat->the, .->mat wrong
    previous = {name: int(rel.dependent_to_head[1, 0]) for name, rel in relations.items()}
    assert previous == {"det": 1, "nsubj": 0, "prep": 1, "pobj": 0, "punct": 0}
    # 1.1, uniform: every tie goes to the first other word: The->cat right, every other word -> The: wrong
    uniform = {name: int(rel.dependent_to_head[1, 1]) for name, rel in relations.items()}
    assert uniform == {"det": 1, "nsubj": 0, "prep": 0, "pobj": 0, "punct": 0}
    table = {row["relation"]: row for row in counts.table(min_count=1)}
    assert table["det"]["dependent_to_head"] == {"layer": 0, "head": 0, "accuracy": 1.0}
    assert table["det"]["head_to_dependent"] == {"layer": 0, "head": 1, "accuracy": 1.0}
    assert [row["relation"] for row in counts.table(min_count=1)] == ["det", "nsubj", "pobj", "prep", "punct"]
    assert [row["relation"] for row in counts.table(min_count=2)] == ["det"]
    assert counts.rare(min_count=2) == {"nsubj": 1, "pobj": 1, "prep": 1, "punct": 1}


def test_fixed_offset_baseline_equals_a_hand_count():
    # head word minus dependent, by hand. The cat sat on the mat .: det +1, nsubj +1, prep -1, det +1,
    # pobj -2, punct -4. She quickly left .: nsubj +2, advmod +1, punct -1.
    counts = SyntaxCounts(1, 1)
    counts.add_sentence(np.zeros((1, 1, 7, 7)), CAT_HEADS, CAT_RELATIONS)
    counts.add_sentence(np.zeros((1, 1, 4, 4)), SHE_HEADS, SHE_RELATIONS)
    hits = {name: dict(zip(OFFSETS, rel.offsets.tolist(), strict=True)) for name, rel in counts.relations.items()}
    assert hits["det"] == {-1: 0, 1: 2, -2: 0, 2: 0, -3: 0, 3: 0}
    assert hits["nsubj"] == {-1: 0, 1: 1, -2: 0, 2: 1, -3: 0, 3: 0}
    assert hits["punct"] == {-1: 1, 1: 0, -2: 0, 2: 0, -3: 0, 3: 0}  # -4 is beyond the baseline's reach
    baseline = {row["relation"]: row["baseline"] for row in counts.table(min_count=1)}
    assert baseline["det"] == {"offset": 1, "accuracy": 1.0}
    assert baseline["nsubj"] == {"offset": 1, "accuracy": 0.5}  # +1 and +2 tie: the nearer offset
    assert baseline["punct"] == {"offset": -1, "accuracy": 0.5}
    assert baseline["pobj"] == {"offset": -2, "accuracy": 1.0}
    assert baseline["advmod"] == {"offset": 1, "accuracy": 1.0}


def test_arcs_leave_out_the_root_and_offsets_count_exact_distances():
    arcs = arcs_of(CAT_HEADS, CAT_RELATIONS)
    assert "ROOT" not in arcs and arcs["det"][0].tolist() == [0, 4] and arcs["det"][1].tolist() == [1, 5]
    assert offset_hits(np.array([0, 4, 5]), np.array([1, 5, 3])).tolist() == [0, 2, 1, 0, 0, 0]


def test_merged_counts_equal_counting_everything_at_once():
    together = SyntaxCounts(2, 2)
    together.add_sentence(cat_attention(), CAT_HEADS, CAT_RELATIONS)
    together.add_sentence(np.zeros((2, 2, 4, 4)), SHE_HEADS, SHE_RELATIONS)
    first, second = SyntaxCounts(2, 2), SyntaxCounts(2, 2)
    first.add_sentence(cat_attention(), CAT_HEADS, CAT_RELATIONS)
    second.add_sentence(np.zeros((2, 2, 4, 4)), SHE_HEADS, SHE_RELATIONS)
    assert second.merged(first).table(1) == first.merged(second).table(1) == together.table(1)
    with pytest.raises(ValueError):
        first.merged(SyntaxCounts(1, 2))
