"""QA decoding against golden answers of transformers 4.57's ``QuestionAnsweringPipeline``.

``tests/data/qa_oracle/make_goldens.py`` (run in a separate venv with transformers 4.57, the last
release with the QA pipeline) built the tiny random span model in ``model/`` and wrote what the
pipeline answered for each case. Here the app loads that model, cuts each context into its own
windows (``backend.analyze_qa``) and decodes the logits with ``explorer.tasks.qa.decode``, with
its defaults unless the case set other values: answers, character spans, order and scores must
be the pipeline's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from explorer import backend, models
from explorer.tasks.qa import decode, window_candidates, windows_of, word_span

ORACLE = Path(__file__).resolve().parent / "data" / "qa_oracle"
GOLDENS = json.loads((ORACLE / "goldens.json").read_text(encoding="utf-8"))
CASES = GOLDENS["cases"]
SCORE_TOLERANCE = 1e-6  # float32 (pipeline) vs float64 (ours) softmax, two transformers' forward: 1e-8 measured


@pytest.fixture(scope="module")
def oracle_model():
    spec = models.register_model(
        models.ModelSpec(name="qa-oracle-tiny", source=str(ORACLE / "model"), description="tiny QA oracle", task="qa")
    )
    yield spec.name
    models.REGISTRY.pop(spec.name, None)
    models.unload_all()
    backend.cache.clear()


def test_the_goldens_are_the_pipelines_and_cover_the_hard_cases():
    meta = GOLDENS["meta"]
    assert meta["transformers"].startswith("4.57.") and meta["made_by"] == "tests/data/qa_oracle/make_goldens.py"
    assert sum((ORACLE / "model" / name).stat().st_size for name in ("model.safetensors", "tokenizer.json")) < 1024**2
    assert len(CASES) >= 30
    assert sum(case["windows"] > 1 for case in CASES) >= 5  # long contexts, several windows
    assert sum(case["windows"] >= 3 for case in CASES) >= 3
    assert sum(not case["params"] for case in CASES) >= 20  # the defaults, as a user of the app gets them
    assert {"top_k", "max_answer_len", "align_to_words"} <= {name for case in CASES for name in case["params"]}


def test_word_alignment_and_merging_decide_these_answers(oracle_model):
    """Not vacuous: in most cases a candidate span cuts a word, several spans share a text, windows overlap."""
    cut = shared = across_windows = 0
    for case in CASES:
        result = backend.analyze_qa(case["question"], case["context"], oracle_model)
        windows = windows_of(result)
        seen: dict[str, set[int]] = {}
        cuts = 0
        for index, window in enumerate(windows):
            for _, s, e in window_candidates(window, top_k=2 * case["params"].get("top_k", 5) + 10)[0]:
                ws, we = word_span(window, s, e)
                cuts += (ws, we) != (s, e)
                text = result.context[window.context_offsets[ws][0] : window.context_offsets[we][1]].lower()
                seen.setdefault(text, set()).add(index)
        candidates = sum(len(window_candidates(w, top_k=2 * case["params"].get("top_k", 5) + 10)[0]) for w in windows)
        cut += cuts > 0
        shared += len(seen) < candidates
        across_windows += any(len(found_in) > 1 for found_in in seen.values())
    assert cut >= 25 and shared >= 25 and across_windows >= 5, (cut, shared, across_windows)


@pytest.mark.parametrize("case", CASES, ids=[f"{i}-{c['windows']}w" for i, c in enumerate(CASES)])
def test_answers_equal_transformers_4_57(oracle_model, case):
    result = backend.analyze_qa(case["question"], case["context"], oracle_model)
    assert len(result.windows) == case["windows"]  # 384-token windows sharing 128 context tokens, as doc_stride
    answers, no_answer = decode(result, **case["params"])
    ours = [(a.text, a.start, a.end) for a in answers]
    theirs = [(g["answer"], g["start"], g["end"]) for g in case["answers"]]
    assert ours == theirs
    assert all(result.context[a.start : a.end] == a.text for a in answers)
    assert [a.score for a in answers] == pytest.approx([g["score"] for g in case["answers"]], abs=SCORE_TOLERANCE)
    assert no_answer == pytest.approx(case["no_answer"], rel=1e-4, abs=1e-12)
