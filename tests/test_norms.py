"""Attention as norms (Kobayashi et al. 2020): the recorded value norms against numpy from the model's own
weights, the arithmetic on hand-made arrays, the Attention tab's norms view, and the corpus finding."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explorer import api, backend
from explorer.analysis import AnalysisKey
from explorer.corpus import SHIPPED_CORPUS, read_sentences
from explorer.corpus import norms as corpus_norms
from explorer.messages import render_tree
from explorer.models import OFFLINE_DEFAULT, load_model
from explorer.norms import head_value_norms, head_value_vectors, mixed_norms, weighted_norms
from explorer.present import attention
from explorer.views import decode_array

TEXT = "The animal didn't cross the street because it was too tired."
MINILM = OFFLINE_DEFAULT[None]


# ---------------------------------------------------------------- (a) against the model's weights


def numpy_value_norms(model, hidden_states: np.ndarray) -> np.ndarray:
    """``||f^h(x_j)||`` ``(L, H, T)`` from scratch: ``f^h(x) = (x W_V + b_V)[head h's columns] W_O[:, head h's columns]^T``,
    with ``x = hidden_states[l]``, layer ``l``'s input. Torch's ``Linear`` stores ``W`` as ``(out, in)``."""
    n_heads = int(model.config.num_attention_heads)
    out = []
    for index, layer in enumerate(model.encoder.layer):
        x = hidden_states[index].astype(np.float64)  # (T, D)
        w_v = layer.attention.self.value.weight.detach().double().numpy()  # (H * d, D)
        b_v = layer.attention.self.value.bias.detach().double().numpy()  # (H * d,)
        w_o = layer.attention.output.dense.weight.detach().double().numpy()  # (D, H * d)
        d_head = w_v.shape[0] // n_heads
        values = x @ w_v.T + b_v  # (T, H * d)
        per_head = []
        for head in range(n_heads):
            columns = slice(head * d_head, (head + 1) * d_head)
            f = values[:, columns] @ w_o[:, columns].T  # (T, D): what token j hands on through head h
            per_head.append(np.linalg.norm(f, axis=-1))
        out.append(per_head)
    return np.array(out)


def check_value_norms(model_name: str, text: str) -> None:
    analysis = backend.run(AnalysisKey(model_name, text))
    model = load_model(model_name).model
    assert analysis.value_norms is not None
    assert analysis.value_norms.shape == (analysis.n_layers, analysis.n_heads, analysis.n_tokens)
    expected = numpy_value_norms(model, analysis.hidden_states)
    assert np.abs(analysis.value_norms - expected).max() <= 1e-4
    assert expected.min() > 0  # not vacuous: every f(x) has some length


def test_value_norms_equal_numpy_from_the_minilm_weights():
    check_value_norms(MINILM, TEXT)


@pytest.mark.tiny
def test_value_norms_equal_numpy_from_a_tiny_random_berts_weights(tiny_model):
    check_value_norms(tiny_model, "the cat sat on the mat .")


# ---------------------------------------------------------------- (b) the arithmetic, by hand


@pytest.mark.unit
def test_weighted_norms_scale_each_key_column_by_its_value_norm():
    attentions = np.array([[[0.5, 0.5], [0.9, 0.1]], [[1.0, 0.0], [0.25, 0.75]]])  # (H=2, T=2, T=2)
    value_norms = np.array([[2.0, 10.0], [3.0, 4.0]])  # (H, T): ||f^h(x_j)||
    expected = np.array([[[1.0, 5.0], [1.8, 1.0]], [[3.0, 0.0], [0.75, 3.0]]])
    result = weighted_norms(attentions, value_norms)
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, expected, rtol=1e-6)
    # leading axes broadcast: (L, H, T, T) with (L, H, T)
    np.testing.assert_allclose(weighted_norms(attentions[None], value_norms[None])[0], expected, rtol=1e-6)


@pytest.mark.unit
def test_mixed_norms_add_the_heads_vectors_before_taking_the_norm():
    rows = np.array([[0.5, 0.5], [0.5, 0.5]])  # (H=2, T=2): one query's row in each head
    vectors = np.array([[[3.0, 0.0], [0.0, 1.0]], [[0.0, 4.0], [1.0, 0.0]]])  # (H, T, D=2): f^h(x_j)
    # token 0: 0.5 (3, 0) + 0.5 (0, 4) = (1.5, 2) -> 2.5; token 1: 0.5 (0, 1) + 0.5 (1, 0) -> sqrt(0.5)
    np.testing.assert_allclose(mixed_norms(rows, vectors), [2.5, np.sqrt(0.5)], rtol=1e-12)
    # never more than the heads' norms added up (triangle inequality); equal with one head
    per_head = weighted_norms(rows[:, None, :], np.linalg.norm(vectors, axis=-1))[:, 0]  # (H, T)
    assert np.all(mixed_norms(rows, vectors) <= per_head.sum(axis=0) + 1e-6)
    np.testing.assert_allclose(mixed_norms(rows[:1], vectors[:1]), per_head[0], rtol=1e-6)


@pytest.mark.unit
def test_head_value_vectors_split_w_o_by_head_in_numpy_and_torch():
    torch = pytest.importorskip("torch")
    values = np.array([[1.0, 2.0, 3.0, 4.0]])  # (T=1, H * d = 2 heads x 2)
    w_o = np.arange(8.0).reshape(2, 4)  # (D=2, H * d): Linear.weight
    # head 0: (1, 2) against columns 0-1 of each row: (0*1 + 1*2, 4*1 + 5*2) = (2, 14);
    # head 1: (3, 4) against columns 2-3: (2*3 + 3*4, 6*3 + 7*4) = (18, 46)
    expected = np.array([[[2.0, 14.0]], [[18.0, 46.0]]])  # (H, T, D)
    np.testing.assert_allclose(head_value_vectors(values, w_o, 2), expected)
    np.testing.assert_allclose(head_value_norms(values, w_o, 2), np.linalg.norm(expected, axis=-1))
    from_torch = head_value_norms(torch.tensor(values), torch.tensor(w_o), 2).numpy()
    np.testing.assert_allclose(from_torch, np.linalg.norm(expected, axis=-1))


# ---------------------------------------------------------------- (c) the Attention tab's norms view


def heatmap(spec) -> np.ndarray:
    return decode_array(spec["data"][0]["z"])


def test_the_norms_view_draws_weights_times_value_norms():
    layer, head = 2, 5
    result = attention.present(TEXT, layer=layer, head=head, norms=True)
    analysis = backend.run(result.key)
    weights = analysis.attention(layer)  # (H, T, T)
    norms = weights * analysis.value_norms[layer][:, None, :]  # ||alpha_ij f(x_j)||
    view = result.view
    np.testing.assert_allclose(heatmap(view.head), norms[head], rtol=1e-6)
    np.testing.assert_allclose(heatmap(view.mean), norms.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(decode_array(view.row["data"][0]["y"]), norms[head, 0], rtol=1e-6)
    grid = np.stack([decode_array(trace["z"]) for trace in view.grid["data"]])  # 16 tokens: no pooling
    np.testing.assert_allclose(grid, norms, rtol=1e-6)
    assert [trace["zmax"] for trace in view.grid["data"]] == [pytest.approx(float(norms.max()))] * analysis.n_heads
    np.testing.assert_allclose(view.norms, norms[head], rtol=1e-6)
    np.testing.assert_allclose(view.weights, weights[head])  # the weights stay what they were


def test_hiding_and_renormalising_work_on_norms():
    layer, head = 1, 3
    result = attention.present(TEXT, layer=layer, head=head, hide_special=True, renormalize=True, norms=True)
    analysis = backend.run(result.key)
    keep = np.flatnonzero(~analysis.special_mask)
    norms = (analysis.attention(layer, head) * analysis.value_norms[layer, head][None, :])[np.ix_(keep, keep)]
    expected = norms / norms.sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(heatmap(result.view.head), expected, rtol=1e-5)
    np.testing.assert_allclose(heatmap(result.view.head).sum(axis=-1), 1.0, rtol=1e-5)
    assert len(result.view.tokens) == len(keep)


def test_the_special_share_is_given_under_both_and_the_words_say_which():
    layer, head = 2, 5
    weights_view = attention.present(TEXT, layer=layer, head=head).view
    norms_view = attention.present(TEXT, layer=layer, head=head, norms=True).view
    analysis = backend.analyze(TEXT)
    special = analysis.special_mask
    alpha = analysis.attention(layer).astype(np.float64)
    norms = alpha * analysis.value_norms[layer][:, None, :]
    shares = norms_view.shares
    assert shares == weights_view.shares  # the same line under both views
    assert shares.head_weights == pytest.approx(alpha[head][:, special].sum(axis=-1).mean(), abs=1e-6)
    expected_norms = (norms[:, :, special].sum(axis=-1) / norms.sum(axis=-1)).mean(axis=-1)  # (H,)
    assert shares.head_norms == pytest.approx(expected_norms[head], abs=1e-6)
    assert shares.layer_norms == pytest.approx(expected_norms.mean(), abs=1e-6)
    assert shares.head_norms < shares.head_weights  # the [SEP]/[CLS] sink: heavy weights, short vectors
    line = shares.message().render("en")
    assert f"weights: {100 * shares.head_weights:.0f}% to [CLS]/[SEP]; norms: {100 * shares.head_norms:.0f}%" in line
    assert "重み" in shares.message().render("ja")
    for language in ("en", "ja"):
        for name in ("head", "mean", "grid"):
            drawn_weights = render_tree(getattr(weights_view, name), language)
            drawn_norms = render_tree(getattr(norms_view, name), language)
            assert drawn_norms["layout"]["title"]["text"] != drawn_weights["layout"]["title"]["text"]
            assert "‖α f(x)‖" in drawn_norms["layout"]["title"]["text"]
            bar_norms = drawn_norms["data"][0]["colorbar"]["title"]["text"]
            assert "‖α f(x)‖" in bar_norms and bar_norms != drawn_weights["data"][0]["colorbar"]["title"]["text"]
            assert drawn_norms["data"][0]["hovertemplate"] != drawn_weights["data"][0]["hovertemplate"]
        row = render_tree(norms_view.row, language)
        assert "‖α f(x)‖" in row["layout"]["yaxis"]["title"]["text"]
        assert row["data"][0]["hovertemplate"] != render_tree(weights_view.row, language)["data"][0]["hovertemplate"]


def test_the_attention_endpoint_keeps_its_old_calls_and_adds_norms():
    old = api.attention(TEXT, MINILM, 2, 5, 0, False, False)
    assert "norms" not in old and "error" not in old
    new = api.attention(TEXT, MINILM, 2, 5, 0, False, False, True)
    assert new["weights"] == old["weights"]
    analysis = backend.analyze(TEXT)
    expected = analysis.attention(2, 5) * analysis.value_norms[2, 5][None, :]
    np.testing.assert_allclose(new["norms"], expected, atol=1e-4)
    assert old["special_share"] == new["special_share"]
    assert new["special_share"]["norms"] < new["special_share"]["weights"]
    refused = api.attention(TEXT, MINILM, 2, 5, 0, False, False, "maybe")
    assert refused["error_key"] == "input.not_flag"


# ---------------------------------------------------------------- (d) the corpus: Kobayashi et al.'s finding


@pytest.mark.unit
def test_row_shares_split_each_row_by_category():
    tokens = ["[CLS]", "hi", ",", "there", "[SEP]"]
    special = np.array([True, False, False, False, True])
    masks = corpus_norms.category_masks(tokens, special)
    assert {name: np.flatnonzero(mask).tolist() for name, mask in masks.items()} == {
        "cls": [0],
        "sep": [4],
        "punct": [2],
        "other": [1, 3],
    }
    rows = np.array([[[[2.0, 1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 3.0]]]])  # (L=1, H=1, Q=2, T=5), rows not normalised
    shares = corpus_norms.row_shares(rows, masks)
    assert shares["cls"][0, 0] == pytest.approx((0.5 + 0.0) / 2)
    assert shares["sep"][0, 0] == pytest.approx((0.0 + 0.75) / 2)
    assert shares["punct"][0, 0] == pytest.approx((0.25 + 0.0) / 2)
    assert shares["other"][0, 0] == pytest.approx((0.25 + 0.25) / 2)


def test_padded_corpus_batches_measure_what_one_sentence_analyses_do():
    sentences = ["The cat sat.", TEXT, "Hello, how are you today, my old friend?"]  # different lengths: padding
    loaded = load_model(MINILM)
    for sentence, (attentions, value_norms, tokens, special) in zip(
        sentences, corpus_norms.forward_rows(loaded, sentences), strict=True
    ):
        analysis = backend.analyze(sentence)
        assert tuple(tokens) == analysis.tokens
        np.testing.assert_array_equal(special, analysis.special_mask)
        np.testing.assert_allclose(attentions, analysis.attentions, atol=1e-5)
        np.testing.assert_allclose(value_norms, analysis.value_norms, atol=1e-4)


def test_on_twenty_corpus_sentences_the_specials_get_less_norm_than_weight():
    sentences = read_sentences(SHIPPED_CORPUS)[:20]
    means = corpus_norms.measure(sentences, MINILM, batch_size=8)
    result = corpus_norms.result_json(means, MINILM, "first 20 lines", len(sentences), 8)
    for layer in result["per_layer"]:
        for kind in ("weights", "norms"):
            assert sum(layer[kind].values()) == pytest.approx(1.0, abs=1e-3)  # the four categories split each row
    overall = result["overall"]
    special_weight = overall["weights"]["cls"] + overall["weights"]["sep"]
    special_norm = overall["norms"]["cls"] + overall["norms"]["sep"]
    assert special_norm < special_weight  # Kobayashi et al.'s finding (MiniLM: 44% -> 11% over 2,000 sentences)
    assert special_norm < 0.5 * special_weight


def test_the_command_writes_the_json_and_the_table(tmp_path, capsys):
    corpus = tmp_path / "three.txt"
    corpus.write_text("The cat sat on the mat.\n\nIt rained, and then it stopped!\nA dog.\n", encoding="utf-8")
    out = tmp_path / "norms.json"
    assert corpus_norms.main([str(corpus), "--out", str(out)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert (result["model"], result["sentences"], result["layers"], result["heads"]) == (MINILM, 3, 6, 12)
    assert {"date", "commit", "per_layer", "overall", "per_head_special", "method"} <= set(result)
    assert np.array(result["per_head_special"]["norms"]).shape == (6, 12)
    table = capsys.readouterr().out
    assert table.startswith("| layer | [CLS] | [SEP] | punctuation | other tokens | [CLS] + [SEP] |")
    assert table.strip().splitlines()[-1].startswith("| all |")


@pytest.mark.unit
def test_the_shipped_result_counts_the_whole_corpus():
    path = SHIPPED_CORPUS.parent / "norms-all-MiniLM-L6-v2.json"
    result = json.loads(path.read_text(encoding="utf-8"))
    assert result["model"] == MINILM
    assert result["corpus"] == "assets/corpus/vader_sentences.txt"
    assert result["sentences"] == len(read_sentences(SHIPPED_CORPUS)) == 2000
    assert len(result["per_layer"]) == result["layers"] == 6
    weights, norms = result["overall"]["weights"], result["overall"]["norms"]
    assert norms["cls"] + norms["sep"] < weights["cls"] + weights["sep"]
