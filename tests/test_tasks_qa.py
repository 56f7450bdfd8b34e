"""QA span decoding on hand-made logits: windows, edges, no-answer, metrics."""

import numpy as np
import pytest

from explorer.tasks.qa import Window, best_answers, exact_match, f1, window_candidates, word_span

CONTEXT = "The Transformer was introduced in 2017 by Google."
# context tokens and their spans; a window is [CLS] q q [SEP] <context tokens> [SEP]
SPANS = [(0, 3), (4, 15), (16, 19), (20, 30), (31, 33), (34, 38), (39, 41), (42, 48), (48, 49)]


def window(context_spans, start_at=None, end_at=None, cls=0.0, low=-8.0, high=8.0):
    """Logits for [CLS] + 2 question tokens + [SEP] + context + [SEP]; ``*_at`` index context_spans."""
    offsets = [None, None, None, None] + list(context_spans) + [None]
    start = np.full(len(offsets), low)
    end = np.full(len(offsets), low)
    start[0] = end[0] = cls
    if start_at is not None:
        start[4 + start_at] = high
    if end_at is not None:
        end[4 + end_at] = high
    return Window(start, end, offsets)


def test_single_window_answer_and_char_span():
    answers, no_answer = best_answers(CONTEXT, [window(SPANS, 5, 5)])
    assert answers[0].text == "2017" and (answers[0].start, answers[0].end) == (34, 38)
    assert answers[0].score > 0.99 and no_answer < 1e-6


def test_question_tokens_are_never_an_answer():
    w = window(SPANS, 5, 5)
    w.start_logits[1] = w.end_logits[2] = 50.0  # the question itself scores highest
    answers, _ = best_answers(CONTEXT, [w])
    assert answers[0].text == "2017"


def test_end_before_start_and_too_long_spans_are_excluded():
    w = window(SPANS, start_at=5, end_at=1)  # best end precedes best start
    answers, _ = best_answers(CONTEXT, [w], top_k=50)
    assert all(a.start <= a.end for a in answers)
    long = window(SPANS, start_at=0, end_at=8)
    assert all(a.end_token - a.start_token < 3 for a in best_answers(CONTEXT, [long], max_answer_len=3, top_k=50)[0])


def test_answer_crossing_a_window_edge_is_found_whole_in_the_overlapping_window():
    # Window 1 ends after "in 20" ... it holds only the start; window 2 (stride overlap) holds all of "2017 by Google".
    first = window(SPANS[:5], start_at=4, end_at=None, cls=2.0)  # sees "in" but not the year: unsure
    second = window(SPANS[3:], start_at=2, end_at=4)  # "2017 by Google"
    answers, no_answer = best_answers(CONTEXT, [first, second])
    assert answers[0].text == "2017 by Google" and answers[0].window == 1
    assert no_answer < 1e-6  # the confident window decides


def test_same_span_from_two_windows_is_listed_once_with_the_scores_summed():
    a = window(SPANS, 5, 5, high=4.0)
    b = window(SPANS, 5, 5, high=9.0)
    answers, _ = best_answers(CONTEXT, [a, b], top_k=5)
    assert [x.text for x in answers].count("2017") == 1
    alone = [best_answers(CONTEXT, [w], top_k=5)[0][0].score for w in (a, b)]
    assert answers[0].text == "2017" and answers[0].score == pytest.approx(sum(alone))
    assert answers[0].window == 0  # the first window that found it, as transformers keeps the first


REPEATED = "Paris is big. paris is old."
# tokens: par ##is is big . par ##is is old .
REPEATED_SPANS = [(0, 3), (3, 5), (6, 8), (9, 12), (12, 13), (14, 17), (17, 19), (20, 22), (23, 26), (26, 27)]
REPEATED_TOKENS = ["par", "##is", "is", "big", ".", "par", "##is", "is", "old", "."]


def pieces_window(starts, ends, high=6.0):
    """[CLS] q q [SEP] + the REPEATED context + [SEP], with tokens; ``starts``/``ends`` index the context."""
    w = window(REPEATED_SPANS, high=high)
    for i in starts:
        w.start_logits[4 + i] = high
    for i in ends:
        w.end_logits[4 + i] = high
    return Window(w.start_logits, w.end_logits, w.context_offsets, ["[CLS]", "q", "q", "[SEP]", *REPEATED_TOKENS, "[SEP]"])


def test_answers_widen_to_whole_words():
    w = pieces_window(starts=[1], ends=[1])  # the model points at "##is" alone
    answers, _ = best_answers(REPEATED, [w], top_k=3)
    assert answers[0].text == "Paris" and (answers[0].start_token, answers[0].end_token) == (4, 5)
    raw, _ = best_answers(REPEATED, [w], top_k=3, align_to_words=False)
    assert raw[0].text == "is" and (raw[0].start, raw[0].end) == (3, 5)
    assert all(a.text not in ("is", "Par") for a in answers)  # no piece of a word is an answer on its own


