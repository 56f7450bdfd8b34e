"""Inside a head, on tiny random models: every stage against the model's own modules, the chapter's toy, the masks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer import backend, models, stepwise, weights
from explorer.errors import InputError
from explorer.present import step as step_present
from tests.conftest import TINY_WORDS

TEXT = "the cat sat on the mat . the dogs sat"


def _register(folder, name: str):
    spec = models.register_model(models.ModelSpec(name=name, source=str(folder), description="tiny random model for tests"))
    return spec.name


@pytest.fixture(scope="module", params=["gelu", "relu", "gelu_new", "distilbert"])
def tiny(request, tmp_path_factory):
    """Tiny random encoders with each activation the step-through knows, and a DistilBERT (other module names)."""
    from transformers import BertConfig, BertModel, BertTokenizer, DistilBertConfig, DistilBertModel

    torch.manual_seed(3)
    folder = tmp_path_factory.mktemp(f"tiny-step-{request.param}")
    if request.param == "distilbert":
        config = DistilBertConfig(
            vocab_size=len(TINY_WORDS), dim=24, n_layers=2, n_heads=3, hidden_dim=48, max_position_embeddings=64
        )
        model = DistilBertModel(config)
    else:
        config = BertConfig(
            vocab_size=len(TINY_WORDS), hidden_size=24, num_hidden_layers=3, num_attention_heads=3, intermediate_size=48,
            max_position_embeddings=64, hidden_act=request.param,
        )  # fmt: skip
        model = BertModel(config)
    with torch.no_grad():  # random LayerNorm parameters too, so a wrong gamma/beta cannot hide
        for module in model.modules():
            if isinstance(module, torch.nn.LayerNorm):
                module.weight.normal_(1.0, 0.3)
                module.bias.normal_(0.0, 0.3)
    model.save_pretrained(folder)
    BertTokenizer(vocab={w: i for i, w in enumerate(TINY_WORDS)}).save_pretrained(folder)
    name = _register(folder, f"tiny-step-{request.param}")
    yield name
    models.REGISTRY.pop(name, None)
    models.unload_all()
    backend.cache.clear()


def module_outputs(name: str, layer: int, text: str) -> dict[str, np.ndarray]:
    """What the model's own modules output inside block ``layer`` (forward hooks), one forward pass."""
    from explorer.interventions import encoder_layers

    loaded = models.load_model(name)
    block = encoder_layers(loaded.model)[layer]
    bert = hasattr(block.attention, "self")
    modules = {
        "query": block.attention.self.query if bert else block.attention.q_lin,
        "key": block.attention.self.key if bert else block.attention.k_lin,
        "value": block.attention.self.value if bert else block.attention.v_lin,
        "projected": block.attention.output.dense if bert else block.attention.out_lin,
        "norm_1": block.attention.output.LayerNorm if bert else block.sa_layer_norm,
        "ffn_output": block.output.dense if bert else block.ffn.lin2,
        "layer_output": block.output.LayerNorm if bert else block.output_layer_norm,
    }
    captured: dict[str, np.ndarray] = {}
    hooks = [
        module.register_forward_hook(lambda _m, _i, out, n=n: captured.__setitem__(n, out[0].detach().double().numpy()))
        for n, module in modules.items()
    ]
    # The FFN's activated hidden units: the output of BertIntermediate, or of DistilBERT's activation.
    activated = block.intermediate if bert else block.ffn.activation
    keep = lambda _m, _i, out: captured.__setitem__("ffn_hidden", out[0].detach().double().numpy())  # noqa: E731
    hooks.append(activated.register_forward_hook(keep))
    try:
        batch = backend.preprocess(loaded, text)
        backend.forward(loaded, batch)
    finally:
        for hook in hooks:
            hook.remove()
    return captured


def test_every_stage_equals_the_models_own_modules(tiny):
    analysis = backend.analyze(TEXT, tiny)
    for layer in range(analysis.n_layers):
        own = module_outputs(tiny, layer, TEXT)
        block = weights.block_weights(tiny, layer)
        for head in range(analysis.n_heads):
            through = stepwise.step_through(analysis, block, layer, head)
            columns = slice(head * through.d_k, (head + 1) * through.d_k)
            for name in ("query", "key", "value"):  # the head's slice of the model's projection
                assert np.abs(through.stages[name] - own[name][:, columns]).max() < 1e-5, (layer, head, name)
            for name in ("projected", "norm_1", "ffn_hidden", "ffn_output", "layer_output"):
                assert np.abs(through.stages[name] - own[name]).max() < 1e-4, (layer, head, name)
            assert through.max_abs_diff_weights < 1e-5
            assert through.max_abs_diff_layer_output < 1e-4
            np.testing.assert_allclose(through.stages["weights"], analysis.attention(layer)[head], atol=1e-5)
            np.testing.assert_allclose(through.stages["layer_output"], analysis.hidden_states[layer + 1], atol=1e-4)
            np.testing.assert_allclose(through.stages["weights"].sum(axis=-1), 1.0, atol=1e-12)


