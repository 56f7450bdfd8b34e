"""The GPU path (issue 11): attentions stay on the model's device, a view copies only what it shows.

``backend.DEVICE_RESIDENT = True`` runs that path on the CPU "device" (the same code: a torch tensor
in ``analysis.DeviceAttentions``, slices copied to numpy on demand), so CPU CI proves every view gives
the numbers of the numpy path: to 1e-6 when a layer crosses as float32, 1e-3 as float16 (the GPU's
default). ``copies``/``copied_bytes`` prove that analysing a text and drawing the Attention tab copies
one layer. Where CUDA is present, the same comparison runs on the GPU.
"""

from __future__ import annotations

import copy
import json
import pickle
import sys
import types

import numpy as np
import pytest

from explorer import backend, heads, models
from explorer.analysis import DeviceAttentions
from explorer.models import loading
from explorer.present import attention as att

from .conftest import build_tiny_bert

TEXT = "the cat sat on the mat . the dogs sat on a mat"
TOLERANCE = {"float32": 1e-6, "float16": 1e-3}


@pytest.fixture(scope="module")
def wide_bert_dir(tmp_path_factory):
    """Three layers of four heads: enough for 'one layer of several' to mean something."""
    return build_tiny_bert(tmp_path_factory.mktemp("tiny-bert-3"), layers=3, heads=4, hidden=32)


@pytest.fixture()
def wide_model(wide_bert_dir):
    spec = models.register_model(models.ModelSpec(name="tiny-device-bert", source=str(wide_bert_dir), description=""))
    backend.cache.clear()
    yield spec.name
    models.REGISTRY.pop(spec.name, None)
    models.unload_all()
    backend.cache.clear()


def both_paths(monkeypatch, name: str, transfer: str, text: str = TEXT):
    """The same text through the numpy path and the device path (``run_loaded``: no cache)."""
    loaded = models.load_model(name)
    with monkeypatch.context() as patch:
        patch.setattr(backend, "DEVICE_RESIDENT", False)
        host = backend.run_loaded(loaded, text)
    with monkeypatch.context() as patch:
        patch.setattr(backend, "DEVICE_RESIDENT", True)
        patch.setattr(backend, "DEVICE_TRANSFER_DTYPE", transfer)
        device = backend.run_loaded(loaded, text)
    assert host.device_attentions is None and isinstance(host.__dict__["attentions"], np.ndarray)
    assert isinstance(device.device_attentions, DeviceAttentions)
    return host, device


def close(a, b, tolerance: float) -> None:
    np.testing.assert_allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), rtol=0, atol=tolerance)


def assert_views_equal(host, device, tolerance: float) -> None:
    """Every read of the attentions a view makes gives the numpy path's numbers."""
    assert (device.n_layers, device.n_heads, device.n_tokens) == (host.n_layers, host.n_heads, host.n_tokens)
    for layer in range(host.n_layers):
        for head in range(host.n_heads):
            close(device.attention(layer, head), host.attention(layer, head), tolerance)
        close(device.attention(layer), host.attention(layer), tolerance)
        close(device.mean_attention(layer), host.mean_attention(layer), tolerance)
        assert device.attention(layer).dtype == np.float32 and not device.attention(layer).flags.writeable
    close(device.attention(-1, -1), host.attention(-1, -1), tolerance)
    np.testing.assert_array_equal(device.hidden_states, host.hidden_states)  # always float32, exact
    np.testing.assert_array_equal(device.value_norms, host.value_norms)
    for layer in range(host.n_layers):  # per-head summaries of the Attention tab
        for a, b in zip(att.special_shares_of_layer(device, layer), att.special_shares_of_layer(host, layer), strict=True):
            close(
                [a.head_weights, a.layer_weights, a.head_norms, a.layer_norms],
                [b.head_weights, b.layer_weights, b.head_norms, b.layer_norms],
                tolerance,
            )
    for layer, head, options in ((0, 0, {}), (2, 3, {"norms": True}), (1, 2, {"hide_special": True, "renormalize": True})):
        a, b = (
            att.attention_view(device, layer, head, query=3, **options),
            att.attention_view(host, layer, head, query=3, **options),
        )
        close(a.weights, b.weights, tolerance)
        scale = 10 if options.get("norms") else 1  # norms are weight x ||f(x)||, below 10 here
        close(a.client.cells, b.client.cells, tolerance * scale)
        assert a.client.stamp == b.client.stamp and a.tokens == b.tokens
        for name in ("head", "row", "mean", "grid"):
            assert len(getattr(a, name)["data"]) == len(getattr(b, name)["data"])
    shares_a, shares_b = heads.shares_of(device), heads.shares_of(host)  # Heads tab: reads the whole array
    for name in heads.SHARES:
        close(shares_a.shares[name], shares_b.shares[name], tolerance)
    close(shares_a.entropy, shares_b.entropy, 10 * tolerance)  # nats: -sum p log p moves by ~log(T) x dp
    close(device.attentions, host.attentions, tolerance)


