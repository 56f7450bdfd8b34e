"""The shared backend on tiny random models the tests build: shapes, caching, truncation, loading."""

import numpy as np
import pytest

import explorer
from explorer import backend, models, presenters, views
from explorer.errors import InputError, ModelUnavailable


def test_analysis_shapes_offsets_and_rows(tiny_model):
    analysis = explorer.analyze("The cats sat on the mat.", tiny_model)
    assert analysis.tokens == ("[CLS]", "the", "cat", "##s", "sat", "on", "the", "mat", ".", "[SEP]")
    assert analysis.attentions.shape == (2, 4, 10, 10)
    assert analysis.hidden_states.shape == (3, 10, 32)
    np.testing.assert_allclose(analysis.attentions.sum(-1), 1.0, atol=1e-5)
    assert analysis.offsets[0] is None and analysis.offsets[-1] is None
    assert [analysis.token_text(i) for i in (1, 2, 3)] == ["The", "cat", "s"]
    assert analysis.special_mask.tolist() == [True] + [False] * 8 + [True]
    assert not analysis.truncated and analysis.total_tokens == 10


def test_one_forward_per_model_and_text(tiny_model):
    before = explorer.forward_count()
    first = explorer.analyze("the cat sat", tiny_model)
    again = explorer.analyze("the cat sat", tiny_model)
    assert again is first
    assert explorer.forward_count() == before + 1
    explorer.analyze("the dog sat", tiny_model)
    assert explorer.forward_count() == before + 2


def test_changing_layer_head_or_hiding_specials_never_runs_the_model(tiny_model):
    analysis = explorer.analyze("the cat sat on the mat .", tiny_model)
    before = explorer.forward_count()
    for layer in (0, 1, -1):
        for head in range(4):
            for hide in (False, True):
                view = presenters.attention_view(analysis, layer, head, query_token=2, hide_special=hide, renormalize=hide)
                assert view.head is not None
    presenters.scratch_check(analysis, 1)
    assert explorer.forward_count() == before


def test_hiding_specials_drops_cls_and_sep_and_renormalises(tiny_model):
    analysis = explorer.analyze("the cat sat", tiny_model)
    keep = presenters.visible_tokens(analysis, hide_special=True)
    assert [analysis.tokens[i] for i in keep] == ["the", "cat", "sat"]
    z = views.decode_array(presenters.attention_view(analysis, 0, 1, hide_special=True, renormalize=True).head["data"][0]["z"])
    assert z.shape == (3, 3)
    np.testing.assert_allclose(z.sum(-1), 1.0, atol=1e-3)


def test_long_input_is_truncated_to_the_model_window_and_said(tiny_model):
    analysis = explorer.analyze("the cat sat on the mat . " * 40, tiny_model)
    assert analysis.n_tokens == 64  # max_position_embeddings of the tiny model
    assert analysis.truncated and analysis.total_tokens == 7 * 40 + 2
    assert analysis.tokens[-1] == "[SEP]"
    assert "only the first 64 tokens" in analysis.notes[-1]


def test_cache_is_bounded_by_entries_and_bytes(tiny_model):
    cache = backend.AnalysisCache(max_entries=2, max_bytes=10**9)
    texts = ["the cat", "the dog", "the mat"]
    for text in texts:
        cache.put((tiny_model, text), explorer.analyze(text, tiny_model))
    assert len(cache) == 2 and cache.get((tiny_model, "the cat")) is None
    small = backend.AnalysisCache(max_entries=10, max_bytes=1)
    for text in texts:
        small.put((tiny_model, text), explorer.analyze(text, tiny_model))
    assert len(small) == 1 and small.get((tiny_model, "the mat")) is not None


def test_empty_input_is_an_input_error_before_any_model_work(tiny_model):
    before = explorer.forward_count()
    with pytest.raises(InputError):
        explorer.analyze("  \n ", tiny_model)
    assert explorer.forward_count() == before


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(ModelUnavailable, match="Choose one of: .*all-MiniLM-L6-v2"):
        explorer.analyze("hello", "no-such-model")


def test_missing_hub_model_says_how_to_download_it(tmp_path):
    spec = models.register_model(models.ModelSpec(name="absent", source="someone/absent-model-xyz", description=""))
    try:
        with pytest.raises(ModelUnavailable, match="hf download someone/absent-model-xyz"):
            models.load_model(spec.name)
    finally:
        models.REGISTRY.pop(spec.name)


def test_missing_tokenizer_package_says_what_to_install():
    spec = models.register_model(
        models.ModelSpec(
            name="needs-pkg", source="x/y", description="", requires=("no_such_module_abc",), install_hint="pip install abc"
        )
    )
    try:
        with pytest.raises(ModelUnavailable, match="pip install abc"):
            models.load_model(spec.name)
    finally:
        models.REGISTRY.pop(spec.name)


def test_tampered_weights_are_refused(tiny_bert_dir, tmp_path):
    import shutil

    copy = shutil.copytree(tiny_bert_dir, tmp_path / "copy")
    good = models.sha256_of(copy / "model.safetensors")
    spec = models.register_model(models.ModelSpec(name="pinned", source=str(copy), description="", sha256=good))
    try:
        assert models.load_model("pinned").spec.sha256 == good
        models.unload_all()
        with open(copy / "model.safetensors", "r+b") as handle:
            handle.seek(-4, 2)
            handle.write(b"\x00\x01\x02\x03")
        with pytest.raises(ModelUnavailable, match="Refusing to load"):
            models.load_model("pinned")
    finally:
        models.REGISTRY.pop(spec.name)
        models.unload_all()


def test_unavailable_model_falls_back_to_the_default_with_a_message(fresh_cache):
    spec = models.register_model(models.ModelSpec(name="offline-hub", source="someone/not-cached-xyz", description=""))
    try:
        outcome = presenters.analyze_or_fallback("The cat sat.", "offline-hub")
        assert outcome.analysis.model_name == models.DEFAULT_MODEL
        assert "someone/not-cached-xyz" in outcome.notes[0]
        assert "Showing the embedded model" in outcome.notes[1]
    finally:
        models.REGISTRY.pop(spec.name)


def test_loaded_models_are_bounded(tiny_bert_dir, monkeypatch):
    monkeypatch.setattr(models, "MAX_LOADED_MODELS", 1)
    models.unload_all()
    for name in ("tiny-a", "tiny-b"):
        models.register_model(models.ModelSpec(name=name, source=str(tiny_bert_dir), description=""))
    try:
        models.load_model("tiny-a")
        models.load_model("tiny-b")
        assert models.loaded_model_names() == ["tiny-b"]
    finally:
        for name in ("tiny-a", "tiny-b"):
            models.REGISTRY.pop(name)
        models.unload_all()


def test_registry_keeps_the_chapters_hub_models():
    sources = {spec.source for spec in models.REGISTRY.values()}
    assert {"google-bert/bert-base-uncased", "tohoku-nlp/bert-base-japanese-whole-word-masking"} <= sources
    assert models.REGISTRY["cl-tohoku/bert-base-japanese-whole-word-masking"].requires == ("fugashi", "ipadic")


def test_unreachable_hub_fails_fast_with_a_message(monkeypatch):
    """With no network, a hub model is refused after one quick probe, not ~50 s of retries."""
    with __import__("socket").socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port}")
    assert not models.hub_reachable(timeout=1.0)
    spec = models.register_model(models.ModelSpec(name="hub-only", source="someone/never-cached-xyz", description=""))
    try:
        with pytest.raises(ModelUnavailable, match="hub could not be reached"):
            models.load_model(spec.name)
    finally:
        models.REGISTRY.pop(spec.name)
