"""Inside a head on the embedded MiniLM: every layer and stage against the model, the API, the payload size."""

from __future__ import annotations

import json

import numpy as np

from explorer import api, backend, step_through, stepwise, weights
from explorer.messages import render_tree
from explorer.present import step as step_present
from tests.test_step import module_outputs

TEXT = "The animal didn't cross the street because it was too tired."
LONG = " ".join(["The quick brown fox jumps over the lazy dog near the river bank."] * 9)  # > 128 tokens


def test_every_layer_of_minilm_equals_the_model():
    analysis = backend.analyze(TEXT)
    for layer in range(analysis.n_layers):
        own = module_outputs(analysis.model_name, layer, TEXT)
        block = weights.block_weights(analysis.model_name, layer)
        for head in (0, 5, analysis.n_heads - 1):
            through = stepwise.step_through(analysis, block, layer, head)
            columns = slice(head * through.d_k, (head + 1) * through.d_k)
            assert np.abs(through.stages["query"] - own["query"][:, columns]).max() < 1e-4
            for name in ("norm_1", "ffn_hidden", "layer_output"):
                assert np.abs(through.stages[name] - own[name]).max() < 1e-4, (layer, head, name)
            assert through.max_abs_diff_weights < 1e-5, (layer, head)
            assert through.max_abs_diff_layer_output < 1e-4, (layer, head)
    assert (through.d_model, through.d_k, through.d_ff) == (384, 32, 1536)


def test_the_step_api_speaks_the_contract():
    answer = api.step(TEXT, layer=2, head=3, query=4)
    assert "error" not in answer, answer
    assert {"tokens", "d_k", "stages", "max_abs_diff_weights", "max_abs_diff_layer_output"} <= set(answer)
    stages = {stage["name"]: stage for stage in answer["stages"]}
    n = len(answer["tokens"])
    assert stages["scores"]["shape"] == [n, n] and stages["head_output"]["shape"] == [n, 32]
    assert stages["layer_output"]["shape"] == [n, 384]
    analysis = backend.analyze(TEXT)
    np.testing.assert_allclose(stages["weights"]["row"], analysis.attention(2)[3, 4], atol=1e-5)
    np.testing.assert_allclose(stages["layer_output"]["row"], analysis.hidden_states[3][4], atol=1e-4)
    assert answer["max_abs_diff_weights"] < 1e-5 and answer["max_abs_diff_layer_output"] < 1e-4
    # The Python entry point, from a text and from an analysis, says the same.
    assert step_through(TEXT, 2, 3, 4)["stages"] == answer["stages"]
    assert step_through(analysis, 2, 3, 4)["stages"] == answer["stages"]
    assert api.step(TEXT, layer=9)["error_key"] == "index.out_of_range"
    assert api.step("")["error_key"]


def test_every_step_at_128_tokens_stays_under_a_megabyte():
    result = step_present.present(LONG, None, 3, 7, 10)
    assert result.step_through.n_tokens >= 128
    for name in step_present.STEPS:
        panel = step_present.view(result.key, 3, 7, 10, name, causal=True)
        shown = render_tree([panel.figure, panel.stack, panel.numbers.cells("en")], "ja")
        sent = json.dumps(shown, ensure_ascii=False, default=str)
        assert len(sent.encode()) < 1_000_000, (name, len(sent))
    assert len(json.dumps(result.api()).encode()) < 1_000_000