def test_the_same_text_at_two_places_is_one_answer_ignoring_case():
    w = pieces_window(starts=[0, 5], ends=[1, 6])  # "Paris" and "paris"
    answers, _ = best_answers(REPEATED, [w], top_k=5)
    texts = [a.text.lower() for a in answers]
    assert texts.count("paris") == 1 and len(texts) == len(set(texts))
    candidates = window_candidates(w, top_k=2 * 5 + 10)[0]  # token spans, as decoding sees them for top_k=5
    aligned = [(score, *word_span(w, s, e)) for score, s, e in candidates]
    to_paris = [
        score for score, s, e in aligned if REPEATED[w.context_offsets[s][0] : w.context_offsets[e][1]].lower() == "paris"
    ]
    assert len(to_paris) >= 4  # par, ##is, par ##is at two places
    paris = answers[texts.index("paris")]
    assert (paris.start, paris.end, paris.text) == (0, 5, "Paris")  # the first one found keeps its place
    assert paris.score == pytest.approx(sum(to_paris))
    assert paris.score > max(score for score, _, _ in candidates)  # summed, it beats every single span


def test_defaults_are_transformers_defaults():
    import inspect

    from explorer import backend
    from explorer.tasks.qa import MAX_ANSWER_LEN, decode

    assert MAX_ANSWER_LEN == 15 and backend.QA_MAX_LENGTH == 384 and backend.QA_STRIDE == 128
    defaults = {name: p.default for name, p in inspect.signature(decode).parameters.items() if name != "result"}
    assert defaults == {"top_k": 5, "max_answer_len": 15, "align_to_words": True}


def test_top_k_is_sorted_and_no_answer_reported():
    answers, no_answer = best_answers(CONTEXT, [window(SPANS, None, None, cls=10.0)], top_k=3)
    assert len(answers) == 3 and answers[0].score >= answers[1].score >= answers[2].score
    assert no_answer > 0.99


def test_window_without_context_gives_nothing():
    assert window_candidates(Window(np.zeros(3), np.zeros(3), [None, None, None])) == ([], 1.0)


@pytest.mark.parametrize(
    ("prediction", "truths", "em", "score"),
    [
        ("2017", ["2017"], 1.0, 1.0),
        ("in 2017.", ["2017"], 0.0, 2 / 3),
        ("The Atlantic Ocean", ["Atlantic Ocean"], 1.0, 1.0),
        ("Paris", ["Paris, France", "Paris"], 1.0, 1.0),
        ("", ["2017"], 0.0, 0.0),
    ],
)
def test_squad_metrics(prediction, truths, em, score):
    assert exact_match(prediction, truths) == em
    assert f1(prediction, truths) == pytest.approx(score)


def windowed(windows):
    """A hand-made ``WindowedAnalysis`` whose windows carry the given span-decoding logits."""
    from explorer.analysis import Analysis, WindowedAnalysis

    analyses = []
    for w in windows:
        n = len(w.context_offsets)
        sequence_ids = tuple(None if i in (0, 3, n - 1) else (0 if i < 3 else 1) for i in range(n))
        analyses.append(
            Analysis(
                model_name="hand-made-qa",
                text="When?",
                pair=CONTEXT,
                tokens=tuple(f"t{i}" for i in range(n)),
                token_ids=np.arange(n),
                # question tokens have spans too (into the question): decode must ignore them
                offsets=tuple((0, 4) if sid == 0 else span for sid, span in zip(sequence_ids, w.context_offsets, strict=True)),
                special_mask=np.array([sid is None for sid in sequence_ids]),
                attention_mask=np.ones(n, dtype=np.int64),
                attentions=np.full((1, 1, n, n), 1 / n, dtype=np.float32),
                hidden_states=np.zeros((2, n, 2), dtype=np.float32),
                logits=np.stack([w.start_logits, w.end_logits], axis=-1).astype(np.float32),
                sequence_ids=sequence_ids,
            )
        )
    return WindowedAnalysis("hand-made-qa", "When?", CONTEXT, tuple(analyses), stride=2)


def test_decode_reads_the_windows_of_an_analysis_like_best_answers():
    from explorer.tasks.qa import decode

    first = window(SPANS[:5], start_at=4, end_at=None, cls=2.0)
    second = window(SPANS[3:], start_at=2, end_at=4)
    second.start_logits[1] = second.end_logits[2] = 50.0  # a question token: never an answer
    answers, no_answer = decode(windowed([first, second]), top_k=3)
    expected, expected_null = best_answers(CONTEXT, [first, second], top_k=3)
    assert [(a.text, a.start, a.end, a.window) for a in answers] == [(a.text, a.start, a.end, a.window) for a in expected]
    assert answers[0].text == "2017 by Google"
    assert no_answer == pytest.approx(expected_null, abs=1e-6)


def test_doubts_say_when_the_best_answer_is_weak_or_beaten_by_no_answer():
    from explorer.tasks.qa import LOW_CONFIDENCE, Answer, doubts

    def answer(score):
        return Answer("2017", 34, 38, score, 0, 5, 5)

    assert doubts(None, 0.9) == []
    assert doubts(answer(0.9), 0.01) == []
    assert doubts(answer(LOW_CONFIDENCE / 2), 0.01) == ["low_confidence"]
    assert doubts(answer(0.5), 0.6) == ["no_answer_wins"]
    assert doubts(answer(0.1), 0.6) == ["low_confidence", "no_answer_wins"]
