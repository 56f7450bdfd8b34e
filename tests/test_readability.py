"""Text the model cannot read (issue 16): the documented thresholds, a warning on every tab that reads
text, and no confident label in the task tabs (Japanese on the embedded English models)."""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer import api, readability
from explorer.messages import Msg, render
from explorer.models import REGISTRY
from explorer.present import attention, compare, embed, explain, fill, heads, ner, qa, sentiment, step, tokenization

ROOT = Path(__file__).resolve().parent.parent
REVIEW_JA = "全く面白くなくて時間の無駄だった。"  # "not funny at all, a waste of time": the example
CONTEXT_JA = "東京で山田さんに会った。"
JA_SENTIMENT = "christian-phu/bert-finetuned-japanese-sentiment"


def keys(result) -> set[str]:
    return {message.key for message in result.warnings}


# ---- the pure part: scripts, counts, thresholds ------------------------------------------------


@pytest.mark.parametrize(
    ("char", "script"),
    [("a", "LATIN"), ("É", "LATIN"), ("あ", "HIRAGANA"), ("ア", "KATAKANA"), ("ー", "KATAKANA"), ("ｶ", "KATAKANA")]
    + [("漢", "CJK"), ("々", "CJK"), ("Я", "CYRILLIC"), ("1", None), ("。", None), (" ", None), ("!", None)],
)
def test_the_script_of_a_character(char, script):
    assert readability.script_of(char) == script


def assess_unknowns(unknown: int, total: int) -> readability.Readability:
    tokens = ["[CLS]", *(["[UNK]"] * unknown), *(["cat"] * (total - unknown)), "[SEP]"]
    special = [True, *([False] * total), True]
    return readability.assess("cat " * total, tokens, special, "m", "en")


def test_the_unknown_threshold_is_30_percent_of_the_non_special_tokens():
    assert readability.UNKNOWN_SHARE == 0.30
    assert assess_unknowns(3, 10).too_many_unknown and not assess_unknowns(3, 10).readable  # 30 %: warned
    assert not assess_unknowns(2, 10).too_many_unknown and assess_unknowns(2, 10).readable  # 20 %: not
    assert assess_unknowns(3, 10).unknown == 3 and assess_unknowns(3, 10).tokens == 10  # [CLS]/[SEP] not counted
    assert assess_unknowns(0, 0).readable  # an empty text is not "unreadable"


def test_the_script_threshold_is_30_percent_of_the_letters():
    assert readability.FOREIGN_SHARE == 0.30

    def on_english(text: str) -> readability.Readability:
        return readability.assess(text, ["x"], [False], "m", "en")

    assert on_english("abcdefg漢字あ").wrong_script  # 3 of 10 letters Japanese
    assert not on_english("abcdefgh漢字").wrong_script  # 2 of 10
    assert on_english("abcdefgh漢字, 12345!!! 。。。").foreign == 2  # digits and punctuation count for no script
    assert on_english("Привет, мир").wrong_script and not on_english("Привет, мир").mostly_japanese
    assert not on_english("The cat sat on the mat.").wrong_script


def test_a_japanese_model_reads_japanese_and_english_letters():
    for text in (REVIEW_JA, "The cat sat on the mat.", "BERTは自然言語処理のモデルです。"):
        assert not readability.assess(text, ["x"], [False], "m", "ja").wrong_script
    assert readability.assess("Привет", ["x"], [False], "m", "ja").wrong_script


def test_the_warnings_point_to_the_japanese_models_of_the_task():
    found = readability.assess(REVIEW_JA, ["x"], [False], "minilm-sentiment", "en")
    for_sentiment = readability.warnings_for(found, "sentiment")
    assert [m.key for m in for_sentiment] == ["read.wrong_script_ja", "read.try_task_models"]
    assert JA_SENTIMENT in render(for_sentiment[-1]) and "tohoku" not in render(for_sentiment[-1])
    # no Japanese NER model is registered: say so, and name the Japanese encoders instead
    for_ner = readability.warnings_for(found, "ner")
    assert for_ner[-1].key == "read.no_task_model" and "tohoku-nlp/bert-base-japanese-v3" in render(for_ner[-1])
    for_encoders = readability.warnings_for(found, None)
    assert for_encoders[-1].key == "read.try_models" and JA_SENTIMENT not in render(for_encoders[-1])
    assert readability.warnings_for(readability.assess("The cat.", ["the", "cat"], [False, False], "m"), "sentiment") == ()
    assert readability.unreliable(found) == Msg("read.unreliable", model="minilm-sentiment")


