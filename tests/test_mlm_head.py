"""The offline masked-LM head (explorer.mlm_head) and its recipe (python -m explorer.train mlm):
the head's arithmetic against numpy, the recipe end to end on a small synthetic corpus, the
shipped head against the unigram baseline on held-out sentences, and the missing-file message."""

from __future__ import annotations

import json
from math import erf, sqrt

import numpy as np
import pytest

from explorer import mlm_head
from explorer.errors import ModelUnavailable
from explorer.messages import render
from explorer.models import MINILM_SHA256, load_model

SHIPPED = mlm_head.head_available()


def numpy_head(hidden, tensors, embeddings, eps):
    x = hidden @ tensors["dense.weight"].T + tensors["dense.bias"]
    x = 0.5 * x * (1 + np.vectorize(erf)(x / sqrt(2)))  # exact GELU
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    x = (x - mean) / np.sqrt(var + eps) * tensors["norm.weight"] + tensors["norm.bias"]
    return x @ embeddings.T + tensors["bias"]


def test_head_equals_numpy(tmp_path):
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)
    vocab, width = 50, 16
    embeddings = torch.randn(vocab, width)
    head = mlm_head.build_head(width, vocab, layer=3, eps=1e-12)
    with torch.no_grad():
        for parameter in head.parameters():
            parameter.normal_(0, 0.5)
    save_file(mlm_head.trained_tensors(head), str(tmp_path / mlm_head.WEIGHTS))
    (tmp_path / "config.json").write_text(json.dumps({"layer": 3, "base_sha256": MINILM_SHA256}))
    loaded = mlm_head.load_mlm_head(tmp_path, embeddings)
    hidden = torch.randn(7, width)
    with torch.inference_mode():
        ours = loaded(hidden).numpy()
    tensors = {name: value.numpy().astype(np.float64) for name, value in mlm_head.trained_tensors(head).items()}
    expected = numpy_head(hidden.numpy().astype(np.float64), tensors, embeddings.numpy().astype(np.float64), 1e-12)
    assert loaded.layer == 3
    np.testing.assert_allclose(ours, expected, atol=1e-4)


def test_missing_or_foreign_head_is_a_message(tmp_path):
    import torch

    with pytest.raises(ModelUnavailable) as missing:
        mlm_head.load_mlm_head(tmp_path / "nowhere", torch.zeros(3, 2))
    assert "explorer.train mlm" in render(missing.value.msg, "en") and "explorer.train mlm" in render(missing.value.msg, "ja")
    (tmp_path / mlm_head.WEIGHTS).write_bytes(b"")
    (tmp_path / "config.json").write_text(json.dumps({"layer": 1, "base_sha256": "0" * 64}))
    with pytest.raises(ModelUnavailable) as foreign:
        mlm_head.load_mlm_head(tmp_path, torch.zeros(3, 2))
    assert foreign.value.msg.key == "mlm.head.other_base"


@pytest.mark.train
def test_recipe_end_to_end_on_a_small_corpus(tmp_path):
    """The whole recipe (corpus by document, layer sweep, training, held-out scores, card) on HTML
    files the test writes: it runs anywhere, without Debian's python3.11-doc."""
    from explorer.train import mlm

    docs = tmp_path / "html"
    words = "the model reads every word of the sentence and guesses the hidden one from its context".split()
    rng = np.random.default_rng(0)
    for index in range(40):
        paragraphs = "".join(
            "<p>"
            + " ".join(rng.choice(words, size=12)).capitalize()
            + ". "
            + " ".join(rng.choice(words, size=9)).capitalize()
            + ".</p>"
            for _ in range(3)
        )
        (docs / f"page{index}.html").parent.mkdir(exist_ok=True)
        (docs / f"page{index}.html").write_text(f"<html><body>{paragraphs}<pre>code()</pre></body></html>")
    out = tmp_path / "head"
    metrics = mlm.train(out_dir=out, limit=150, docs=docs)
    assert 1 <= metrics["layer"] <= 6 and set(metrics["layer_sweep_top5"]) == {str(i) for i in range(1, 7)}
    assert metrics["heldout"]["masked_tokens"] > 0 and 0 <= metrics["heldout"]["top5"] <= 1
    assert (out / "MODEL_CARD.md").read_text().count("unigram baseline") == 1
    loaded = load_model(None)
    head = mlm_head.load_mlm_head(out, loaded.model.get_input_embeddings().weight)
    assert head.layer == metrics["layer"]


@pytest.mark.skipif(not SHIPPED, reason="no head shipped in assets/models/mlm")
def test_shipped_head_beats_the_unigram_baseline_on_held_out_sentences():
    from explorer.train import mlm

    config = json.loads((mlm_head.HEAD_FOLDER / "config.json").read_text())
    metrics = json.loads((mlm_head.HEAD_FOLDER / "metrics.json").read_text())
    assert config["base_sha256"] == MINILM_SHA256 and 1 <= config["layer"] <= 6
    loaded = load_model(None)
    head = mlm_head.load_mlm_head(mlm_head.HEAD_FOLDER, loaded.model.get_input_embeddings().weight)
    sentences = (mlm_head.HEAD_FOLDER.parent.parent.parent / "tests" / "data" / "mlm_heldout.txt").read_text().splitlines()
    hidden, targets = mlm.features(loaded, sentences, [head.layer], seed=99, eval_mode=True)
    found = mlm.accuracy(head, hidden[head.layer], targets)
    baseline_ids = loaded.tokenizer.convert_tokens_to_ids(metrics["unigram_baseline"]["tokens"])
    baseline_top5 = float(np.isin(targets, baseline_ids).mean())
    assert len(targets) > 100
    assert found["top5"] > baseline_top5
