"""The seams the explaining features build on: interventions (head gating), gradients, device.

Each is checked against an independent computation: the gated layer against the layer
computed by hand from its weights, the input gradient against finite differences.
"""

from __future__ import annotations

import numpy as np
import pytest

from explorer import backend, models
from explorer.analysis import AnalysisKey
from explorer.errors import InputError
from explorer.interventions import HeadGate, applied, encoder_layers, output_projection


@pytest.fixture(scope="module")
def tiny_classifier(tmp_path_factory):
    """A random-weight BERT sequence classifier (3 layers x 4 heads) registered as a sentiment model."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    from tests.conftest import TINY_WORDS

    torch.manual_seed(1)
    folder = tmp_path_factory.mktemp("tiny-gated")
    config = BertConfig(
        vocab_size=len(TINY_WORDS), hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=64,
        id2label={0: "negative", 1: "positive"}, label2id={"negative": 0, "positive": 1},
    )  # fmt: skip
    BertForSequenceClassification(config).save_pretrained(folder)
    BertTokenizer(vocab={word: index for index, word in enumerate(TINY_WORDS)}).save_pretrained(folder)
    spec = models.register_model(models.ModelSpec(name="tiny-gated", source=str(folder), task="sentiment"))
    yield spec.name
    models.REGISTRY.pop(spec.name, None)
    models.unload_all()
    backend.cache.clear()


TEXT = "the cat sat on the mat ."


def test_an_empty_or_unit_gate_is_bit_identical_to_no_intervention(tiny_classifier, fresh_cache):
    plain = backend.analyze(TEXT, tiny_classifier)
    for gate in (HeadGate.of([]), HeadGate.of([(0, 1), (2, 3)], gate=1.0)):
        gated = backend.analyze(TEXT, tiny_classifier, intervention=gate)
        assert np.array_equal(gated.attentions, plain.attentions)
        assert np.array_equal(gated.hidden_states, plain.hidden_states)
        assert np.array_equal(gated.logits, plain.logits)


def test_gating_one_head_keeps_its_layer_weights_and_changes_what_follows(tiny_classifier, fresh_cache):
    plain = backend.analyze(TEXT, tiny_classifier)
    gated = backend.analyze(TEXT, tiny_classifier, intervention=HeadGate.of([(1, 2)]))
    assert np.array_equal(gated.attentions[:2], plain.attentions[:2])  # the weights are computed before the gate
    assert np.array_equal(gated.hidden_states[:2], plain.hidden_states[:2])
    assert not np.allclose(gated.hidden_states[2], plain.hidden_states[2])
    assert not np.allclose(gated.attentions[2], plain.attentions[2])
    assert not np.allclose(gated.logits, plain.logits)


def test_gating_every_head_of_a_layer_equals_zeroing_its_attention_output_by_hand(tiny_classifier, fresh_cache):
    """With all heads of layer l off, W_O sees zeros: the block is LayerNorm(b_O + x) then its FFN, computed here in numpy."""
    import torch

    layer = 1
    plain = backend.analyze(TEXT, tiny_classifier)
    gated = backend.analyze(TEXT, tiny_classifier, intervention=HeadGate.of([(layer, h) for h in range(4)]))
    block = encoder_layers(models.load_model(tiny_classifier).model)[layer]

    def numpy_of(module, name):
        return getattr(module, name).detach().numpy().astype(np.float64)

    def layer_norm(x, module):
        mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + module.eps) * numpy_of(module, "weight") + numpy_of(module, "bias")

    x = plain.hidden_states[layer].astype(np.float64)  # the block's input is unchanged by the gate
    attention_out = layer_norm(numpy_of(block.attention.output.dense, "bias") + x, block.attention.output.LayerNorm)
    inner = attention_out @ numpy_of(block.intermediate.dense, "weight").T + numpy_of(block.intermediate.dense, "bias")
    inner = torch.nn.functional.gelu(torch.from_numpy(inner)).numpy()
    ffn = inner @ numpy_of(block.output.dense, "weight").T + numpy_of(block.output.dense, "bias")
    expected = layer_norm(ffn + attention_out, block.output.LayerNorm)
    assert np.abs(gated.hidden_states[layer + 1] - expected).max() < 1e-5
    assert np.abs(plain.hidden_states[layer + 1] - expected).max() > 1e-2  # and the gate did change something


def test_an_intervention_is_part_of_the_cache_key(tiny_classifier, fresh_cache):
    before = backend.forward_count()
    gate = HeadGate.of([(0, 0)])
    backend.run(AnalysisKey(tiny_classifier, TEXT))
    backend.run(AnalysisKey(tiny_classifier, TEXT, intervention=gate))
    backend.run(AnalysisKey(tiny_classifier, TEXT, intervention=HeadGate.of([(0, 0)])))  # equal value, same entry
    assert backend.forward_count() - before == 2


def test_hooks_are_removed_even_when_the_forward_raises(tiny_classifier):
    model = models.load_model(tiny_classifier).model
    projections = [output_projection(block) for block in encoder_layers(model)]
    with pytest.raises(RuntimeError, match="boom"), applied(model, HeadGate.of([(0, 1), (2, 0)])):
        assert sum(len(p._forward_pre_hooks) for p in projections) == 2
        raise RuntimeError("boom")
    assert all(len(p._forward_pre_hooks) == 0 for p in projections)

    loaded = models.load_model(tiny_classifier)
    batch = backend.preprocess(loaded, TEXT)
    broken = backend.Batch({**batch.inputs, "input_ids": batch.inputs["input_ids"] + 10_000}, batch.windows, 0, False, 64)
    with pytest.raises(IndexError):  # an id beyond the vocabulary fails inside the forward pass
        backend.forward(loaded, broken, HeadGate.of([(1, 1)]))
    assert all(len(p._forward_pre_hooks) == 0 for p in projections)


def test_a_head_that_does_not_exist_is_a_clear_message(tiny_classifier):
    with pytest.raises(InputError) as caught:
        backend.analyze(TEXT, tiny_classifier, intervention=HeadGate.of([(3, 0)]))
    assert caught.value.msg.key == "intervention.head_out_of_range"


def test_input_gradient_matches_finite_differences(tiny_classifier):
    """d logit / d embeddings from one backward pass, against central differences along a random direction."""
    import torch

    target = backend.Target("class", index=1)
    gradients = backend.input_gradients(TEXT, tiny_classifier, target)
    assert gradients.gradient.shape == gradients.embeddings.shape == (len(gradients.tokens), 32)
    loaded = models.load_model(tiny_classifier)
    batch = backend.preprocess(loaded, TEXT)
    inputs = {k: v for k, v in batch.inputs.items() if k != "input_ids"}
    direction = np.random.default_rng(0).standard_normal(gradients.embeddings.shape).astype(np.float32)
    epsilon = 1e-2

    def logit(embeddings: np.ndarray) -> float:
        with torch.no_grad():
            return float(loaded.model(inputs_embeds=torch.from_numpy(embeddings)[None], **inputs).logits[0, 1])

    numeric = (logit(gradients.embeddings + epsilon * direction) - logit(gradients.embeddings - epsilon * direction)) / (
        2 * epsilon
    )
    analytic = float((gradients.gradient * direction).sum())
    assert abs(numeric - analytic) <= 1e-2 * max(1.0, abs(analytic))
    assert gradients.output == pytest.approx(logit(gradients.embeddings), abs=1e-5)
    assert gradients.gradient_x_input.shape == (len(gradients.tokens),)


def test_gradients_are_not_cached_and_leave_no_parameter_gradients(tiny_classifier, fresh_cache):
    before = len(backend.cache)
    backend.input_gradients(TEXT, tiny_classifier, backend.Target("class", index=0))
    assert len(backend.cache) == before
    assert all(p.grad is None for p in models.load_model(tiny_classifier).model.parameters())


def test_a_bad_gradient_target_is_a_clear_message(tiny_classifier):
    with pytest.raises(InputError) as caught:
        backend.input_gradients(TEXT, tiny_classifier, backend.Target("banana"))
    assert caught.value.msg.key == "gradients.bad_target"


def test_models_load_on_the_configured_device_and_inputs_follow(tiny_classifier, monkeypatch):
    monkeypatch.setenv(models.loading.DEVICE_ENV, "cpu")
    assert models.device_name() == "cpu"
    monkeypatch.delenv(models.loading.DEVICE_ENV)
    import torch

    assert models.device_name() == ("cuda" if torch.cuda.is_available() else "cpu")
    loaded = models.load_model(tiny_classifier)
    assert str(next(loaded.model.parameters()).device).startswith(loaded.device)
    batch = backend.preprocess(loaded, TEXT)
    assert all(str(tensor.device).startswith(loaded.device) for tensor in batch.inputs.values())


@pytest.mark.parametrize("task", ["ner", "qa"])
def test_token_and_span_targets_differentiate_the_chosen_output(task, tmp_path):
    """A token's tag logit (NER) and a start/end logit (QA): the gradient reaches every input token
    through attention, and equals the autograd gradient of that one output computed directly."""
    import torch
    from transformers import BertConfig, BertForQuestionAnswering, BertForTokenClassification, BertTokenizer

    from tests.conftest import TINY_WORDS

    torch.manual_seed(2)
    labels = ["O", "B-PER", "I-PER"] if task == "ner" else ["start", "end"]  # QA heads have 2 outputs
    config = BertConfig(
        vocab_size=len(TINY_WORDS), hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)},
    )  # fmt: skip
    (BertForTokenClassification if task == "ner" else BertForQuestionAnswering)(config).save_pretrained(tmp_path)
    BertTokenizer(vocab={word: index for index, word in enumerate(TINY_WORDS)}).save_pretrained(tmp_path)
    spec = models.register_model(models.ModelSpec(name=f"tiny-grad-{task}", source=str(tmp_path), task=task))
    try:
        target, pair = (
            (backend.Target("token", index=1, position=2), None) if task == "ner" else (backend.Target("end", position=5), TEXT)
        )
        gradients = backend.input_gradients("the cat", spec.name, target, pair=pair)
        assert np.abs(gradients.gradient).sum(axis=-1).min() > 0  # every token influences the output
        loaded = models.load_model(spec.name)
        inputs = {k: v[:1] for k, v in backend.preprocess(loaded, "the cat", pair).inputs.items() if k != "input_ids"}
        embeddings = torch.from_numpy(gradients.embeddings)[None].requires_grad_(True)
        output = loaded.model(inputs_embeds=embeddings, **inputs)
        value = output.logits[0, 2, 1] if task == "ner" else output.end_logits[0, 5]
        (expected,) = torch.autograd.grad(value, embeddings)
        assert np.allclose(gradients.gradient, expected[0].numpy(), atol=1e-6)
        assert gradients.output == pytest.approx(float(value.detach()), abs=1e-6)
    finally:
        models.REGISTRY.pop(spec.name, None)
        models.unload_all()


def test_hooks_act_only_in_the_thread_that_registered_them(tiny_model):
    """The queue runs several requests at once on one shared model: a gate or a recording opened by one
    request (thread) must not change or record another request's forward pass."""
    import threading

    import torch

    from explorer.interventions import applied, recorded_values

    loaded = models.load_model(tiny_model)
    plain = backend.preprocess(loaded, "the cat sat")
    other = backend.preprocess(loaded, "the cat sat on the mat .")
    with torch.inference_mode():
        expected = loaded.model(**other.inputs).last_hidden_state
    found = {}

    def other_request():
        with torch.inference_mode():
            found["hidden"] = loaded.model(**other.inputs).last_hidden_state

    with applied(loaded.model, HeadGate.of([(0, 0), (1, 1)])), recorded_values(loaded.model) as values:
        thread = threading.Thread(target=other_request)
        thread.start()
        thread.join()
        assert values == {}  # the other thread's pass was not recorded here
        with torch.inference_mode():
            loaded.model(**plain.inputs)
    assert torch.equal(found["hidden"], expected)  # nor gated
    assert all(value.shape[1] == plain.inputs["input_ids"].shape[1] for value in values.values()) and values
