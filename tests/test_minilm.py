"""End to end on the embedded all-MiniLM-L6-v2 (real weights, no network)."""

import numpy as np
import pytest

import explorer
from explorer import models

CAT = "The cat sat on the mat."


@pytest.fixture(scope="module")
def cat_analysis():
    return explorer.analyze(CAT)


def test_cat_sentence_tokens_and_shapes(cat_analysis):
    assert cat_analysis.model_name == "all-MiniLM-L6-v2"
    assert cat_analysis.tokens == ("[CLS]", "the", "cat", "sat", "on", "the", "mat", ".", "[SEP]")
    assert cat_analysis.token_ids.tolist() == [101, 1996, 4937, 2938, 2006, 1996, 13523, 1012, 102]
    assert cat_analysis.attentions.shape == (6, 12, 9, 9)
    assert cat_analysis.hidden_states.shape == (7, 9, 384)
    np.testing.assert_allclose(cat_analysis.attentions.sum(-1), 1.0, atol=1e-5)


def test_values_equal_a_direct_transformers_forward_pass(cat_analysis):
    import torch
    from transformers import AutoModel, AutoTokenizer

    folder = models.embedded_model_path()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()
    with torch.no_grad():
        output = model(**tokenizer(CAT, return_tensors="pt"), output_attentions=True, output_hidden_states=True)
    direct = np.stack([layer[0].numpy() for layer in output.attentions])
    np.testing.assert_allclose(cat_analysis.attentions, direct, atol=1e-6)
    np.testing.assert_allclose(cat_analysis.hidden_states[-1], output.last_hidden_state[0].numpy(), atol=1e-5)


def test_embedded_weights_match_the_published_sha256():
    assert models.sha256_of(models.embedded_model_path() / "model.safetensors") == models.MINILM_SHA256


def test_ten_thousand_characters_are_truncated_to_512_tokens_and_said():
    text = ("Attention lets every token look at every other token in the sentence. " * 150)[:10_000]
    analysis = explorer.analyze(text)
    assert analysis.n_tokens == 512 and analysis.truncated
    assert analysis.total_tokens > 1_500
    assert analysis.attentions.shape == (6, 12, 512, 512)
    truncated = [note for note in analysis.notes if note.key == "input.truncated"]
    assert len(truncated) == 1 and dict(truncated[0].params)["limit"] == 512 and dict(truncated[0].params)["kept"] == 512
    assert "reads at most 512" in str(truncated[0])


@pytest.mark.parametrize(
    "text",
    [
        "😀 👨‍👩‍👧 emoji",
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "مرحبا hello שלום",
        "自然言語処理は人工知能の重要な分野です。",
        "e\u0301 combining",
        "{{7*7}} ${x}",
        "a" * 3000,
    ],
)
def test_hostile_but_valid_text_gives_a_correct_result(text):
    analysis = explorer.analyze(text)
    assert analysis.tokens[0] == "[CLS]" and analysis.tokens[-1] == "[SEP]"
    np.testing.assert_allclose(analysis.attentions.sum(-1), 1.0, atol=1e-5)
    for span in analysis.offsets:
        assert span is None or 0 <= span[0] < span[1] <= len(analysis.text)


def test_markup_is_tokenized_as_text(cat_analysis):
    analysis = explorer.analyze("<script>alert(1)</script>")
    assert "<" in analysis.tokens and "script" in analysis.tokens


def test_learned_position_embeddings_are_the_models():
    from explorer import backend

    positions = backend.position_embeddings()
    assert positions.shape == (512, 384)


def test_unknown_tokens_are_explained_for_japanese_in_an_english_model():
    from explorer.present import tokenization

    note = tokenization.unknown_token_note(explorer.analyze("自然言語処理"))
    assert note is not None and note.key == "tok.unknown" and dict(note.params)["count"] == 5
    assert str(note).startswith("5 of 8 tokens are [UNK]")
    assert tokenization.unknown_token_note(explorer.analyze(CAT)) is None
    result = tokenization.present("自然言語処理")
    assert note in result.lines and result.tokens.records()[1]["token"] == "[UNK]"
