"""The shared backend on tiny random models the tests build: shapes, caching, truncation, loading."""

import threading
import time

import numpy as np
import pytest

import explorer
from explorer import backend, models, views
from explorer.analysis import AnalysisKey
from explorer.errors import InputError, ModelUnavailable
from explorer.interventions import HeadGate
from explorer.messages import Msg
from explorer.models.keyed import KeyedCache
from explorer.present import attention as attention_present
from explorer.present.common import analysis_for


def params(message: Msg) -> dict:
    return dict(message.params)


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


def test_run_with_the_same_key_twice_is_one_forward_pass(tiny_model):
    key = AnalysisKey(tiny_model, "the cat sat on the mat")
    before = explorer.forward_count()
    first = backend.run(key)
    assert backend.run(AnalysisKey(tiny_model, "the cat sat on the mat")) is first  # an equal key, not the same object
    assert explorer.analyze("the cat sat on the mat", tiny_model) is first  # analyze is run with the same key
    assert explorer.forward_count() == before + 1
    assert key in backend.cache.keys()


def test_a_head_gate_is_a_different_cache_entry_and_leaves_no_hook_behind(tiny_model):
    text = "the cat sat on the mat ."
    gate = HeadGate.of([(0, 1), (0, 3)])
    before = explorer.forward_count()
    plain = backend.run(AnalysisKey(tiny_model, text))
    gated = backend.run(AnalysisKey(tiny_model, text, None, gate))
    assert explorer.forward_count() == before + 2  # two forward passes: two entries
    assert gated is not plain and gated.intervention == gate and plain.intervention is None
    assert {AnalysisKey(tiny_model, text), AnalysisKey(tiny_model, text, None, gate)} <= set(backend.cache.keys())
    # The gate acts on the heads' outputs: layer 0's weights are unchanged, what layer 0 writes is not.
    np.testing.assert_allclose(gated.attentions[0], plain.attentions[0], atol=1e-6)
    assert np.abs(gated.hidden_states[1] - plain.hidden_states[1]).max() > 1e-4
    assert np.abs(gated.attentions[1] - plain.attentions[1]).max() > 1e-6
    # Both are served from the cache; an equal gate built again is the same key.
    assert backend.run(AnalysisKey(tiny_model, text, None, HeadGate.of([(0, 3), (0, 1)]))) is gated
    assert explorer.analyze(text, tiny_model, intervention=gate) is gated
    assert explorer.forward_count() == before + 2
    # The hooks lived only inside the gated pass: a fresh plain pass gives the plain numbers again.
    backend.cache.clear()
    again = backend.run(AnalysisKey(tiny_model, text))
    assert again is not plain
    np.testing.assert_allclose(again.hidden_states, plain.hidden_states, atol=1e-6)


def test_a_head_that_does_not_exist_is_refused(tiny_model):
    with pytest.raises(InputError) as error:
        backend.run(AnalysisKey(tiny_model, "the cat", None, HeadGate.of([(2, 0)])))
    assert error.value.msg.key == "intervention.head_out_of_range"
    assert params(error.value.msg)["layers"] == 2 and params(error.value.msg)["heads"] == 4


@pytest.fixture()
def tiny_qa_model(tiny_bert_dir):
    """The tiny encoder with a (randomly initialised) span head, registered for question answering."""
    spec = models.register_model(models.ModelSpec(name="tiny-qa-backend", source=str(tiny_bert_dir), task="qa"))
    yield spec.name
    models.REGISTRY.pop(spec.name, None)
    models.unload_all()
    backend.cache.clear()