def test_the_japanese_sentiment_model_is_registered_as_a_hub_bert_with_its_licence():
    spec = REGISTRY[JA_SENTIMENT]
    assert spec.task == "sentiment" and spec.language == "ja" and not spec.embedded
    assert spec.licence == "CC-BY-SA-4.0" and spec.source == JA_SENTIMENT
    assert set(spec.requires) == {"fugashi", "unidic_lite"}
    assert f"| `{JA_SENTIMENT}` |" in (ROOT / "README.md").read_text(encoding="utf-8")  # the models table


# ---- through the presenters, with the embedded English models ------------------------------------


def test_sentiment_on_japanese_is_not_a_confident_label():
    result = sentiment.present(REVIEW_JA)
    assert result.unreliable == Msg("read.unreliable", model="minilm-sentiment")
    assert "read.wrong_script_ja" in keys(result) and "read.try_task_models" in keys(result)
    assert result.lines[0].key == "read.summary_sentiment"  # the summary says "unreliable", not "positive 99.8%"
    assert render(result.lines[0], "ja").startswith("信頼できません")
    answer = result.api()
    assert answer["reliable"] is False and any(JA_SENTIMENT in line for line in answer["warnings"])


def test_sentiment_on_english_stays_confident():
    result = sentiment.present("This movie was absolutely wonderful.")
    assert result.unreliable is None and result.lines[0].key == "sent.summary"
    assert not any(key.startswith("read.") for key in keys(result)) and result.api()["reliable"] is True


def test_ner_and_qa_mark_their_answers_unreliable():
    found = ner.present(CONTEXT_JA)
    assert found.unreliable is not None and found.lines[0].key == "read.summary_ner"
    assert "read.no_task_model" in keys(found) and found.api()["reliable"] is False
    labels = [label for _, label in found.highlights if label is not None]
    assert labels and all(isinstance(label, Msg) and label.key == "read.unreliable_entity" for label in labels)
    answered = qa.present("誰に会った？", CONTEXT_JA)
    assert answered.unreliable is not None and "read.wrong_script_ja" in keys(answered)
    assert Msg("read.unreliable_answer") in [label for _, label in answered.highlights]
    assert answered.api()["reliable"] is False
    english = qa.present("Who did I meet?", "I met Yamada in Tokyo.")
    assert english.unreliable is None and Msg("qa.badge") in [label for _, label in english.highlights]


@pytest.mark.parametrize(
    "run",
    [
        lambda: attention.present(REVIEW_JA),
        lambda: attention.bertviz(REVIEW_JA),
        lambda: tokenization.present(REVIEW_JA),
        lambda: step.present(REVIEW_JA),
        lambda: heads.present(REVIEW_JA),
        lambda: compare.present(REVIEW_JA, "全く面白かった。"),
        lambda: embed.present(REVIEW_JA + "\n" + "面白かった。"),
        lambda: fill.present("全く[MASK]くなくて時間の無駄だった。"),
        lambda: explain.present(REVIEW_JA, "minilm-sentiment", methods=("rollout",)),
    ],
    ids=["attention", "bertviz", "tokenization", "step", "heads", "compare", "embed", "fill", "explain"],
)
def test_every_tab_that_reads_text_warns(run):
    assert "read.wrong_script_ja" in keys(run())


def test_the_public_api_carries_the_warning():
    answer = api.sentiment(REVIEW_JA)
    assert answer["reliable"] is False
    assert any("is an English model" in line for line in answer["warnings"])
    assert not any("English model" in line for line in api.sentiment("A dull, lifeless waste of two hours.")["warnings"])


def test_the_ui_greys_an_unreliable_label():
    from explorer.ui.common import UNRELIABLE_GREY, prediction_label

    grey = prediction_label({"positive": 0.99}, Msg("read.unreliable", model="m"), "Prediction", "ja")
    assert grey.color == UNRELIABLE_GREY and grey.label == render(Msg("read.prediction_unreliable"), "ja")
    plain = prediction_label({"positive": 0.99}, None, "Prediction", "en")
    assert plain.color is None and plain.label == "Prediction"
