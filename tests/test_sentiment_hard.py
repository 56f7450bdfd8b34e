"""The shipped sentiment model on hand-written negation, contrast and hedged sentences (issue 17).

The per-group scores in ``metrics.json`` (written by ``python -m explorer.train sentiment
--evaluate-only``, or by the recipe) must be what the app itself gives on the same data today:
recomputed here through ``explorer.analyze`` + ``tasks.sentiment.predict``, as the Sentiment tab.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import explorer

DATA = Path(__file__).parent / "data" / "sentiment_hard.tsv"
FOLDER = Path(__file__).resolve().parent.parent / "assets" / "models" / "sentiment"
GROUPS = ("negation", "contrast", "hedged")


def rows() -> list[tuple[str, str, str]]:
    lines = DATA.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "group\tlabel\ttext"
    return [tuple(line.split("\t")) for line in lines[1:]]


def test_the_hard_set_is_balanced_and_clean():
    cases = rows()
    assert all(len(case) == 3 for case in cases)
    assert Counter((group, label) for group, label, _ in cases) == {
        (group, label): 13 for group in GROUPS for label in ("positive", "negative")
    }
    texts = [text for _, _, text in cases]
    assert len(set(texts)) == len(texts) == 78
    assert all(text == text.strip() and text.isascii() for text in texts)
    # the issue's own sentences are in it
    assert ("negation", "positive", "I expected to hate it, and I did not.") in cases
    assert ("hedged", "positive", "It was fine, I guess.") in cases


@pytest.fixture(scope="module")
def shipped_metrics() -> dict:
    return json.loads((FOLDER / "metrics.json").read_text())


def test_per_group_accuracy_through_the_app_equals_metrics_json(shipped_metrics):
    from explorer.tasks.sentiment import predict

    found: dict[str, list[tuple[str, bool, float]]] = {group: [] for group in GROUPS}
    for group, label, text in rows():
        prediction = predict(explorer.analyze(text, "minilm-sentiment"))
        found[group].append((label, prediction.label == label, prediction.probabilities[prediction.label]))
    found["overall"] = [item for group in GROUPS for item in found[group]]
    measured = shipped_metrics["hard_cases"]
    assert set(measured) == set(GROUPS) | {"overall"}
    for group, items in found.items():
        hits = [hit for _, hit, _ in items]
        assert measured[group]["n"] == len(items)
        assert measured[group]["accuracy"] == pytest.approx(sum(hits) / len(hits), abs=1e-12), group
        for label in ("positive", "negative"):
            on_label = [hit for item_label, hit, _ in items if item_label == label]
            assert measured[group][f"{label}_accuracy"] == pytest.approx(sum(on_label) / len(on_label), abs=1e-12)
        assert measured[group]["mean_confidence"] == pytest.approx(np.mean([p for _, _, p in items]), abs=1e-6)


def test_the_card_states_the_metrics_and_keeps_the_rest(shipped_metrics, tmp_path):
    """The card's section and score block are exactly what ``write_hard_case_section`` makes from
    metrics.json; rewriting it again changes nothing (the rest of the card is left alone)."""
    from explorer.train.sentiment import HARD_SECTION, write_hard_case_section

    shipped = (FOLDER / "MODEL_CARD.md").read_text()
    assert shipped.count(HARD_SECTION) == 1
    for group in (*GROUPS, "overall"):
        assert f"**{shipped_metrics['hard_cases'][group]['accuracy']:.1%}**" in shipped
    copy = tmp_path / "MODEL_CARD.md"
    copy.write_text(shipped)
    write_hard_case_section(copy, shipped_metrics)
    assert copy.read_text() == shipped