def test_qa_pairs_share_the_cache_and_its_per_key_lock(tiny_qa_model, monkeypatch):
    """Two users asking the same question about the same context at once: one forward pass."""
    real_forward = backend.forward
    entered = threading.Event()

    def slow_forward(*args, **kwargs):
        entered.set()
        time.sleep(0.3)  # the second request arrives while the first pass is still running
        return real_forward(*args, **kwargs)

    monkeypatch.setattr(backend, "forward", slow_forward)
    models.load_model(tiny_qa_model)  # loading is not what this test times
    before = explorer.forward_count()
    results = [None, None]
    start = threading.Barrier(2)

    def ask(slot: int) -> None:
        start.wait()
        if slot == 1:
            entered.wait(5)
        results[slot] = backend.analyze_qa("the dog sat ?", "the cat sat on the mat .", tiny_qa_model)

    threads = [threading.Thread(target=ask, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert explorer.forward_count() == before + 1
    assert results[0] is results[1] and isinstance(results[0], explorer.WindowedAnalysis)
    # The pair is an ordinary key of the same cache: run() with it is served from there.
    key = AnalysisKey(tiny_qa_model, "the dog sat ?", "the cat sat on the mat .")
    assert key in backend.cache.keys() and backend.run(key) is results[0]
    assert explorer.forward_count() == before + 1


def test_changing_layer_head_or_hiding_specials_never_runs_the_model(tiny_model):
    text = "the cat sat on the mat ."
    analysis = explorer.analyze(text, tiny_model)
    key = AnalysisKey(tiny_model, text)
    before = explorer.forward_count()
    for layer in (0, 1, -1):
        for head in range(4):
            for hide in (False, True):
                view = attention_present.attention_view(analysis, layer, head, query=2, hide_special=hide, renormalize=hide)
                assert view.head is not None
                assert attention_present.view(key, layer, head, 2, hide, hide).weights.shape == view.weights.shape
    attention_present.scratch_check(key, 1)
    attention_present.bertviz_view(key, 1, "model")
    assert explorer.forward_count() == before


def test_hiding_specials_drops_cls_and_sep_and_renormalises(tiny_model):
    analysis = explorer.analyze("the cat sat", tiny_model)
    keep = attention_present.visible_tokens(analysis, hide_special=True)
    assert [analysis.tokens[i] for i in keep] == ["the", "cat", "sat"]
    view = attention_present.attention_view(analysis, 0, 1, hide_special=True, renormalize=True)
    z = views.decode_array(view.head["data"][0]["z"])
    assert z.shape == (3, 3) and view.tokens == ("the", "cat", "sat")
    np.testing.assert_allclose(z.sum(-1), 1.0, atol=1e-3)


def test_long_input_is_truncated_to_the_model_window_and_said(tiny_model):
    analysis = explorer.analyze("the cat sat on the mat . " * 40, tiny_model)
    assert analysis.n_tokens == 64  # max_position_embeddings of the tiny model
    assert analysis.truncated and analysis.total_tokens == 7 * 40 + 2
    assert analysis.tokens[-1] == "[SEP]"
    note = analysis.notes[-1]
    assert note.key == "input.truncated" and params(note)["kept"] == 64 and params(note)["needed"] == 7 * 40 + 2
    assert "only the first 64 tokens" in str(note)


def test_cache_is_bounded_by_entries_and_bytes(tiny_model):
    cache = KeyedCache(2, 10**9, backend.cache.size_of)
    texts = ["the cat", "the dog", "the mat"]
    for text in texts:
        cache.put(AnalysisKey(tiny_model, text), explorer.analyze(text, tiny_model))
    assert len(cache) == 2 and cache.get(AnalysisKey(tiny_model, "the cat")) is None
    small = KeyedCache(10, 1, backend.cache.size_of)
    for text in texts:
        small.put(AnalysisKey(tiny_model, text), explorer.analyze(text, tiny_model))
    assert len(small) == 1 and small.get(AnalysisKey(tiny_model, "the mat")) is not None
    assert backend.cache.max_entries == backend.CACHE_MAX_ENTRIES and backend.cache.max_bytes == backend.CACHE_MAX_BYTES


def test_empty_input_is_an_input_error_before_any_model_work(tiny_model):
    before = explorer.forward_count()
    with pytest.raises(InputError) as error:
        explorer.analyze("  \n ", tiny_model)
    assert error.value.msg.key == "input.empty"
    assert explorer.forward_count() == before


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(ModelUnavailable) as error:
        explorer.analyze("hello", "no-such-model")
    assert error.value.msg.key == "model.unknown" and params(error.value.msg)["model"] == "no-such-model"
    assert "all-MiniLM-L6-v2" in params(error.value.msg)["known"]
    assert "Choose one of:" in str(error.value)


def test_missing_hub_model_says_how_to_download_it(tmp_path):
    spec = models.register_model(models.ModelSpec(name="absent", source="someone/absent-model-xyz", description=""))
    try:
        with pytest.raises(ModelUnavailable) as error:
            models.load_model(spec.name)
        assert error.value.msg.key == "model.hub_failed" and params(error.value.msg)["source"] == "someone/absent-model-xyz"
        assert "hf download someone/absent-model-xyz" in str(error.value)
    finally:
        models.REGISTRY.pop(spec.name)


def test_missing_tokenizer_package_says_what_to_install():
    spec = models.register_model(
        models.ModelSpec(
            name="needs-pkg", source="x/y", description="", requires=("no_such_module_abc",), install_hint="pip install abc"
        )
    )
    try:
        with pytest.raises(ModelUnavailable) as error:
            models.load_model(spec.name)
        assert error.value.msg.key == "model.needs_packages"
        assert params(error.value.msg)["packages"] == "no_such_module_abc"
        assert "pip install abc" in str(error.value)
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
        with pytest.raises(ModelUnavailable) as error:
            models.load_model("pinned")
        assert error.value.msg.key == "model.sha_mismatch" and params(error.value.msg)["expected"] == good[:12]
        assert "Refusing to load" in str(error.value)
    finally:
        models.REGISTRY.pop(spec.name)
        models.unload_all()


def test_unavailable_model_falls_back_to_the_default_with_a_message(fresh_cache):
    spec = models.register_model(models.ModelSpec(name="offline-hub", source="someone/not-cached-xyz", description=""))
    try:
        analysis, warnings = analysis_for("The cat sat.", "offline-hub")
        assert analysis.model_name == models.DEFAULT_MODEL
        assert warnings[0].key == "model.hub_failed" and "someone/not-cached-xyz" in str(warnings[0])
        assert warnings[1] == Msg("fallback.used", model=models.DEFAULT_MODEL)
        assert "Showing the embedded model" in str(warnings[1])
    finally:
        models.REGISTRY.pop(spec.name)


def test_loaded_models_are_bounded(tiny_bert_dir, monkeypatch):
    from explorer.models import loading

    monkeypatch.setattr(loading._loaded, "max_entries", 1)
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
        started = time.monotonic()
        with pytest.raises(ModelUnavailable) as error:
            models.load_model(spec.name)
        assert error.value.msg.key == "model.hub_failed"
        assert "hub could not be reached" in str(error.value)
        assert time.monotonic() - started < 20
    finally:
        models.REGISTRY.pop(spec.name)