def test_the_step_through_notices_a_wrong_weight(tiny):
    """The distances are measured, not assumed: perturb one weight and they grow."""
    analysis = backend.analyze(TEXT, tiny)
    block = weights.block_weights(tiny, 0)
    wrong = weights.BlockWeights(**{**block.__dict__, "W_2": block.W_2 * 1.5, "W_K": block.W_K + 0.05})
    through = stepwise.step_through(analysis, wrong, 0, 0)
    assert through.max_abs_diff_weights > 1e-4
    assert through.max_abs_diff_layer_output > 1e-4  # past the tolerance the equality tests use


def test_the_padding_mask_as_bert_applies_it(tiny):
    """A real padded batch: padding keys get weight 0 and the short input's weights do not change."""
    loaded = models.load_model(tiny)
    short, long = "the cat sat", TEXT
    encoded = loaded.tokenizer([long, short], padding=True, return_tensors="pt")
    with torch.inference_mode():
        batch = loaded.model(**encoded, output_attentions=True).attentions
        alone = loaded.model(**loaded.tokenizer([short], return_tensors="pt"), output_attentions=True).attentions
    n = int(encoded["attention_mask"][1].sum())
    assert n < encoded["attention_mask"].shape[1]
    for layer_batch, layer_alone in zip(batch, alone, strict=True):
        assert float(layer_batch[1, :, :, n:].abs().max()) == 0.0  # exactly: exp(float32 min) underflows to 0
        assert float((layer_batch[1, :, :n, :n] - layer_alone[0]).abs().max()) < 1e-5
    # Ours, on the same head: the same two facts.
    through = stepwise.step_through(backend.analyze(TEXT, tiny), weights.block_weights(tiny, 0), 0, 1)
    pair = stepwise.padded_pair(through, 4)
    assert pair.length == 4 and float(np.abs(pair.weights[:, 4:]).max()) == 0.0
    assert pair.max_abs_diff < 1e-12
    np.testing.assert_allclose(pair.weights.sum(axis=-1), 1.0, atol=1e-12)


def test_the_causal_mask_hides_the_future(tiny):
    through = stepwise.step_through(backend.analyze(TEXT, tiny), weights.block_weights(tiny, 1), 1, 0)
    causal = stepwise.causal_weights(through)
    assert float(np.abs(np.triu(causal, k=1)).max()) == 0.0
    np.testing.assert_allclose(causal.sum(axis=-1), 1.0, atol=1e-12)
    assert causal[0, 0] == pytest.approx(1.0)  # the first token sees only itself
    # The last row sees every key: it is the unmasked row.
    np.testing.assert_allclose(causal[-1], through.stages["weights"][-1], atol=1e-12)


def test_cross_attention_of_a_text_with_itself_is_self_attention(tiny):
    analysis = backend.analyze(TEXT, tiny)
    block = weights.block_weights(tiny, 1)
    cross = stepwise.cross_attention(analysis, analysis, block, 1, 2)
    np.testing.assert_allclose(cross.weights, analysis.attention(1)[2], atol=1e-5)
    other = backend.analyze("the dogs", tiny)
    cross = stepwise.cross_attention(analysis, other, block, 1, 2)
    assert cross.weights.shape == (analysis.n_tokens, other.n_tokens)
    np.testing.assert_allclose(cross.weights.sum(axis=-1), 1.0, atol=1e-12)


# ---- the chapter's toy example -------------------------------------------------------------


def chapter_softmax(x, axis=-1):  # the chapter's code, section 3.2, as printed
    exp_x = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return exp_x / np.sum(exp_x, axis=axis, keepdims=True)


def chapter_scaled_dot_product_attention(Q, K, V, mask=None):  # noqa: N803 (the chapter's names)
    d_k = Q.shape[-1]
    scores = np.matmul(Q, K.transpose(0, 2, 1)) / np.sqrt(d_k)
    if mask is not None:
        scores = scores + (mask * -1e9)
    attention_weights = chapter_softmax(scores, axis=-1)
    output = np.matmul(attention_weights, V)
    return output, attention_weights


