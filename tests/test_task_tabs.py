"""Sentiment and NER tabs: presenters on the shipped models, the hub path on tiny task models, the API."""

from __future__ import annotations

import numpy as np
import pytest

import explorer
from explorer import models, presenters


@pytest.fixture(scope="module")
def tiny_task_models(tmp_path_factory):
    """Random-weight sequence- and token-classification BERTs saved as hub-style folders."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertForTokenClassification, BertTokenizer

    from tests.conftest import TINY_WORDS

    torch.manual_seed(0)
    tokenizer = BertTokenizer(vocab={word: index for index, word in enumerate(TINY_WORDS)})
    names = []
    for task, cls, labels in (
        ("sentiment", BertForSequenceClassification, ["NEGATIVE", "POSITIVE"]),
        ("ner", BertForTokenClassification, ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]),
    ):
        folder = tmp_path_factory.mktemp(f"tiny-{task}")
        config = BertConfig(
            vocab_size=len(TINY_WORDS), hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)},
        )  # fmt: skip
        cls(config).save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        spec = models.register_model(models.ModelSpec(name=f"tiny-{task}", source=str(folder), description="", task=task))
        names.append(spec.name)
    yield dict(zip(("sentiment", "ner"), names, strict=True))
    for name in names:
        models.REGISTRY.pop(name, None)


def test_hub_style_sequence_classifier_loads_through_the_registry(tiny_task_models):
    analysis = explorer.analyze("the cat sat on the mat .", tiny_task_models["sentiment"])
    probabilities = presenters.class_probabilities(analysis)
    assert set(probabilities) == {"NEGATIVE", "POSITIVE"}
    assert sum(probabilities.values()) == pytest.approx(1.0)
    assert analysis.attentions.shape[:2] == (2, 4)


def test_hub_style_token_classifier_loads_through_the_registry(tiny_task_models):
    analysis = explorer.analyze("the cat sat on the mat .", tiny_task_models["ner"])
    assert analysis.logits.shape == (analysis.n_tokens, 5) and analysis.labels[1] == "B-PER"
    for strategy in ("none", "simple", "first", "average", "max"):
        for entity in presenters.entities(analysis, strategy):
            assert analysis.text[entity.start : entity.end] == entity.text
    assert [row[1] for row in presenters.tag_rows(analysis)][:2] == ["[CLS]", "the"]


def test_wrong_kind_of_model_is_a_clear_message():
    with pytest.raises(explorer.ExplorerError, match="not a text classifier"):
        presenters.class_probabilities(explorer.analyze("The cat sat."))
    with pytest.raises(explorer.ExplorerError, match="not a token classifier"):
        presenters.entities(explorer.analyze("The cat sat."))


def test_attribution_covers_the_text_and_marks_words():
    analysis = explorer.analyze("This movie was absolutely wonderful.", "minilm-sentiment")
    pieces = presenters.attribution_highlights(analysis)
    assert "".join(piece for piece, _ in pieces) == analysis.text
    scores = [score for _, score in pieces if score is not None]
    assert max(scores) == 1.0 and min(scores) >= 0.0


def test_registry_offers_the_chapters_hub_task_models():
    assert "distilbert-base-uncased-finetuned-sst-2-english" in models.names_for_task("sentiment")
    assert "dbmdz/bert-large-cased-finetuned-conll03-english" in models.names_for_task("ner")
    assert "bert-large-uncased-whole-word-masking-finetuned-squad" in models.names_for_task("qa")
    assert models.names_for_task("sentiment")[0] == "minilm-sentiment"


def test_unavailable_hub_task_model_falls_back_to_the_offline_one():
    outcome = presenters.analyze_or_fallback(
        "Great film.", "distilbert-base-uncased-finetuned-sst-2-english", fallback="minilm-sentiment"
    )
    assert outcome.analysis.model_name == "minilm-sentiment"
    assert "distilbert" in outcome.notes[0]


@pytest.fixture(scope="module")
def client(app_url):
    gradio_client = pytest.importorskip("gradio_client")
    return gradio_client.Client(app_url, verbose=False)


def test_sentiment_endpoint(client):
    message, label, rollout, result, *_ = client.predict(
        "A dull, lifeless waste of two hours.", "minilm-sentiment", 5, 0, api_name="/sentiment"
    )
    assert result["label"] == "negative" and result["probabilities"]["negative"] > 0.9
    assert "negative" in message


def test_ner_endpoint_chapter_example(client):
    text = "Apple Inc. is looking at buying U.K. startup for $1 billion. Tim Cook is the CEO."
    message, highlighted, table, found, *_ = client.predict(text, "minilm-ner", "simple", 5, 0, api_name="/ner")
    assert [row[1] for row in table["data"]] == [e["entity"] for e in found]
    by_text = {e["text"]: e for e in found}
    assert by_text["Tim Cook"]["entity"] == "PER" and by_text["U.K."]["entity"] == "LOC"
    assert text[by_text["Tim Cook"]["start"] : by_text["Tim Cook"]["end"]] == "Tim Cook"
    assert by_text["Apple Inc."]["entity"] == "ORG"


@pytest.mark.parametrize("text", ["", "   ", "<script>alert(1)</script>", "😀" * 50, "word " * 3000])
def test_task_endpoints_never_fail_on_hostile_input(client, text):
    message = client.predict(text, "minilm-sentiment", 5, 0, api_name="/sentiment")[0]
    assert message and "Something went wrong" not in message
    message = client.predict(text, "minilm-ner", "first", 5, 0, api_name="/ner")[0]
    assert message and "Something went wrong" not in message


@pytest.fixture(scope="module")
def tiny_qa_model(tmp_path_factory):
    import torch
    from transformers import BertConfig, BertForQuestionAnswering, BertTokenizer

    from tests.conftest import TINY_WORDS

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-qa")
    config = BertConfig(
        vocab_size=len(TINY_WORDS),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    BertForQuestionAnswering(config).save_pretrained(folder)
    BertTokenizer(vocab={word: index for index, word in enumerate(TINY_WORDS)}).save_pretrained(folder)
    spec = models.register_model(models.ModelSpec(name="tiny-qa", source=str(folder), description="", task="qa"))
    yield spec.name
    models.REGISTRY.pop(spec.name, None)


def test_hub_style_qa_model_reads_a_long_context_in_overlapping_windows(tiny_qa_model):
    from explorer import backend

    context = "the cat sat on the mat . " * 30  # 210 context tokens, model window 64
    before = explorer.forward_count()
    result = backend.analyze_qa("the dog sat ?", context, tiny_qa_model)
    assert explorer.forward_count() == before + 1  # all windows in one batch
    assert len(result.windows) > 3 and "windows" in result.notes[-1]
    covered = set()
    for window in result.windows:
        assert window.logits.shape == (window.n_tokens, 2) and window.n_tokens <= 64
        np.testing.assert_allclose(window.attentions.sum(-1), 1.0, atol=1e-5)
        spans = [span for span, sid in zip(window.offsets, window.sequence_ids, strict=True) if sid == 1]
        covered.update(range(spans[0][0], spans[-1][1]))
        assert [window.token_text(i) for i, sid in enumerate(window.sequence_ids) if sid == 0] == ["the", "dog", "sat", "?"]
    assert covered >= set(range(len(context.rstrip())))  # every context character is read
    view = presenters.qa_view(result, layer=-1, head=None)
    best = view.answers[0]
    assert context[best.start : best.end] == best.text and 0 < best.score <= 1
    assert backend.analyze_qa("the dog sat ?", context, tiny_qa_model) is result  # cached


def test_too_long_question_is_a_clear_message(tiny_qa_model):
    from explorer import backend

    with pytest.raises(explorer.InputError, match="question is too long"):
        backend.analyze_qa("the cat sat " * 20, "the mat .", tiny_qa_model)


def test_qa_endpoint_chapter_example(client):
    from explorer.ui.qa import CHAPTER_CONTEXT

    message, highlighted, found, *_ = client.predict(
        "When was the Transformer introduced?", CHAPTER_CONTEXT, "minilm-qa", 5, -1, api_name="/qa"
    )
    assert found["answer"] == "2017" and CHAPTER_CONTEXT[found["start"] : found["end"]] == "2017"
    assert found["score"] > 0.5 and len(found["alternatives"]) == 5
    assert "2017" in message


def test_qa_endpoint_says_when_the_answer_is_not_in_the_context(client):
    from explorer.ui.qa import CHAPTER_CONTEXT

    message = client.predict("Who is the president of France?", CHAPTER_CONTEXT, "minilm-qa", 5, -1, api_name="/qa")[0]
    assert "may not contain the answer" in message


@pytest.mark.parametrize(
    ("question", "context"),
    [
        ("", "Some context."),
        ("What?", ""),
        ("<img src=x onerror=alert(1)>?", "<script>alert(1)</script>"),
        ("Why?", "word " * 5000),
    ],
)
def test_qa_endpoint_never_fails_on_hostile_input(client, question, context):
    message = client.predict(question, context, "minilm-qa", 5, -1, api_name="/qa")[0]
    assert message and "Something went wrong" not in message


def test_any_hub_id_only_when_the_operator_allows_it(monkeypatch):
    monkeypatch.delenv(models.ALLOW_ANY_MODEL_ENV, raising=False)
    models.ensure_registered("someone/typed-model", "sentiment")
    assert "someone/typed-model" not in models.REGISTRY
    with pytest.raises(explorer.ModelUnavailable, match="Unknown model"):
        explorer.analyze("hello", "someone/typed-model")
    monkeypatch.setenv(models.ALLOW_ANY_MODEL_ENV, "1")
    try:
        models.ensure_registered("someone/typed-model", "sentiment")
        assert models.REGISTRY["someone/typed-model"].task == "sentiment"
        assert models.REGISTRY["someone/typed-model"].source == "someone/typed-model"
    finally:
        models.REGISTRY.pop("someone/typed-model", None)


def test_large_attentions_are_stored_as_float16(tiny_model, monkeypatch):
    from explorer import backend

    monkeypatch.setattr(backend, "COMPACT_ATTENTION_BYTES", 1_000)
    analysis = explorer.analyze("the cat sat on the mat .", tiny_model)
    assert analysis.attentions.dtype == np.float16
    np.testing.assert_allclose(analysis.attentions.astype(np.float32).sum(-1), 1.0, atol=5e-3)
    assert presenters.attention_view(analysis, 1, 2).head is not None
