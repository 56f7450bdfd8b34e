"""Task post-processing (sentiment, NER, QA, attribution): pure numpy over an analysis' arrays.

Each module decodes a model's outputs the way the matching transformers pipeline does and is
tested on hand-made arrays, without any model. ``softmax`` and the WordPiece word rule
(``continues_word``) live here, once.
"""

from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax along ``axis`` (float64)."""
    logits = np.asarray(logits, dtype=np.float64)
    exp = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return exp / exp.sum(axis=axis, keepdims=True)


CONTINUATION = "##"  # WordPiece's mark on a piece that continues the word before it
UNKNOWN = "[UNK]"


def continues_word(token: str, unk_token: str = UNKNOWN) -> bool:
    """Whether a WordPiece token continues the previous token's word: it carries the ``##`` mark.

    ``[UNK]`` never does (WordPiece turns a whole word it cannot spell into one ``[UNK]``).
    """
    return token.startswith(CONTINUATION) and token != unk_token
