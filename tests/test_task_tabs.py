"""Sentiment, NER and QA tabs: presenters on the shipped models, the hub path on tiny task models, the public API."""

from __future__ import annotations

import numpy as np
import pytest

import explorer
from explorer import backend, models
from explorer.analysis import AnalysisKey
from explorer.messages import Msg
from explorer.present import attention as attention_present
from explorer.present import ner as ner_present
from explorer.present import qa as qa_present
from explorer.present import sentiment as sentiment_present
from explorer.present.common import analysis_for
from explorer.tasks import ner as ner_tasks
from explorer.tasks import sentiment as sentiment_tasks


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
    probabilities = sentiment_tasks.class_probabilities(analysis)
    assert set(probabilities) == {"NEGATIVE", "POSITIVE"}
    assert sum(probabilities.values()) == pytest.approx(1.0)
    assert analysis.attentions.shape[:2] == (2, 4)
    result = sentiment_present.present("the cat sat on the mat .", tiny_task_models["sentiment"], layer=1, head=3)
    assert result.label == max(probabilities, key=probabilities.get) and result.probabilities == probabilities
    assert result.label.lower() in result.messages()["notes"][0]  # a class the catalog knows is said in words


def test_hub_style_token_classifier_loads_through_the_registry(tiny_task_models):
    analysis = explorer.analyze("the cat sat on the mat .", tiny_task_models["ner"])
    assert analysis.logits.shape == (analysis.n_tokens, 5) and analysis.labels[1] == "B-PER"
    for strategy in ("none", "simple", "first", "average", "max"):
        for entity in ner_tasks.entities(analysis, strategy):
            assert analysis.text[entity.start : entity.end] == entity.text
        result = ner_present.present("the cat sat on the mat .", tiny_task_models["ner"], strategy, layer=1, head=0)
        assert [row["entity"] for row in result.entities.records()] == [e.text for e in ner_tasks.entities(analysis, strategy)]
    tags = result.tags.records()
    assert [row["token"] for row in tags][:2] == ["[CLS]", "the"]
    assert [row["tag"] for row in tags] == [tag for tag, _ in ner_tasks.token_tags(analysis)]


def test_wrong_kind_of_model_is_a_clear_message():
    with pytest.raises(explorer.ExplorerError) as error:
        sentiment_tasks.class_probabilities(explorer.analyze("The cat sat."))
    assert error.value.msg == Msg("sent.not_classifier", model=models.DEFAULT_MODEL)
    assert "not a text classifier" in str(error.value)
    with pytest.raises(explorer.ExplorerError) as error:
        ner_tasks.entities(explorer.analyze("The cat sat."))
    assert error.value.msg == Msg("ner.not_tagger", model=models.DEFAULT_MODEL)
    assert "not a token classifier" in str(error.value)
    with pytest.raises(explorer.ExplorerError) as error:
        qa_present.present("When?", "The cat sat.", models.DEFAULT_MODEL)  # an encoder has no span head
    assert error.value.msg == Msg("qa.not_qa_model", model=models.DEFAULT_MODEL)


def test_attribution_covers_the_text_and_marks_words():
    result = sentiment_present.present("This movie was absolutely wonderful.", "minilm-sentiment")
    pieces = result.rollout
    assert "".join(piece for piece, _ in pieces) == "This movie was absolutely wonderful."
    scores = [score for _, score in pieces if score is not None]
    assert max(scores) == 1.0 and min(scores) >= 0.0
    assert len(scores) == 6  # every word and the full stop; [CLS]/[SEP] cover no text


def test_registry_offers_the_chapters_hub_task_models():
    assert "distilbert-base-uncased-finetuned-sst-2-english" in models.names_for_task("sentiment")
    assert "dbmdz/bert-large-cased-finetuned-conll03-english" in models.names_for_task("ner")
    assert "bert-large-uncased-whole-word-masking-finetuned-squad" in models.names_for_task("qa")
    assert models.names_for_task("sentiment")[0] == "minilm-sentiment"


def test_unavailable_hub_task_model_falls_back_to_the_offline_one():
    analysis, warnings = analysis_for("Great film.", "distilbert-base-uncased-finetuned-sst-2-english", "sentiment")
    assert analysis.model_name == "minilm-sentiment"
    assert warnings[0].key == "model.hub_failed" and "distilbert" in str(warnings[0])
    assert warnings[1] == Msg("fallback.used", model="minilm-sentiment")
    result = sentiment_present.present("Great film.", "distilbert-base-uncased-finetuned-sst-2-english")
    assert result.key.model == "minilm-sentiment" and result.warnings == warnings


