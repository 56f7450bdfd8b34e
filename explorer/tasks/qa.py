"""Extractive question answering: pure span decoding over (possibly several) windows.

transformers 5 removed the question-answering pipeline, so this is ours, following the
last one (transformers 4.57's ``QuestionAnsweringPipeline``, fast tokenizers) step by
step, with its defaults, and checked against answers that pipeline produced
(``tests/data/qa_oracle/``, ``tests/test_tasks_qa_parity.py``):

1. In each window, mask every token that is not part of the context ([CLS] stays in),
   softmax over start and end logits; the [CLS] pair's score ``p_start[0] * p_end[0]``
   stands for "no answer" (the smallest over windows is reported).
2. Score each pair ``start <= end < start + max_answer_len`` (15 tokens) of context
   tokens by ``p_start * p_end`` and keep the window's best ``2 * top_k + 10``.
3. ``align_to_words`` (on by default): widen each span to whole words, a word being a
   token and its ``##`` pieces, so "cup ##ert ##ino" answers "Cupertino", never "ert".
4. Answers with the same text (ignoring case), from any span in any window, merge into
   the first one found, their scores summed: "Paris is big. Paris is old." lists
   "Paris" once. A summed score can exceed 1 when windows overlap on the answer.
5. Sort by score (ties keep the order found) and return the top k.

The backend cuts a long context into windows of 384 tokens that share 128 context tokens
(``backend.QA_MAX_LENGTH``, ``backend.QA_STRIDE``), as the pipeline's ``max_seq_len`` and
``doc_stride``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from . import continues_word, softmax

Span = tuple[int, int]

MAX_ANSWER_LEN = 15  # tokens, transformers' default


@dataclass(frozen=True)
class Answer:
    text: str
    start: int  # character offsets into the context
    end: int
    score: float
    window: int  # which window it came from (the first, when windows agree)
    start_token: int  # token indices inside that window (whole words when aligned)
    end_token: int


@dataclass(frozen=True)
class Window:
    """One model input: logits over its tokens, and where its context tokens sit in the context.

    ``tokens`` (the window's token strings) let spans widen to whole words; without them
    answers keep their pieces' own spans.
    """

    start_logits: np.ndarray  # (T,)
    end_logits: np.ndarray  # (T,)
    context_offsets: Sequence[Span | None]  # char span in the context for context tokens, None otherwise
    tokens: Sequence[str] = ()


def window_candidates(
    window: Window, max_answer_len: int = MAX_ANSWER_LEN, top_k: int = 20
) -> tuple[list[tuple[float, int, int]], float]:
    """Best (score, start_token, end_token) pairs inside one window, and its no-answer score."""
    is_context = np.array([span is not None for span in window.context_offsets])
    if not is_context.any():
        return [], 1.0
    keep = is_context.copy()
    keep[0] = True  # [CLS] stays in the softmax: its mass is the model's "no answer"
    start = softmax(np.where(keep, window.start_logits, -np.inf))
    end = softmax(np.where(keep, window.end_logits, -np.inf))
    no_answer = float(start[0] * end[0])
    start = np.where(is_context, start, 0.0)
    end = np.where(is_context, end, 0.0)
    scores = np.triu(np.outer(start, end))  # start <= end
    scores = np.tril(scores, max_answer_len - 1)  # end < start + max_answer_len
    flat = np.argsort(-scores, axis=None, kind="stable")[:top_k]  # ties: the earlier span first
    candidates = []
    for index in flat:
        s, e = np.unravel_index(index, scores.shape)
        if scores[s, e] <= 0:
            break
        candidates.append((float(scores[s, e]), int(s), int(e)))
    return candidates, no_answer


def word_span(window: Window, start: int, end: int) -> tuple[int, int]:
    """Token span ``start..end`` widened to whole words inside the window's context."""
    tokens, offsets = window.tokens, window.context_offsets
    while start > 0 and offsets[start - 1] is not None and continues_word(tokens[start]):
        start -= 1
    while end + 1 < len(tokens) and offsets[end + 1] is not None and continues_word(tokens[end + 1]):
        end += 1
    return start, end


def best_answers(
    context: str,
    windows: Sequence[Window],
    top_k: int = 5,
    max_answer_len: int = MAX_ANSWER_LEN,
    align_to_words: bool = True,
) -> tuple[list[Answer], float]:
    """Top-k answers over all windows (one per text) and the best no-answer score (module docstring).

    The no-answer score is the smallest [CLS] score over windows, as in the old
    transformers pipeline: a window that contains the answer is confident about it.
    """
    found: dict[str, Answer] = {}  # by lower-cased text, in the order found
    no_answer = 1.0
    per_window = 2 * top_k + 10 if align_to_words else top_k  # room for the spans that merge
    for index, window in enumerate(windows):
        candidates, null = window_candidates(window, max_answer_len=max_answer_len, top_k=per_window)
        no_answer = min(no_answer, null)
        for score, s, e in candidates:
            if align_to_words and window.tokens:
                s, e = word_span(window, s, e)
            start_char, end_char = window.context_offsets[s][0], window.context_offsets[e][1]
            text = context[start_char:end_char]
            earlier = found.get(text.lower())
            if earlier is None:
                found[text.lower()] = Answer(text, start_char, end_char, score, index, s, e)
            else:
                found[text.lower()] = replace(earlier, score=earlier.score + score)
    ranked = sorted(found.values(), key=lambda a: -a.score)
    return ranked[:top_k], no_answer


# The offline model never learned "no answer": a low best score is the signal. 0.3 for the shipped
# minilm-qa (issue 17): on its 44 natural questions it flags 3 of 28 right answers (as 0.2 did), 4 of 16
# wrong ones (0.2: 2) and 33 of 44 questions asked of another paragraph (0.2: 27).
LOW_CONFIDENCE = 0.3


def windows_of(result) -> list[Window]:
    """Span-decoding windows from a ``WindowedAnalysis`` (start/end logits, context offsets)."""
    if any(w.logits is None or w.logits.ndim != 2 or w.logits.shape[-1] != 2 for w in result.windows):
        from ..errors import ExplorerError

        raise ExplorerError("qa.not_qa_model", model=result.model_name)
    return [
        Window(
            w.logits[:, 0],
            w.logits[:, 1],
            [span if sid == 1 else None for span, sid in zip(w.offsets, w.sequence_ids, strict=True)],
            w.tokens,
        )
        for w in result.windows
    ]


def decode(
    result, top_k: int = 5, max_answer_len: int = MAX_ANSWER_LEN, align_to_words: bool = True
) -> tuple[list[Answer], float]:
    """Best answers of a ``WindowedAnalysis`` and its no-answer score: the app's and the recipes' one path."""
    return best_answers(
        result.context, windows_of(result), top_k=top_k, max_answer_len=max_answer_len, align_to_words=align_to_words
    )


def doubts(best: Answer | None, no_answer: float) -> list[str]:
    """Why the best answer may be wrong: ``"low_confidence"`` and/or ``"no_answer_wins"``."""
    if best is None:
        return []
    found = []
    if best.score < LOW_CONFIDENCE:
        found.append("low_confidence")
    if no_answer > best.score:
        found.append("no_answer_wins")
    return found


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces."""
    import re
    import string

    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match(prediction: str, truths: Sequence[str]) -> float:
    return float(any(normalize_answer(prediction) == normalize_answer(truth) for truth in truths))


def f1(prediction: str, truths: Sequence[str]) -> float:
    """SQuAD token F1 against the best-matching reference answer."""
    from collections import Counter

    best = 0.0
    predicted = normalize_answer(prediction).split()
    for truth in truths:
        reference = normalize_answer(truth).split()
        common = sum((Counter(predicted) & Counter(reference)).values())
        if not predicted or not reference:
            best = max(best, float(predicted == reference))
            continue
        if common:
            precision, recall = common / len(predicted), common / len(reference)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best
