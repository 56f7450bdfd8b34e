import importlib.util

import pytest

from explorer import ja_vocab, japanese, models
from explorer.errors import ModelUnavailable
from explorer.messages import Msg
from explorer.present import tokenization


def test_mecab_morphemes_with_pos_lemma_reading_and_offsets():
    text = "自然言語処理は人工知能の重要な分野です。"
    morphemes = japanese.morphemes(text)
    assert [m.surface for m in morphemes][:4] == ["自然", "言語", "処理", "は"]
    first = morphemes[0]
    assert first.pos.startswith("名詞") and first.reading == "シゼン" and (first.start, first.end) == (0, 2)
    assert morphemes[-1].surface == "。" and morphemes[-1].end == len(text)
    assert all(text[m.start : m.end] == m.surface for m in morphemes)


def test_character_subwords_follow_mecab_words():
    tokens = japanese.subwords("日本語を学ぶ")
    assert tokens[0].token == "[CLS]" and tokens[-1].token == "[SEP]"
    assert [t.token for t in tokens[1:4]] == ["日", "本", "語"]
    assert [t.word for t in tokens[1:7]] == ["日本", "日本", "語", "を", "学ぶ", "学ぶ"]
    assert all(t.token_id != 1 for t in tokens)  # no [UNK]: every character is in the vocab


def test_unknown_characters_become_unk_and_long_text_is_capped():
    tokens = japanese.subwords("絵文字😀", max_length=8)
    assert "[UNK]" in [t.token for t in tokens]
    assert len(japanese.subwords("あ" * 1000, max_length=16)) == 16


def test_shipped_vocab_is_exactly_what_the_recipe_builds():
    shipped = ja_vocab.VOCAB_PATH.read_text(encoding="utf-8").splitlines()
    assert shipped == ja_vocab.build_character_vocab()
    assert len(shipped) > 6900 and shipped[:5] == list(ja_vocab.SPECIAL_TOKENS)


def test_japanese_rows_for_mixed_text_and_emoji(tiny_model):
    result = tokenization.present("BERTは2018年に発表 🤖", tiny_model)
    morphemes, subwords = result.morphemes.records(), result.subwords.records()
    assert morphemes[0]["surface"] == "BERT" and morphemes[0]["start"] == 0
    assert subwords[0]["subword"] == "[CLS]" and subwords[-1]["subword"] == "[SEP]"
    assert "".join(piece for piece, _ in result.morpheme_highlights) == "BERTは2018年に発表 🤖"


def test_japanese_hub_style_model_loads_from_a_folder_and_maps_offsets(tiny_japanese_model):
    import explorer

    text = "自然言語処理は人工知能です。"
    analysis = explorer.analyze(text, tiny_japanese_model)
    assert analysis.tokens == ("[CLS]", "自然", "言語", "処理", "は", "人工", "知能", "です", "。", "[SEP]")
    assert analysis.attentions.shape == (2, 3, 10, 10)
    # BertJapaneseTokenizer is slow (no offsets): spans come from aligning tokens to the text.
    assert [analysis.token_text(i) for i in range(1, 9)] == list(analysis.tokens[1:9])
    assert analysis.offsets[3] == (4, 6)


def test_japanese_column_uses_the_models_own_vocabulary_when_it_has_one(tiny_japanese_model, tiny_model):
    result = tokenization.present("自然言語処理です", tiny_japanese_model)
    assert [row["subword"] for row in result.subwords.records()] == ["[CLS]", "自然", "言語", "処理", "です", "[SEP]"]
    assert Msg("tok.ja_model_vocab", model="tiny-ja-bert") in result.lines
    assert "'tiny-ja-bert' vocabulary" in " ".join(result.messages()["notes"])
    # An English model has no Japanese vocabulary: the offline character vocabulary splits the words.
    result = tokenization.present("自然言語処理です", tiny_model)
    assert result.subwords.records()[1]["subword"] == "自"
    assert Msg("tok.ja_offline_vocab") in result.lines and Msg("tok.ja_model_vocab", model=tiny_model) not in result.lines
    assert "character vocabulary" in " ".join(result.messages()["notes"])


def test_a_japanese_model_without_mecab_says_what_to_install(tiny_japanese_model, monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "fugashi" else real_find_spec(name, *a))
    models.unload_all()
    with pytest.raises(ModelUnavailable) as error:
        models.load_model(tiny_japanese_model)
    assert error.value.msg.key == "model.needs_packages" and dict(error.value.msg.params)["packages"] == "fugashi"
    assert "pip install fugashi" in str(error.value)
    # The chapter's Tohoku BERT names its whole install line (it also needs the IPA dictionary).
    with pytest.raises(ModelUnavailable) as error:
        models.load_model("cl-tohoku/bert-base-japanese-whole-word-masking")
    assert "pip install fugashi ipadic" in str(error.value)
