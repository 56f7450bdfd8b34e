"""The fill-mask engine (explorer.fill_mask) against transformers' own FillMaskPipeline on a tiny
random BertForMaskedLM the test builds: same candidates, same probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from explorer import backend, fill_mask, models
from explorer.errors import InputError, ModelUnavailable
from explorer.messages import render

from .conftest import TINY_WORDS


def build_tiny_mlm(folder):
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertTokenizer

    torch.manual_seed(1)
    words = TINY_WORDS if "[MASK]" in TINY_WORDS else [*TINY_WORDS, "[MASK]"]
    tokenizer = BertTokenizer(vocab={word: index for index, word in enumerate(words)})
    config = BertConfig(
        vocab_size=len(words), hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        max_position_embeddings=64,
    )  # fmt: skip
    model = BertForMaskedLM(config)
    with torch.no_grad():  # random biases make the ranking less flat than the zero init
        model.cls.predictions.bias.normal_(0, 2.0)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_mlm(tmp_path_factory):
    folder = build_tiny_mlm(tmp_path_factory.mktemp("tiny-mlm"))
    spec = models.register_model(models.ModelSpec(name="tiny-mlm", source=str(folder), masked_lm=True))
    yield spec.name, folder
    models.REGISTRY.pop(spec.name, None)
    fill_mask._heads.pop(spec.name, None)
    models.unload_all()
    backend.cache.clear()


def test_fill_mask_equals_transformers_pipeline(tiny_mlm):
    from transformers import pipeline

    name, folder = tiny_mlm
    oracle = pipeline("fill-mask", model=str(folder), tokenizer=str(folder), device="cpu")
    for text in ("the cat sat on the [MASK] .", "[MASK] cat [MASK] on the mat ."):
        ours = fill_mask.fill_mask(text, name, top_k=5)
        theirs = oracle(text, top_k=5)
        theirs = theirs if isinstance(theirs[0], list) else [theirs]
        assert ours.head == "hub" and len(ours.predictions) == len(theirs)
        for prediction, expected in zip(ours.predictions, theirs, strict=True):
            assert list(prediction.token_ids) == [row["token"] for row in expected]
            np.testing.assert_allclose(prediction.probabilities, [row["score"] for row in expected], atol=1e-5)
            assert ours.analysis.tokens[prediction.position] == "[MASK]"


def test_fill_mask_reads_the_cached_analysis(tiny_mlm):
    name, _ = tiny_mlm
    text = "the [MASK] sat on the mat ."
    first = fill_mask.fill_mask(text, name, top_k=3)
    passes = backend.forward_count()
    second = fill_mask.fill_mask(text, name, top_k=7)
    assert backend.forward_count() == passes  # one forward pass, one object
    assert second.analysis is first.analysis and second.analysis is backend.analyze(text, name)
    assert second.predictions[0].tokens[:3] == first.predictions[0].tokens


def test_fill_mask_refuses_with_messages(tiny_mlm, tiny_model):
    name, _ = tiny_mlm
    with pytest.raises(InputError) as no_mask:
        fill_mask.fill_mask("the cat sat", name)
    assert "[MASK]" in render(no_mask.value.msg, "ja")
    with pytest.raises(InputError):
        fill_mask.fill_mask("the [MASK]", name, top_k=fill_mask.MAX_TOP_K + 1)
    with pytest.raises(InputError):  # the only [MASK] lies beyond the 64-token window
        fill_mask.fill_mask("the cat " * 40 + "[MASK]", name)
    # A checkpoint without a pre-training head (an encoder saved alone) is not offered, and refused.
    assert tiny_model not in fill_mask.mask_models()
    with pytest.raises(ModelUnavailable) as refused:
        fill_mask.fill_mask("the [MASK]", tiny_model)
    assert tiny_model in render(refused.value.msg, "en")
    models.REGISTRY[tiny_model] = models.ModelSpec(name=tiny_model, source=models.REGISTRY[tiny_model].source, masked_lm=True)
    with pytest.raises(ModelUnavailable):  # says masked_lm, but the files carry no head: not a random one
        fill_mask.fill_mask("the [MASK]", tiny_model)


def test_top_k_of_is_a_stable_softmax():
    logits = np.array([[0.0, 2.0, 2.0, -1.0], [1000.0, 0.0, 999.0, 0.0]])
    ids, probabilities = fill_mask.top_k_of(logits, 2)
    assert ids.tolist() == [[1, 2], [0, 2]]
    expected = np.exp(logits[0] - 2) / np.exp(logits[0] - 2).sum()
    np.testing.assert_allclose(probabilities[0], expected[[1, 2]], rtol=1e-6)
    assert np.isfinite(probabilities).all() and probabilities[1, 0] > probabilities[1, 1]
