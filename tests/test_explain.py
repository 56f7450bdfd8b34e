"""Token attributions and their faithfulness (explorer.attribution, the Explain tab's presenter, /attribute,
/faithfulness): each method against an independent computation, integrated gradients' completeness, the
deletion curve's ends, targets and refusals."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from explorer import api, attribution
from explorer.errors import InputError
from explorer.interventions import encoder_layers
from explorer.messages import render
from explorer.models import OFFLINE_DEFAULT
from explorer.present import explain
from explorer.tasks import softmax
from explorer.tasks.attribution import attention_rollout

SENTENCE = "The acting was great, but the plot made no sense at all."
QA_TEXT = "Where did Obama go in 2009?\nBarack Obama visited Paris in 2009 with Angela Merkel."
TINY_TEXT = "the cat sat on the mat ."


def tiny_input(task: str) -> str:
    return "the cat\nthe cat sat on the mat ." if task == "qa" else TINY_TEXT


# ---------------------------------------------------------------- gradient x input, analytically


class LinearClassifier(torch.nn.Module):
    """logits = sum over tokens of (embedding @ W): gradient x input has a closed form."""

    def __init__(self, vocab: int = 10, hidden: int = 4, classes: int = 2) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embeddings = torch.nn.Embedding(vocab, hidden)
        self.weight = torch.nn.Parameter(torch.randn(hidden, classes))

    def get_input_embeddings(self):
        return self.embeddings

    def forward(self, input_ids=None, inputs_embeds=None, attention_mask=None):
        embedded = self.embeddings(input_ids) if inputs_embeds is None else inputs_embeds
        return SimpleNamespace(logits=(embedded @ self.weight).sum(dim=1))


def test_gradient_times_input_of_a_linear_model_equals_the_analytic_value():
    model = LinearClassifier()
    ids = torch.tensor([[1, 4, 7, 2]])
    subject = attribution.Subject(
        "sentiment",
        SimpleNamespace(model=model),
        None,
        {"input_ids": ids, "attention_mask": torch.ones_like(ids)},
        "class",
        "b",
        index=1,
    )
    found = attribution.COMPUTE["grad_x_input"](subject, 0)[0]
    with torch.no_grad():
        embedded = model.embeddings(ids)[0].double()
        weight = model.weight.double()
        p = torch.softmax(embedded.sum(0) @ weight, dim=-1)
        # d p1 / d e_t = p1 * (W[:, 1] - sum_c p_c W[:, c]) for every token t (the logits sum over tokens)
        gradient = p[1] * (weight[:, 1] - weight @ p)
        expected = (embedded @ gradient).numpy()
    np.testing.assert_allclose(found, expected, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- the embedded MiniLM models


@pytest.fixture(scope="module")
def sentiment_subject():
    return attribution.subject_for(SENTENCE, OFFLINE_DEFAULT["sentiment"])


def test_value_norm_equals_numpy_from_the_weights_and_hidden_states(sentiment_subject):
    """||sum_h alpha_h,0j f_h(x_j)|| of the last layer, f_h(x) = (x W_V + b_V) W_O^h, from the analysis'
    hidden states (the last layer's input) and the model's weights, in float64."""
    analysis, model = sentiment_subject.analysis, sentiment_subject.loaded.model
    block = encoder_layers(model)[-1]
    w_v = block.attention.self.value.weight.detach().double().numpy()
    b_v = block.attention.self.value.bias.detach().double().numpy()
    w_o = block.attention.output.dense.weight.detach().double().numpy()
    heads = model.config.num_attention_heads
    d_head = w_v.shape[0] // heads
    values = analysis.hidden_states[-2].astype(np.float64) @ w_v.T + b_v  # (T, H * d)
    mixed = np.zeros((analysis.n_tokens, w_o.shape[0]))
    for head in range(heads):
        part = slice(head * d_head, (head + 1) * d_head)
        f = values[:, part] @ w_o[:, part].T  # (T, D)
        mixed += analysis.attentions[-1, head, 0][:, None] * f
    expected = np.linalg.norm(mixed, axis=-1)
    found = attribution.attribute_subject(sentiment_subject, "value_norm").scores
    np.testing.assert_allclose(found, expected, rtol=1e-4, atol=1e-4)


def test_attention_and_rollout_read_the_cached_analysis(sentiment_subject):
    analysis = sentiment_subject.analysis
    attention = attribution.attribute_subject(sentiment_subject, "attention").scores
    np.testing.assert_allclose(attention, analysis.attentions[-1].mean(axis=0)[0], rtol=1e-6)
    rollout = attribution.attribute_subject(sentiment_subject, "rollout").scores
    np.testing.assert_allclose(rollout, attention_rollout(analysis.attentions)[0])


def test_integrated_gradients_are_complete_within_5_percent_at_32_steps(sentiment_subject):
    found = attribution.attribute_subject(sentiment_subject, "integrated_gradients", 32)
    extra = found.extra
    assert extra["n_steps"] == 32 and extra["f_x"] == pytest.approx(sentiment_subject.probability, abs=1e-6)
    change = extra["f_x"] - extra["f_baseline"]
    assert abs(change) > 0.1  # not vacuous: the baseline changes the prediction
    # completeness: the attributions add up to f(x) - f(baseline), up to captum's reported delta
    assert found.scores.sum() - change == pytest.approx(extra["delta"], abs=1e-4)
    assert abs(extra["delta"]) <= 0.05 * abs(change)


def test_occlusion_is_the_drop_when_one_word_becomes_mask(sentiment_subject):
    found = attribution.attribute_subject(sentiment_subject, "occlusion").scores
    groups = attribution.word_groups(sentiment_subject)
    assert sum(len(group) for group in groups) == int((~sentiment_subject.analysis.special_mask).sum())
    word = next(group for group in groups if sentiment_subject.analysis.tokens[group[0]] == "no")
    ids = sentiment_subject.token_ids.copy()
    ids[word] = sentiment_subject.loaded.tokenizer.mask_token_id
    alone = attribution.probabilities_of(sentiment_subject, ids[None])[0]
    assert found[word[0]] == pytest.approx(sentiment_subject.probability - alone, abs=1e-5)
    assert np.all(found[sentiment_subject.analysis.special_mask] == 0)


def test_deletion_curve_starts_at_the_prediction_and_ends_at_the_all_removed_input(sentiment_subject):
    candidates = sentiment_subject.candidates
    scores = attribution.attribute_subject(sentiment_subject, "occlusion").scores
    rankings = {"occlusion": attribution.ranking(scores, candidates), "random": attribution.random_ranking(candidates)}
    comprehensiveness, sufficiency, curves = attribution.faithfulness_of(sentiment_subject, rankings)
    removed = sentiment_subject.token_ids.copy()
    removed[candidates] = attribution.replacement_id(sentiment_subject)
    all_removed = attribution.probabilities_of(sentiment_subject, removed[None])[0]
    for name in rankings:
        (f0, k0, p0), (f1, k1, p1) = curves[name][0], curves[name][-1]
        assert (f0, k0) == (0.0, 0) and p0 == pytest.approx(sentiment_subject.probability, abs=1e-5)
        assert (f1, k1) == (1.0, len(candidates)) and p1 == pytest.approx(all_removed, abs=1e-6)
    # occlusion's own ranking removes what the model needs first: it beats a random order here
    assert comprehensiveness["occlusion"] > comprehensiveness["random"] + 0.1
    assert sufficiency["occlusion"] < sufficiency["random"]


def test_aopc_is_the_mean_drop_over_erasers_bins(sentiment_subject):
    candidates = sentiment_subject.candidates
    order = attribution.ranking(attribution.attribute_subject(sentiment_subject, "attention").scores, candidates)
    comprehensiveness, sufficiency, _ = attribution.faithfulness_of(sentiment_subject, {"attention": order})
    drops, kept_drops = [], []
    for fraction in attribution.ERASER_BINS:
        k = max(1, int(np.ceil(fraction * len(candidates))))
        removed, kept = sentiment_subject.token_ids.copy(), sentiment_subject.token_ids.copy()
        removed[order[:k]] = attribution.replacement_id(sentiment_subject)
        kept[np.setdiff1d(candidates, order[:k])] = attribution.replacement_id(sentiment_subject)
        p_removed, p_kept = attribution.probabilities_of(sentiment_subject, np.stack([removed, kept]))
        drops.append(sentiment_subject.probability - p_removed)
        kept_drops.append(sentiment_subject.probability - p_kept)
    assert comprehensiveness["attention"] == pytest.approx(np.mean(drops), abs=1e-6)
    assert sufficiency["attention"] == pytest.approx(np.mean(kept_drops), abs=1e-6)


def test_qa_explains_the_best_span_with_the_decoders_probability():
    subject = attribution.subject_for(QA_TEXT, OFFLINE_DEFAULT["qa"], "answer")
    logits = subject.analysis.logits
    keep = subject.keep
    start, end = (softmax(np.where(keep, logits[:, i], -np.inf)) for i in (0, 1))
    s, e = subject.span
    assert subject.probability == pytest.approx(start[s] * end[e])
    assert (start[:, None] * end[None, :])[keep][:, keep].max() >= start[s] * end[e] - 1e-9  # the best pair
    assert "Paris" in subject.label
    ids = subject.inputs["input_ids"]
    with torch.inference_mode():
        rerun = subject.probabilities(subject.loaded.model(**subject.inputs))
    assert float(rerun[0]) == pytest.approx(subject.probability, abs=1e-5) and ids.shape[1] == subject.analysis.n_tokens
    second = attribution.subject_for(QA_TEXT, OFFLINE_DEFAULT["qa"], "answer:1")
    assert second.probability <= subject.probability and second.span != subject.span


def test_ner_explains_one_tokens_tag():
    subject = attribution.subject_for("Angela Merkel met Emmanuel Macron in Berlin.", OFFLINE_DEFAULT["ner"])
    assert subject.kind == "token" and subject.label.endswith("PER") and subject.analysis.token_text(subject.position) == "Angela"
    chosen = attribution.subject_for("Angela Merkel met Emmanuel Macron in Berlin.", OFFLINE_DEFAULT["ner"], "9")
    assert chosen.analysis.token_text(9) == "Berlin" and chosen.label.endswith("LOC")


# ---------------------------------------------------------------- tiny random models: every task, every method


@pytest.mark.parametrize("task", ["sentiment", "ner", "qa"])
def test_every_method_gives_one_finite_score_per_token(tiny_task_models, task):
    subject = attribution.subject_for(tiny_input(task), tiny_task_models[task])
    for method in attribution.METHODS:
        found = attribution.attribute_subject(subject, method, 8)
        assert found.scores.shape == (subject.analysis.n_tokens,) and np.isfinite(found.scores).all(), method
        as_json = found.api()
        assert len(as_json["scores"]) == len(as_json["tokens"]) and as_json["prediction"]["task"] == task
    table = attribution.faithfulness(tiny_input(task), tiny_task_models[task], n_steps=8).api()
    assert set(table["methods"]) == {*attribution.METHODS, attribution.REFERENCE}
    for entry in table["methods"].values():
        assert len(entry["curve"]) == len(attribution.CURVE_FRACTIONS)
        assert entry["curve"][0]["probability"] == pytest.approx(table["prediction"]["probability"], abs=1e-5)


def test_refusals_name_what_is_wrong(tiny_task_models):
    cases = [
        (("hi", OFFLINE_DEFAULT[None]), "attr.needs_task"),
        ((TINY_TEXT, tiny_task_models["sentiment"], "attention", "happy"), "attr.bad_class"),
        ((TINY_TEXT, tiny_task_models["ner"], "attention", "0"), "attr.bad_token"),
        ((tiny_input("qa"), tiny_task_models["qa"], "attention", "answer:7"), "attr.qa_target"),
        ((TINY_TEXT, tiny_task_models["sentiment"], "saliency"), "attr.bad_method"),
        ((" ".join(["cat"] * 200), tiny_task_models["sentiment"], "occlusion"), "attr.too_long"),
    ]
    for args, key in cases:
        with pytest.raises(InputError) as error:
            attribution.attribute(*args)
        assert error.value.msg.key == key, (args, error.value.msg.key)
    # the cheap methods still work on a long text
    assert len(attribution.attribute(" ".join(["cat"] * 200), tiny_task_models["sentiment"], "rollout").scores) == 202


def test_api_answers_with_scores_or_a_sentence(tiny_task_models):
    found = api.attribute(TINY_TEXT, tiny_task_models["sentiment"], "integrated_gradients", "", 8)
    assert {"tokens", "scores", "prediction", "delta", "f_x", "f_baseline"} <= set(found)
    assert api.attribute(TINY_TEXT, tiny_task_models["sentiment"], "nope")["error_key"] == "attr.bad_method"
    table = api.faithfulness(TINY_TEXT, tiny_task_models["sentiment"], "", 8)
    assert set(table["methods"]["occlusion"]) == {"aopc_comprehensiveness", "sufficiency", "curve"}


# ---------------------------------------------------------------- the presenter


def test_presenter_keeps_every_methods_scores_and_draws_one(tiny_task_models):
    result = explain.present(tiny_input("qa"), tiny_task_models["qa"], "", ("occlusion", "attention"), 8, "attention")
    assert list(result.scores) == ["attention", "occlusion"] and result.shown == "attention"  # the table's order
    assert [value for _, value in result.targets][0] == "answer" and result.target == "answer"
    text = "".join(characters for characters, _ in result.pieces)
    assert text == "the cat\nthe cat sat on the mat ."  # question, a line break, the context: nothing lost
    view = explain.show(result, "occlusion")
    scored = [score for _, score in view.overlay if score is not None]
    assert max(abs(score) for score in scored) == pytest.approx(1.0)  # scaled to the largest |score|
    assert np.asarray(view.grid["data"][0]["z"]["bdata"]).size  # the grid holds both rows
    assert "occlusion" in render(view.bars["layout"]["title"]["text"])


def test_presenter_leaves_costly_methods_out_of_a_long_text_and_says_so(tiny_task_models):
    result = explain.present(" ".join(["cat"] * 200), tiny_task_models["sentiment"])
    assert "integrated_gradients" not in result.scores and "rollout" in result.scores
    assert [warning.key for warning in result.warnings] == ["explain.costly_skipped"]


def test_faithfulness_table_ranks_methods_and_marks_the_reference(tiny_task_models):
    result = explain.measure(TINY_TEXT, tiny_task_models["sentiment"], "", 8)
    cells = result.table.cells("en")
    assert [row[0] for row in cells] == list(range(1, len(attribution.METHODS) + 2))
    values = [row[2] for row in cells]
    assert values == sorted(values, reverse=True)
    assert sum(row[4] == "(reference)" for row in cells) == 1


def test_integrated_gradients_in_several_passes_equal_one(tiny_task_models, monkeypatch):
    """Bigger models or inputs split the steps over several forward + backward passes: same result."""
    subject = attribution.subject_for(TINY_TEXT, tiny_task_models["sentiment"])
    whole = attribution.attribute_subject(subject, "integrated_gradients", 16)
    monkeypatch.setattr(attribution, "GRADIENT_BUDGET", 1)  # one step per pass
    assert attribution.gradient_rows(subject.loaded.model, subject.analysis.n_tokens, 16) == 1
    split = attribution.attribute_subject(subject, "integrated_gradients", 16)
    np.testing.assert_allclose(split.scores, whole.scores, atol=1e-6)
    assert split.extra["delta"] == pytest.approx(whole.extra["delta"], abs=1e-6)


def test_every_method_runs_on_a_distilbert_classifier(tmp_path):
    """The chapter's sentiment model is a DistilBERT (no token types, ``q_lin``/``v_lin``/``out_lin``): a
    tiny random one, built from a config, gets every method and a value norm equal to numpy's."""
    from transformers import BertTokenizer, DistilBertConfig, DistilBertForSequenceClassification

    from explorer import backend, models
    from tests.conftest import TINY_WORDS

    torch.manual_seed(1)
    config = DistilBertConfig(
        vocab_size=len(TINY_WORDS), dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=64,
        id2label={0: "NEGATIVE", 1: "POSITIVE"}, label2id={"NEGATIVE": 0, "POSITIVE": 1},
    )  # fmt: skip
    DistilBertForSequenceClassification(config).save_pretrained(tmp_path)
    BertTokenizer(vocab={word: index for index, word in enumerate(TINY_WORDS)}).save_pretrained(tmp_path)
    name = models.register_model(models.ModelSpec(name="tiny-distil-explain", source=str(tmp_path), task="sentiment")).name
    try:
        subject = attribution.subject_for(TINY_TEXT, name)
        for method in attribution.METHODS:
            scores = attribution.attribute_subject(subject, method, 8).scores
            assert scores.shape == (subject.analysis.n_tokens,) and np.isfinite(scores).all(), method
        block = encoder_layers(subject.loaded.model)[-1].attention
        values = subject.analysis.hidden_states[-2].astype(np.float64) @ block.v_lin.weight.detach().double().numpy().T
        values += block.v_lin.bias.detach().double().numpy()
        w_o = block.out_lin.weight.detach().double().numpy()
        mixed = sum(
            subject.analysis.attentions[-1, h, 0][:, None] * (values[:, h * 8 : (h + 1) * 8] @ w_o[:, h * 8 : (h + 1) * 8].T)
            for h in range(4)
        )
        found = attribution.attribute_subject(subject, "value_norm").scores
        np.testing.assert_allclose(found, np.linalg.norm(mixed, axis=-1), rtol=1e-4, atol=1e-5)
    finally:
        models.REGISTRY.pop(name, None)
        models.unload_all()
        backend.cache.clear()


def test_without_captum_integrated_gradients_say_what_to_install(tiny_task_models, monkeypatch):
    import sys

    from explorer.errors import ExplorerError

    monkeypatch.setitem(sys.modules, "captum.attr", None)  # import fails as if captum were not installed
    subject = attribution.subject_for(TINY_TEXT, tiny_task_models["sentiment"])
    with pytest.raises(ExplorerError) as error:
        attribution.attribute_subject(subject, "integrated_gradients", 8)
    assert error.value.msg.key == "attr.no_captum" and "pip install captum" in str(error.value)


def test_text_the_model_cannot_read_is_flagged():
    result = explain.present(
        "この映画はとても面白かったです。俳優の演技も素晴らしい。", OFFLINE_DEFAULT["sentiment"], "", ("attention",)
    )
    assert "explain.unreadable" in [warning.key for warning in result.warnings]
    readable = explain.present(SENTENCE, OFFLINE_DEFAULT["sentiment"], "", ("attention",))
    assert "explain.unreadable" not in [warning.key for warning in readable.warnings]
