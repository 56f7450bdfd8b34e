"""Task outputs do not depend on how the attentions are stored (issue 17).

``backend.build_analysis`` keeps attentions as float16 once they would exceed
``backend.COMPACT_ATTENTION_BYTES`` as float32 (``backend.storage_dtype``); logits and hidden
states are always float32. The threshold is lowered to 0 here so that short inputs are stored
as float16, and every shipped task model must give exactly the same answer both ways: the
sentiment probabilities, the NER entities and the QA answers with their scores.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from explorer import backend, models
from explorer.tasks import attribution as rollout
from explorer.tasks import ner, qa, sentiment

DATA = Path(__file__).parent / "data"


def both_ways(monkeypatch, name: str, text: str, pair: str | None = None):
    """The app's pipeline (``backend.run_loaded``, no cache) with float32, then float16 attention storage."""
    loaded = models.load_model(name)
    wide = backend.run_loaded(loaded, text, pair)
    with monkeypatch.context() as patch:
        patch.setattr(backend, "COMPACT_ATTENTION_BYTES", 0)
        narrow = backend.run_loaded(loaded, text, pair)
    for result, dtype in ((wide, np.float32), (narrow, np.float16)):
        for analysis in getattr(result, "windows", (result,)):
            assert analysis.attentions.dtype == dtype
            assert analysis.logits.dtype == np.float32 and analysis.hidden_states.dtype == np.float32
    return wide, narrow


def test_the_threshold_is_what_switches_storage():
    limit = backend.COMPACT_ATTENTION_BYTES
    n = int((limit / (6 * 12 * 4)) ** 0.5)  # MiniLM: 6 layers x 12 heads
    assert backend.storage_dtype(6, 12, n) == "float32"
    assert backend.storage_dtype(6, 12, n + 1) == "float16"


def test_sentiment_probabilities_do_not_change(monkeypatch):
    wide, narrow = both_ways(monkeypatch, "minilm-sentiment", "I expected to hate it, and I did not.")
    assert np.array_equal(wide.logits, narrow.logits)
    assert sentiment.predict(wide) == sentiment.predict(narrow)  # label and every probability, exactly
    # What is computed from the attentions themselves (the rollout map) moves by float16 rounding only.
    np.testing.assert_allclose(
        rollout.token_scores(narrow.attentions, narrow.special_mask),
        rollout.token_scores(wide.attentions, wide.special_mask),
        atol=1e-3,
    )


def test_ner_entities_do_not_change(monkeypatch):
    text = "Apple Inc. is looking at buying U.K. startup for $1 billion. Tim Cook is the CEO."
    wide, narrow = both_ways(monkeypatch, "minilm-ner", text)
    assert np.array_equal(wide.logits, narrow.logits)
    for strategy in ner.STRATEGIES:
        assert ner.entities(wide, strategy) == ner.entities(narrow, strategy)
    assert {("ORG", "Apple Inc."), ("PER", "Tim Cook")} <= {(e.type, e.text) for e in ner.entities(narrow)}


def test_qa_answers_and_scores_do_not_change_over_several_windows(monkeypatch):
    contexts = [json.loads(line)["context"] for line in (DATA / "qa_natural.jsonl").read_text().splitlines()]
    context = " ".join(dict.fromkeys(contexts))  # every paragraph once: more than one 384-token window
    wide, narrow = both_ways(monkeypatch, "minilm-qa", "When was the Transformer introduced?", context)
    assert len(wide.windows) == len(narrow.windows) > 1
    for a, b in zip(wide.windows, narrow.windows, strict=True):
        assert np.array_equal(a.logits, b.logits)
    assert qa.decode(wide, top_k=5) == qa.decode(narrow, top_k=5)  # answers, spans, scores, no-answer score
