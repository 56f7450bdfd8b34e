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
    "text", ["", "😀 [MASK] 😀", "<b>[MASK]</b> & \x00\x07", "日本語 [MASK] English", "word " * 2000 + "[MASK]"]
)
def test_hostile_input_answers_in_words(tiny_mlm, text):
    found = api.fill_mask(text, tiny_mlm)
    assert ("error" in found) or all(len(mask["candidates"]) == 5 for mask in found["masks"])


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