@pytest.mark.parametrize("transfer", ["float32", "float16"])
def test_every_view_gives_the_numpy_paths_numbers(monkeypatch, wide_model, transfer):
    host, device = both_paths(monkeypatch, wide_model, transfer)
    assert host.storage_dtype == "float32" and device.storage_dtype == transfer
    assert_views_equal(host, device, TOLERANCE[transfer])
    if transfer == "float32":
        np.testing.assert_array_equal(device.attentions, host.attentions)  # float32 over the bus: bit for bit


def test_compact_storage_stays_float16_on_the_device(monkeypatch, wide_model):
    monkeypatch.setattr(backend, "COMPACT_ATTENTION_BYTES", 0)  # as BERT-Large at 512 tokens
    host, device = both_paths(monkeypatch, wide_model, "float32")
    assert str(device.device_attentions.tensor.dtype) == "torch.float16"
    assert host.storage_dtype == device.storage_dtype == "float16" == str(device.attentions.dtype)
    np.testing.assert_array_equal(device.attentions, host.attentions)  # the same float16 values
    for layer in range(host.n_layers):
        np.testing.assert_array_equal(device.attention(layer), host.attention(layer))  # float32 of them
    assert_views_equal(host, device, 1e-3)  # the host path's float16 means round to float16, the device's do not


def test_the_attention_tab_presenter_gives_the_same_arrays(monkeypatch, wide_model):
    """``present.attention.present``, cached path (``backend.run``), numpy then device."""
    results = {}
    for resident in (False, True):
        backend.cache.clear()
        monkeypatch.setattr(backend, "DEVICE_RESIDENT", resident)
        results[resident] = att.present(TEXT, wide_model, layer=1, head=2, query=4, norms=True)
    host, device = results[False], results[True]
    api_host, api_device = host.api(), device.api()
    close(api_device["weights"], api_host["weights"], 1e-3)
    close(api_device["norms"], api_host["norms"], 1e-2)
    close(device.view.weights, host.view.weights, 1e-3)
    close(device.view.client.cells, host.view.client.cells, 1e-2)
    assert api_device["tokens"] == api_host["tokens"] and api_device["layers"] == api_host["layers"]
    for name in ("weights", "norms", "layer_weights", "layer_norms"):
        assert abs(api_device["special_share"][name] - api_host["special_share"][name]) <= 1e-3


def test_analysing_and_drawing_one_view_copies_one_layer(monkeypatch, wide_model):
    monkeypatch.setattr(backend, "DEVICE_RESIDENT", True)
    monkeypatch.setattr(backend, "DEVICE_TRANSFER_DTYPE", "float16")
    analysis = backend.analyze(TEXT, wide_model)
    store = analysis.device_attentions
    assert store.copies == 0 and store.copied_bytes == 0  # building the analysis copies no attention
    att.present(TEXT, wide_model, layer=2, head=1, query=3, norms=True)  # the Attention tab's first view
    n_heads, n_tokens = analysis.n_heads, analysis.n_tokens
    assert store.copies == 1 and store.copied_bytes == n_heads * n_tokens * n_tokens * 2  # one layer, float16
    att.view(backend.cache.keys()[0], layer=2, head=3, query=0)  # another head of that layer: no copy
    assert store.copies == 1
    assert store.copied_bytes * analysis.n_layers == analysis.attentions.nbytes  # the whole array: only now


def test_a_head_alone_copies_one_head_and_the_whole_array_once(monkeypatch, wide_model):
    host, device = both_paths(monkeypatch, wide_model, "float16")
    store, size = device.device_attentions, device.n_tokens**2 * 2
    device.attention(1, 2)
    assert (store.copies, store.copied_bytes) == (1, size)
    device.attention(1, 2)
    device.attention(1)  # the layer: one copy, then its heads come from it
    device.attention(1, 3)
    assert (store.copies, store.copied_bytes) == (2, size + device.n_heads * size)
    whole = device.attentions
    assert whole is device.attentions and not whole.flags.writeable and store.copies == 3
    device.attention(0)
    device.attention(2, 1)
    assert store.copies == 3  # read from the host copy
    assert device.nbytes > host.nbytes  # the cache's budget counts the device tensor and the host copies


