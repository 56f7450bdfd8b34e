"""Sentiment and NER tabs: presenters on the shipped models, the hub path on tiny task models, the API."""

from __future__ import annotations

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
    message, highlighted, found, *_ = client.predict(text, "minilm-ner", "simple", 5, 0, api_name="/ner")
    by_text = {e["text"]: e for e in found}
    assert by_text["Tim Cook"]["entity"] == "PER" and by_text["U.K."]["entity"] == "LOC"
    assert text[by_text["Tim Cook"]["start"] : by_text["Tim Cook"]["end"]] == "Tim Cook"
    assert any(e["entity"] == "ORG" and e["text"].startswith("Apple") for e in found)


@pytest.mark.parametrize("text", ["", "   ", "<script>alert(1)</script>", "😀" * 50, "word " * 3000])
def test_task_endpoints_never_fail_on_hostile_input(client, text):
    message = client.predict(text, "minilm-sentiment", 5, 0, api_name="/sentiment")[0]
    assert message and "Something went wrong" not in message
    message = client.predict(text, "minilm-ner", "first", 5, 0, api_name="/ner")[0]
    assert message and "Something went wrong" not in message
