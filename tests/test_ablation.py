"""Switching heads off: parsing, task outputs before/after, the batched importance sweep against
one gated analysis per head, and no hook or cache entry leaking into the plain analyses."""

from __future__ import annotations

import numpy as np
import pytest

from explorer import ablation, api, backend, models
from explorer.errors import InputError
from explorer.interventions import HeadGate, encoder_layers, gated_rows, output_projection
from explorer.present import heads as heads_present
from explorer.tasks import softmax
from tests.conftest import TASK_HEADS, TASK_LAYERS

TEXT = "the cat sat on the mat ."
LAYERS, HEADS = TASK_LAYERS, TASK_HEADS


def input_for(task):
    return "the cat\nthe cat sat on the mat ." if task == "qa" else TEXT


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("3.1, 5.11", ((3, 1), (5, 11))),
        ("L3.H1;5:11  3.1", ((3, 1), (5, 11))),
        ("0.*", tuple((0, h) for h in range(12))),
        ("2.3、1.0", ((1, 0), (2, 3))),
        ([(1, 2), (0, 0)], ((0, 0), (1, 2))),
    ],
)
def test_head_lists_are_parsed(spec, expected):
    assert ablation.parse_heads(spec, 6, 12) == expected


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ("", "ablate.no_heads"),
        ("x", "ablate.bad_item"),
        ("6.0", "ablate.out_of_range"),
        ("0.12", "ablate.out_of_range"),
        ("1.-1", "ablate.bad_item"),
    ],
)
def test_bad_head_lists_are_messages(spec, key):
    with pytest.raises(InputError) as caught:
        ablation.parse_heads(spec, 6, 12)
    assert caught.value.msg.key == key


@pytest.mark.parametrize("task", ["sentiment", "ner", "qa", None])
def test_the_sweep_equals_one_gated_analysis_per_head(tiny_task_models, fresh_cache, task):
    """Each batched row of the sweep (every head off alone) equals the measure read from the cached
    analysis with that one head gated through HeadGate, i.e. the batching changes nothing."""
    name = tiny_task_models[task]
    found = ablation.importance(input_for(task), name)
    assert found.effect.shape == (LAYERS, HEADS) and found.forward_passes == LAYERS
    plain = backend.run(ablation.key_for(input_for(task), name))
    reference, row, plain_value = ablation._reference(task, plain)
    assert found.plain_value == pytest.approx(plain_value, abs=1e-5)
    for layer, head in [(0, 0), (1, 3), (2, 2)]:
        gated = backend.run(ablation.key_for(input_for(task), name, HeadGate.of([(layer, head)])))
        if task == "sentiment":
            value = softmax(gated.logits)[reference["class"]]
        elif task == "ner":
            value = softmax(gated.logits)[reference["tokens"], reference["tags"]].mean()
        elif task == "qa":
            logits, valid = gated.windows[row].logits, reference["valid"]
            start = softmax(np.where(valid, logits[:, 0], -np.inf))
            end = softmax(np.where(valid, logits[:, 1], -np.inf))
            value = start[reference["start"]] * end[reference["end"]]
        else:
            value = ablation.sentence_embedding(gated.hidden_states[-1]) @ reference["embedding"]
        assert found.effect[layer, head] == pytest.approx(plain_value - value, abs=1e-5)
    assert np.abs(found.effect).max() > 1e-6  # random heads do move the output


def test_gated_rows_with_all_gates_one_is_the_plain_forward(tiny_task_models):
    import torch

    loaded = models.load_model(tiny_task_models["sentiment"])
    batch = backend.preprocess(loaded, TEXT)
    with torch.inference_mode():
        plain = loaded.model(**batch.inputs).logits
    output = backend.forward_gated(loaded, batch, np.ones((2, LAYERS, HEADS), dtype=np.float32))
    # all gates 1: no hook at all, so only the batch size differs (BLAS may sum in another order)
    assert torch.allclose(output.logits[0], plain[0], atol=1e-6) and torch.equal(output.logits[0], output.logits[1])
    with pytest.raises(ValueError, match="expected"), gated_rows(loaded.model, np.ones((1, LAYERS + 1, HEADS))):
        pass


