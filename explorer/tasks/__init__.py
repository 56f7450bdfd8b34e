"""Task post-processing (sentiment, NER, QA, attribution): pure numpy over an analysis' arrays.

Each module decodes a model's outputs the way the matching transformers pipeline does and is
tested on hand-made arrays, without any model. ``softmax`` lives here, once.
"""

from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax along ``axis`` (float64)."""
    logits = np.asarray(logits, dtype=np.float64)
    exp = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return exp / exp.sum(axis=axis, keepdims=True)
