"""Fill-mask tab presenters: predictions through the tiny BertForMaskedLM of test_fill_engine, the
[MASK] attention rows, the masking simulator on real text, and hostile input."""

from __future__ import annotations

import numpy as np
import pytest

from explorer import api, backend, fill_mask, models
from explorer.errors import ExplorerError
from explorer.present import fill

from .test_fill_engine import build_tiny_mlm


@pytest.fixture(scope="module")
def tiny_mlm(tmp_path_factory):
    folder = build_tiny_mlm(tmp_path_factory.mktemp("tiny-mlm-tab"))
    spec = models.register_model(models.ModelSpec(name="tiny-mlm-tab", source=str(folder), masked_lm=True))
    yield spec.name
    models.REGISTRY.pop(spec.name, None)
    fill_mask._heads.pop(spec.name, None)
    models.unload_all()
    backend.cache.clear()


def test_two_masks_predicted_filled_and_attended(tiny_mlm):
    result = fill.present("the [MASK] sat on the [MASK] .", tiny_mlm, 4, 1, -1)
    assert result.head_kind == "hub" and len(result.predictions) == 2
    assert [row[:2] for row in result.table.rows] == [[m, r] for m in (1, 2) for r in (1, 2, 3, 4)]
    filled = [piece for piece, label in result.filled if label]
    assert filled == [p.tokens[0].removeprefix("##") for p in result.predictions]
    weights = backend.analyze("the [MASK] sat on the [MASK] .", tiny_mlm).mean_attention(1)
    z = result.attention["data"][0]["z"]
    assert np.allclose(np.asarray(fill_mask_rows(z)), weights[[p.position for p in result.predictions]], atol=1e-6)
    passes = backend.forward_count()
    again = fill.view(result.key, 0, 2)  # another layer/head from the cache: no forward pass
    assert backend.forward_count() == passes
    head_rows = backend.analyze("the [MASK] sat on the [MASK] .", tiny_mlm).attention(0, 2)
    assert np.allclose(fill_mask_rows(again["data"][0]["z"]), head_rows[[p.position for p in result.predictions]], atol=1e-6)


def fill_mask_rows(z):
    from explorer.views import decode_array

    return decode_array(z)


def test_no_mask_is_a_hint_not_a_crash(tiny_mlm):
    with pytest.raises(ExplorerError) as hint:
        fill.present("no mask here", tiny_mlm)
    assert hint.value.msg.key == "fill.no_mask"


@pytest.mark.parametrize(
    ("text", "masks"),
    [
        ("😀 [MASK] 😀", 1),
        ("<b>[MASK]</b> & \x00\x07", 1),
        ("日本語 [MASK] English", 1),
        ("[MASK][MASK]", 2),  # adjacent masks are two masks
        ("the cat [MASK] " * 10, 10),
    ],
)
def test_hostile_text_still_fills_every_mask(tiny_mlm, text, masks):
    found = api.fill_mask(text, tiny_mlm)
    assert "error" not in found, found
    assert len(found["masks"]) == masks and all(len(mask["candidates"]) == 5 for mask in found["masks"])
    for mask in found["masks"]:
        probabilities = [c["probability"] for c in mask["candidates"]]
        assert probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1 + 1e-5


@pytest.mark.parametrize(
    ("text", "top_k", "key"),
    [
        ("", 5, "input.empty"),  # an empty box: the same message as every tab
        ("the [mask] sat", 5, "fill.no_mask"),  # only the upper-case [MASK] is the mask
        ("word " * 2000 + "[MASK]", 5, "fill.mask_cut"),  # beyond the tiny model's 64 positions
        ("[MASK] " * 40, 5, "fill.too_many_masks"),
        ("the [MASK] sat", 0, "fill.bad_top_k"),
        ("the [MASK] sat", fill_mask.MAX_TOP_K + 1, "fill.bad_top_k"),
        ("the [MASK] sat", "five", "index.not_whole"),
        ("the [MASK] sat", 2.5, "index.not_whole"),
    ],
)
def test_hostile_input_is_refused_with_its_own_message(tiny_mlm, text, top_k, key):
    assert api.fill_mask(text, tiny_mlm, top_k)["error_key"] == key