def test_ablation_never_leaks_into_the_plain_analysis(tiny_task_models, fresh_cache):
    name = tiny_task_models["sentiment"]
    plain = backend.analyze(TEXT, name)
    done = ablation.ablate(TEXT, name, "0.*, 2.1")
    ablation.importance(TEXT, name)
    model = models.load_model(name).model
    assert all(len(output_projection(block)._forward_pre_hooks) == 0 for block in encoder_layers(model))
    assert backend.analyze(TEXT, name) is plain  # still the cached plain entry
    backend.cache.clear()
    again = backend.analyze(TEXT, name)  # recomputed after every ablation: bit for bit the same
    assert np.array_equal(again.logits, plain.logits) and np.array_equal(again.hidden_states, plain.hidden_states)
    assert done.plain is plain and done.gated.intervention == HeadGate.of(done.heads)
    assert done.before != done.after


def test_a_whole_layer_off_in_the_sweep_matches_the_layer_zeroed_by_headgate(tiny_task_models, fresh_cache):
    """Gates of a whole layer at 0 in one batched row == HeadGate over that layer (checked by hand in
    test_interventions against numpy): the per-row hook gates the same columns."""
    name = tiny_task_models[None]
    loaded = models.load_model(name)
    batch = backend.preprocess(loaded, TEXT)
    gates = np.ones((2, LAYERS, HEADS), dtype=np.float32)
    gates[1, 1, :] = 0.0
    output = backend.forward_gated(loaded, batch, gates)
    gated = backend.analyze(TEXT, name, intervention=HeadGate.of([(1, h) for h in range(HEADS)]))
    np.testing.assert_allclose(output.hidden_states[-1][1].numpy(), gated.hidden_states[-1], atol=1e-5)
    assert not np.allclose(output.hidden_states[-1][0].numpy(), gated.hidden_states[-1], atol=1e-3)


def test_task_outputs_before_and_after(tiny_task_models, fresh_cache):
    sentiment = ablation.ablate(TEXT, tiny_task_models["sentiment"], "1.*")
    assert set(sentiment.before) == {"label", "probabilities"} and sum(
        sentiment.after["probabilities"].values()
    ) == pytest.approx(1)
    ner = ablation.ablate(TEXT, tiny_task_models["ner"], "1.*")
    assert set(ner.before) == {"entities"}
    qa = ablation.ablate(input_for("qa"), tiny_task_models["qa"], "1.*")
    assert set(qa.before) >= {"answer", "score", "start", "end"} and qa.before["answer"] in TEXT
    encoder = ablation.ablate(TEXT, tiny_task_models[None], "1.*")
    assert encoder.before == {"embedding_cosine": pytest.approx(1.0)} and encoder.after["embedding_cosine"] < 1.0


def test_qa_needs_question_and_context_and_long_inputs_are_refused(tiny_task_models):
    with pytest.raises(InputError) as caught:
        ablation.ablate("just one line", tiny_task_models["qa"], "0.0")
    assert caught.value.msg.key == "ablate.qa_needs_context"
    with pytest.raises(InputError) as caught:
        ablation.importance(" ".join(["cat"] * 40), tiny_task_models["sentiment"], max_tokens=32)
    assert caught.value.msg.key == "ablate.too_long"


def test_the_api_keeps_its_contract(tiny_task_models):
    name = tiny_task_models["sentiment"]
    roles = api.heads(TEXT, name)["roles"]
    assert len(roles) == LAYERS * HEADS
    assert {"layer", "head", "label", "cls", "sep", "self", "prev", "next", "punct", "entropy"} <= set(roles[0])
    answer = api.ablate(TEXT, name, "0.1, 2.3")
    assert answer["heads"] == ["0.1", "2.3"] and {"label", "probabilities"} <= set(answer["before"]) and answer["after"]
    assert api.ablate(TEXT, name, "9.9")["error_key"] == "ablate.out_of_range"
    sweep = api.head_importance(TEXT, name)
    assert np.array(sweep["importance"]).shape == (LAYERS, HEADS) and sweep["measure"] == "class_probability"


def test_presenter_tables_and_figures(tiny_task_models):
    result = heads_present.present(TEXT, tiny_task_models["ner"])
    assert result.grid.roles.shape == (LAYERS, HEADS)
    assert len(result.grid.table().rows) == LAYERS and len(result.grid.table().columns) == HEADS + 1
    assert len(result.finder.ranking) == LAYERS * HEADS
    again = heads_present.find(result.key, 2, 1)
    assert (again.query, again.key) == (2, 1)
    ablated = heads_present.ablate(TEXT, tiny_task_models["sentiment"], "2.0")
    assert ablated.shown_layer == 2 and [line.key for line in ablated.lines] == ["heads.ablated_last"]
    assert [row[0].key for row in ablated.comparison.rows] == [
        "heads.row_label",
        "heads.row_probability",
        "heads.row_probability",
    ]