def test_cpu_default_is_the_numpy_path(wide_model, monkeypatch):
    monkeypatch.delenv(loading.ZERO_GPU_ENV, raising=False)
    loaded = models.load_model(wide_model)
    if loaded.device == "cpu":
        assert not backend.keeps_on_device(loaded)
        assert backend.analyze(TEXT, wide_model).device_attentions is None
    gpu = types.SimpleNamespace(device="cuda:0")
    assert backend.keeps_on_device(gpu)
    monkeypatch.setenv(loading.ZERO_GPU_ENV, "true")  # the GPU is gone after a ZeroGPU call: copy inside it
    assert not backend.keeps_on_device(gpu)


def test_copies_and_pickles_of_an_analysis(monkeypatch, wide_model):
    host, device = both_paths(monkeypatch, wide_model, "float32")
    assert copy.deepcopy(device).device_attentions is device.device_attentions  # immutable: shared
    again = pickle.loads(pickle.dumps(device))
    np.testing.assert_array_equal(again.attentions, host.attentions)
    assert "DeviceAttentions(shape=(3, 4," in repr(device)
    with pytest.raises(Exception):  # noqa: B017 (dataclasses.FrozenInstanceError)
        device.attentions = host.attentions


def test_gpu_call_wraps_only_on_a_zero_gpu_space(monkeypatch):
    def inference() -> str:
        return "ran"

    monkeypatch.delenv(loading.ZERO_GPU_ENV, raising=False)
    assert loading.gpu_call(inference) is inference
    wrapped = []
    fake = types.ModuleType("spaces")
    fake.GPU = lambda duration=None: lambda function: wrapped.append(duration) or function
    monkeypatch.setitem(sys.modules, "spaces", fake)
    assert loading.gpu_call(inference) is inference and wrapped == []  # not a Space: untouched
    monkeypatch.setenv(loading.ZERO_GPU_ENV, "true")
    assert loading.gpu_call(inference)() == "ran" and wrapped == [loading.GPU_SECONDS]
    monkeypatch.setitem(sys.modules, "spaces", None)  # a ZeroGPU variable without the package: a warning
    assert loading.gpu_call(inference) is inference


@pytest.mark.skipif("not __import__('torch').cuda.is_available()")
@pytest.mark.parametrize("transfer", ["float32", "float16"])
def test_on_cuda_the_weights_stay_on_the_gpu(monkeypatch, wide_model, transfer):
    monkeypatch.setenv(loading.DEVICE_ENV, "cuda")
    monkeypatch.delenv(loading.ZERO_GPU_ENV, raising=False)
    models.unload_all()
    loaded = models.load_model(wide_model)
    assert loaded.device == "cuda"
    with monkeypatch.context() as patch:
        patch.setattr(backend, "DEVICE_RESIDENT", False)
        host = backend.run_loaded(loaded, TEXT)
    monkeypatch.setattr(backend, "DEVICE_TRANSFER_DTYPE", transfer)
    device = backend.run_loaded(loaded, TEXT)  # DEVICE_RESIDENT None: automatic on a GPU
    assert device.device_attentions.device.startswith("cuda") and device.device_attentions.copies == 0
    assert_views_equal(host, device, TOLERANCE[transfer])


def test_the_gpu_benchmark_runs_on_the_cpu(tmp_path, capsys):
    """``benchmarks/gpu.py`` on one tiny shape: the app's path end to end, a json and a table."""
    from benchmarks import gpu

    out = tmp_path / "gpu.json"
    assert gpu.main(["--out", str(out), "--shapes", "tiny", "--tokens", "16", "--repeats", "2"]) == 0
    result = json.loads(out.read_text())
    (row,) = result["results"]
    assert row["shape"] == "tiny" and row["tokens"] == 16
    for name in ("forward_ms", "analyze_ms", "first_view_ms", "analyze_over_forward"):
        assert row[name] > 0
    assert result["torch"] and result["device_name"]
    assert "| tiny |" in capsys.readouterr().out