def test_without_the_offline_head_a_hub_failure_says_why(monkeypatch):
    """Offline and without the shipped head, nothing can fill masks: the user must read that the hub
    model could not be loaded, not that the embedded model (a silent fallback) has no head."""
    monkeypatch.setattr(fill_mask, "offline_head_available", lambda: False)
    found = api.fill_mask("the [MASK] sat .", "bert-base-uncased")
    assert found["error_key"] == "model.hub_failed", found


def test_offline_scores_come_from_the_recipe_metrics(tmp_path):
    metrics = tmp_path / "metrics.json"
    metrics.write_text('{"heldout": {"top5": 0.256}, "unigram_baseline": {"top5": 0.177}}', encoding="utf-8")
    line = fill.offline_scores(metrics)
    assert line.key == "fill.offline_scores" and dict(line.params) == {"top5": "25.6%", "baseline": "17.7%"}
    assert fill.offline_scores(tmp_path / "absent.json") is None
    metrics.write_text('{"heldout": {}}', encoding="utf-8")
    assert fill.offline_scores(metrics) is None


@pytest.mark.skipif(not fill_mask.offline_head_available(), reason="the offline MLM head is not shipped in this tree")
def test_the_embedded_model_fills_with_its_offline_head():
    result = fill.present("The capital of France is [MASK].", None, 3)
    assert result.head_kind == "offline" and result.key.model == models.DEFAULT_MODEL
    keys = [line.key for line in result.lines]
    assert keys[:3] == ["fill.summary", "fill.by_offline", "fill.offline_scores"]
    assert len(result.predictions) == 1 and len(result.predictions[0].tokens) == 3


def test_masking_on_real_text_and_hostile_input():
    found = api.masking("BERT learns language by guessing hidden words.", seed=11, draws=3000)
    assert len(found["tokens"]) == len(found["outcome"]) == len(found["model_input"])
    assert found["outcome"][0] == "not_chosen" and found["outcome"][-1] == "not_chosen"  # [CLS], [SEP]
    assert found["shares"]["chosen"] == pytest.approx(0.15, abs=0.02)
    assert found["shares"]["mask"] == pytest.approx(0.8, abs=0.05)
    again = api.masking("BERT learns language by guessing hidden words.", seed=11, draws=3000)
    assert again["outcome"] == found["outcome"]  # a seed is a seed
    clamped = api.masking("a b c", draws=10**9)
    assert any("10000" in w for w in clamped["warnings"])
    assert api.masking("")["error_key"] == "input.empty"
    assert api.masking("a b c", seed="x")["error_key"] == "index.not_whole"
    assert api.masking("a b c", draws=1.5)["error_key"] == "index.not_whole"


def test_the_masking_draw_shows_what_the_model_reads_and_where_the_loss_is():
    text = "BERT learns language by guessing the words that were hidden from it, one token at a time."
    result = fill.simulate(text, None, seed=4, draws=50)
    analysis = backend.analyze(text)
    mask = models.load_model(analysis.model_name).tokenizer.mask_token
    assert len(result.outcome) == len(analysis.tokens) and "mask" in result.outcome
    for position, (kind, row) in enumerate(zip(result.outcome, result.table.rows, strict=True)):
        original, shown, label = row[1], row[3], row[4]
        assert original == analysis.tokens[position] and result.model_input[position][0] == shown
        # the label is the original id exactly where the token was chosen, -100 everywhere else
        assert label == (analysis.token_ids[position] if kind != "not_chosen" else -100)
        assert (result.model_input[position][1] is not None) == (kind != "not_chosen")  # "loss here"
        if kind == "mask":
            assert shown == mask
        if kind in ("not_chosen", "unchanged"):
            assert shown == original
    assert [row[2].key for row in result.table.rows] == [f"fill.outcome.{kind}" for kind in result.outcome]