@pytest.mark.parametrize("seed", [0, 1, 42])
def test_toy_mode_is_the_chapters_code(seed):
    np.random.seed(seed)  # the chapter's own lines, with a seed
    batch_size, seq_len, d_model = 2, 5, 64
    Q = np.random.randn(batch_size, seq_len, d_model)  # noqa: N806
    K = np.random.randn(batch_size, seq_len, d_model)  # noqa: N806
    V = np.random.randn(batch_size, seq_len, d_model)  # noqa: N806
    output, weights_ = chapter_scaled_dot_product_attention(Q, K, V)
    toy = stepwise.toy(seed)
    np.testing.assert_array_equal(toy.Q, Q)
    np.testing.assert_allclose(toy.weights, weights_, rtol=0, atol=1e-15)
    np.testing.assert_allclose(toy.output, output, rtol=0, atol=1e-12)
    assert toy.printed == str(weights_[0])
    # The chapter shows rows of ~0.2; its own code does not produce them, scaling by d_k would.
    assert toy.weights.max(axis=-1).mean() > 0.3
    assert np.abs(toy.weights_over_d_k - 0.2).max() < 0.15


def test_toy_view_refuses_a_bad_seed():
    with pytest.raises(InputError) as raised:
        step_present.toy_view(-1)
    assert raised.value.msg.key == "index.not_between"
    with pytest.raises(InputError):
        step_present.toy_view("abc")


# ---- the presenter and the API ---------------------------------------------------------------


def test_the_api_contract_and_redraws_without_recomputing(tiny):
    result = step_present.present(TEXT, tiny, 1, 2, 3)
    answer = result.api()
    names = [stage["name"] for stage in answer["stages"]]
    assert {"scores", "scaled_scores", "weights", "head_output", "layer_output"} <= set(names)
    assert answer["tokens"] == list(backend.analyze(TEXT, tiny).tokens)
    assert answer["d_k"] == result.step_through.d_k
    for stage in answer["stages"]:
        assert len(stage["row"]) == stage["shape"][-1]
        np.testing.assert_allclose(stage["row"], result.step_through.stages[stage["name"]][3], atol=1e-6)
    assert answer["max_abs_diff_weights"] < 1e-5 and answer["max_abs_diff_layer_output"] < 1e-4
    passes = backend.forward_count()
    through = result.step_through
    for query in range(3):
        for name in step_present.STEPS:
            panel = step_present.view(result.key, 1, 2, query, name, causal=True)
            assert panel.step == name
    assert backend.forward_count() == passes  # no forward pass to change step or query
    assert step_present._step_through(result.key, 1, 2) is through  # nor a new step-through


def test_unknown_step_and_out_of_range_indices_are_keyed_messages(tiny):
    result = step_present.present(TEXT, tiny, 0, 0, 0)
    with pytest.raises(InputError) as raised:
        step_present.view(result.key, 0, 0, 0, "nonsense")
    assert raised.value.msg.key == "step.unknown_step"
    with pytest.raises(InputError) as raised:
        step_present.present(TEXT, tiny, 0, 7, 0)
    assert raised.value.msg.key == "index.out_of_range"
    fitted = step_present.present(TEXT, tiny, 9, 7, 500, fit=True)  # a UI control kept from a bigger model
    assert (fitted.layer, fitted.head) == (fitted.n_layers - 1, fitted.n_heads - 1)


def test_quadratic_measurement_sizes_the_attention_exactly(tiny):
    result = step_present.measure_quadratic(tiny, repeats=1)
    analysis = backend.analyze(TEXT, tiny)
    assert result.lengths == (16, 32, 64)  # the tiny model's 64 positions
    for length, size in zip(result.lengths, result.attention_bytes, strict=True):
        assert size == analysis.n_layers * analysis.n_heads * length * length * 4
    assert all(seconds > 0 for seconds in result.seconds)


def test_the_quoted_chapter_output_is_the_same_everywhere():
    from explorer.messages import Msg, render

    for language in ("en", "ja"):
        assert step_present.CHAPTER_PRINTED in render(Msg("step.toy_chapter"), language)


def test_long_key_tables_keep_the_largest_weights(tiny, monkeypatch):
    monkeypatch.setattr(step_present, "MAX_KEY_ROWS", 4)
    result = step_present.present(TEXT, tiny, 1, 0, 2)
    table = step_present.view(result.key, 1, 0, 2, "weights").numbers
    weights_ = result.step_through.stages["weights"][2]
    shown = [int(row[0].split()[0]) for row in table.rows]
    assert shown == sorted(np.argsort(-weights_)[:4].tolist())  # the 4 largest, in token order
    said = step_present.view(result.key, 1, 0, 2, "weights").check
    assert said.key == "step.check_and" and dict(said.params)["second"].key == "step.more_keys_ranked"
    masks = step_present.view(result.key, 1, 0, 2, "masks")
    assert [int(row[0].split()[0]) for row in masks.numbers.rows] == [0, 1, len(weights_) - 2, len(weights_) - 1]
    assert masks.numbers.rows[-1][0].endswith("[PAD]")  # the padded input's keys are named as such