@pytest.fixture(scope="module")
def client(app_url):
    gradio_client = pytest.importorskip("gradio_client")
    return gradio_client.Client(app_url, verbose=False)


def test_sentiment_endpoint(client):
    text = "A dull, lifeless waste of two hours."
    result = client.predict(text, "minilm-sentiment", 5, 0, api_name="/sentiment")
    assert result["model"] == "minilm-sentiment" and "error" not in result
    assert result["label"] == "negative" and result["probabilities"]["negative"] > 0.9
    assert sum(result["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert "".join(piece["text"] for piece in result["rollout"]) == text and result["truncated"] is False
    assert "negative" in result["notes"][0] and result["warnings"] == []


def test_ner_endpoint_chapter_example(client):
    text = "Apple Inc. is looking at buying U.K. startup for $1 billion. Tim Cook is the CEO."
    result = client.predict(text, "minilm-ner", "simple", 5, 0, api_name="/ner")
    assert result["model"] == "minilm-ner" and result["strategy"] == "simple"
    found = result["entities"]
    assert f"{len(found)} entities" in result["notes"][0]
    by_text = {e["entity"]: e for e in found}
    assert by_text["Tim Cook"]["type"] == "PER" and by_text["U.K."]["type"] == "LOC"
    assert text[by_text["Tim Cook"]["start"] : by_text["Tim Cook"]["end"]] == "Tim Cook"
    assert by_text["Apple Inc."]["type"] == "ORG"
    assert all(0 < e["score"] <= 1 and text[e["start"] : e["end"]] == e["entity"] for e in found)


@pytest.mark.parametrize("text", ["", "   ", "<script>alert(1)</script>", "😀" * 50, "word " * 3000])
def test_task_endpoints_never_fail_on_hostile_input(client, text):
    for result in (
        client.predict(text, "minilm-sentiment", 5, 0, api_name="/sentiment"),
        client.predict(text, "minilm-ner", "first", 5, 0, api_name="/ner"),
    ):
        if text.strip():
            assert "error" not in result and result["notes"], result
        else:  # nothing to analyse: a keyed sentence, not a traceback
            assert result["error_key"] == "input.empty" and "enter some text" in result["error"]
        assert result.get("error_key") != "error.unexpected"


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
    context = "the cat sat on the mat . " * 30  # 210 context tokens, model window 64
    before = explorer.forward_count()
    result = backend.analyze_qa("the dog sat ?", context, tiny_qa_model)
    assert explorer.forward_count() == before + 1  # all windows in one batch
    assert len(result.windows) > 3 and result.notes[-1].key == "qa.windows"
    assert dict(result.notes[-1].params)["count"] == len(result.windows) and "all were read" in str(result.notes[-1])
    covered = set()
    for window in result.windows:
        assert window.logits.shape == (window.n_tokens, 2) and window.n_tokens <= 64
        np.testing.assert_allclose(window.attentions.sum(-1), 1.0, atol=1e-5)
        spans = [span for span, sid in zip(window.offsets, window.sequence_ids, strict=True) if sid == 1]
        covered.update(range(spans[0][0], spans[-1][1]))
        assert [window.token_text(i) for i, sid in enumerate(window.sequence_ids) if sid == 0] == ["the", "dog", "sat", "?"]
    assert covered >= set(range(len(context.rstrip())))  # every context character is read
    shown = qa_present.present("the dog sat ?", context, tiny_qa_model, layer=-1, head=qa_present.MEAN_OF_HEADS)
    best = shown.answers[0]
    assert context[best.start : best.end] == best.text and 0 < best.score <= 1
    assert shown.key == AnalysisKey(tiny_qa_model, "the dog sat ?", context) and shown.layer == 1
    assert qa_present.view(shown.key, 0, 2) is not None  # another layer/head: redrawn from the cache
    assert backend.analyze_qa("the dog sat ?", context, tiny_qa_model) is result  # cached
    assert explorer.forward_count() == before + 1


def test_too_long_question_is_a_clear_message(tiny_qa_model):
    with pytest.raises(explorer.InputError) as error:
        backend.analyze_qa("the cat sat " * 20, "the mat .", tiny_qa_model)
    assert error.value.msg == Msg("qa.question_too_long", tokens=60, limit=32)
    assert "question is too long" in str(error.value)


def test_qa_endpoint_chapter_example(client):
    from explorer.ui.qa import CHAPTER_CONTEXT

    found = client.predict("When was the Transformer introduced?", CHAPTER_CONTEXT, "minilm-qa", 5, -1, api_name="/qa")
    assert found["answer"] == "2017" and CHAPTER_CONTEXT[found["start"] : found["end"]] == "2017"
    assert found["score"] > 0.5 and len(found["alternatives"]) == 5
    assert found["alternatives"][0]["answer"] == "2017" and 0 <= found["no_answer_score"] < found["score"]
    assert "2017" in found["notes"][0] and found["warnings"] == []


def test_qa_endpoint_says_when_the_answer_is_not_in_the_context(client):
    from explorer.ui.qa import CHAPTER_CONTEXT

    found = client.predict("Who is the president of France?", CHAPTER_CONTEXT, "minilm-qa", 5, -1, api_name="/qa")
    assert found["warnings"] and all("the context may not" in warning for warning in found["warnings"])


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
    result = client.predict(question, context, "minilm-qa", 5, -1, api_name="/qa")
    if question and context:
        assert "error" not in result and result["notes"], result
    else:
        assert result["error_key"] == "input.empty" and result["error"]
    assert result.get("error_key") != "error.unexpected"


def test_any_hub_id_only_when_the_operator_allows_it(monkeypatch):
    monkeypatch.delenv(models.ALLOW_ANY_MODEL_ENV, raising=False)
    with pytest.raises(explorer.ModelUnavailable) as error:
        models.resolve("someone/typed-model", "sentiment")
    assert error.value.msg.key == "model.unknown" and "Unknown model" in str(error.value)
    with pytest.raises(explorer.ModelUnavailable):
        explorer.analyze("hello", "someone/typed-model")
    monkeypatch.setenv(models.ALLOW_ANY_MODEL_ENV, "1")
    spec = models.resolve("someone/typed-model", "sentiment")
    assert spec.task == "sentiment" and spec.source == "someone/typed-model"
    assert "someone/typed-model" not in models.REGISTRY  # a spec for this request only: serving never writes the registry
    for hostile in ("../../etc/passwd", "a b", "x" * 300, "someone/typed-model/extra"):
        with pytest.raises(explorer.ModelUnavailable):
            models.resolve(hostile, "sentiment")


def test_attentions_above_the_limit_are_stored_as_float16(tiny_model, monkeypatch):
    """Above COMPACT_ATTENTION_BYTES (12 layers x 12 heads x 512² float32) the weights are kept as float16."""
    text = "the cat sat on the mat ."
    assert explorer.analyze(text, tiny_model).attentions.dtype == np.float32  # 2 x 4 x 9² is far below the limit
    backend.cache.clear()
    monkeypatch.setattr(backend, "COMPACT_ATTENTION_BYTES", 2 * 4 * 9 * 9 * 4 - 1)  # one byte under this input
    analysis = explorer.analyze(text, tiny_model)
    assert analysis.n_tokens == 9 and analysis.attentions.dtype == np.float16
    np.testing.assert_allclose(analysis.attentions.astype(np.float32).sum(-1), 1.0, atol=5e-3)
    assert analysis.hidden_states.dtype == np.float32  # only the attentions are compacted
    assert attention_present.attention_view(analysis, 1, 2).head is not None
    check = attention_present.scratch_check(AnalysisKey(tiny_model, text), 1)
    assert dict(check.params)["dtype"] == "float16" and float(dict(check.params)["difference"]) < 5e-3


def test_storage_dtype_limit_is_twelve_by_twelve_heads_at_512_tokens():
    assert backend.COMPACT_ATTENTION_BYTES == 12 * 12 * 512 * 512 * 4
    assert backend.storage_dtype(6, 12, 512) == "float32"  # MiniLM at its longest input
    assert backend.storage_dtype(12, 12, 512) == "float32"  # BERT-Base at its longest input
    assert backend.storage_dtype(12, 12, 513) == "float16"
    assert backend.storage_dtype(24, 16, 384) == "float16"  # BERT-Large on a QA window


def test_minilm_at_512_tokens_keeps_float32_and_the_recompute_check_holds(fresh_cache):
    """The defect this guards: float16 from 342 tokens on, and a recompute error of 2.4e-4."""
    text = ("Attention lets every token look at every other token in the sentence. " * 60)[:5_000]
    analysis = explorer.analyze(text)
    assert analysis.n_tokens == 512 and analysis.truncated
    assert analysis.attentions.dtype == np.float32 and analysis.attentions.shape == (6, 12, 512, 512)
    assert np.abs(analysis.attentions.sum(-1) - 1.0).max() < 1e-5
    key = AnalysisKey(models.DEFAULT_MODEL, text)
    for layer in range(analysis.n_layers):
        check = attention_present.scratch_check(key, layer)
        assert dict(check.params)["dtype"] == "float32" and dict(check.params)["tokens"] == 512
        assert float(dict(check.params)["difference"]) < 1e-5, (layer, check)
