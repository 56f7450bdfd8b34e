"""The public API, driven the way users drive it: gradio_client against the running app.

Every endpoint is a function of ``explorer.api`` registered with ``gr.api``: one JSON dict
per call, or ``{"error", "error_key"}``. The page's own events are private; what they send
to the browser is checked through gradio's queue (``tests/page_events.py``).
"""

import inspect
import json

import numpy as np
import pytest

from explorer import api

from .page_events import page_event

gradio_client = pytest.importorskip("gradio_client")

MODEL = "all-MiniLM-L6-v2"
TEXT = "The cat sat on the mat."


@pytest.fixture(scope="module")
def client(app_url):
    return gradio_client.Client(app_url, verbose=False)


def test_api_lists_every_endpoint_with_the_parameter_names_of_its_function(client):
    named = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(named) == {f"/{endpoint.__name__}" for endpoint in api.ENDPOINTS}
    for endpoint in api.ENDPOINTS:
        listed = [parameter["parameter_name"] for parameter in named[f"/{endpoint.__name__}"]["parameters"]]
        assert listed == list(inspect.signature(endpoint).parameters), endpoint.__name__


def test_tokenize_endpoint(client):
    result = client.predict("Hello, how are you?", MODEL, api_name="/tokenize")
    assert [row["token"] for row in result["tokens"]] == ["[CLS]", "hello", ",", "how", "are", "you", "?", "[SEP]"]
    assert [row["id"] for row in result["tokens"]] == [101, 7592, 1010, 2129, 2024, 2017, 1029, 102]  # the chapter's ids
    assert [row["attention_mask"] for row in result["tokens"]] == [1] * 8
    assert result["model"] == MODEL and "8 tokens" in result["notes"][0]
    assert result["morphemes"][0]["surface"] == "Hello"


def test_attention_endpoint_returns_the_chosen_head_exactly_as_analysed(client):
    from explorer import backend

    result = client.predict(TEXT, MODEL, 2, 5, 0, False, False, api_name="/attention")
    assert "6 layers × 12 heads, 9 tokens" in result["notes"][0]
    assert (result["layer"], result["head"], result["layers"], result["heads"]) == (2, 5, 6, 12)
    assert result["tokens"][0] == "[CLS]" and result["tokens"][-1] == "[SEP]" and len(result["tokens"]) == 9
    weights = np.array(result["weights"])
    assert weights.shape == (9, 9) and abs(weights.sum(axis=1) - 1).max() < 1e-3  # softmax rows (4 decimals)
    analysed = backend.analyze(TEXT, MODEL).attention(2, 5)  # the app runs in this process: the same cache
    assert abs(weights - analysed).max() <= 5e-5


def test_attention_endpoint_counts_negative_indices_from_the_end_and_refuses_the_rest(client):
    last = client.predict(TEXT, MODEL, -1, -1, api_name="/attention")
    assert (last["layer"], last["head"]) == (5, 11)
    refused = client.predict(TEXT, MODEL, 6, 0, api_name="/attention")
    assert refused["error_key"] == "index.out_of_range" and "valid values are 0 to 5" in refused["error"]


def test_the_page_receives_plots_as_typed_arrays_not_decimal_text(app_url):
    from explorer import views

    outputs = page_event(app_url, "analyze", [TEXT, MODEL, 2, 5, False, False, "weights"])
    head_plot = json.loads(outputs[1]["plot"])
    trace = head_plot["data"][0]
    weights = views.decode_array(trace["z"])
    assert trace["z"]["dtype"] == "f4" and weights.shape == (9, 9)
    assert abs(weights.sum(axis=1) - 1).max() < 1e-4  # softmax rows, exactly as analysed
    assert head_plot["layout"]["title"]["text"] == "Layer 2, head 5"


@pytest.mark.parametrize("view", ["head", "model"])
def test_bertviz_endpoint(client, view):
    result = client.predict(TEXT, MODEL, 3, view, api_name="/bertviz")
    assert result["html"].startswith("<iframe") and "srcdoc=" in result["html"]
    assert result["tokens"] == 9 and 3 in result["layers"]
    assert result["layers"] == ([3] if view == "head" else list(range(6)))


def test_bertviz_endpoint_explains_bad_requests(client):
    empty = client.predict("", MODEL, 0, "head", api_name="/bertviz")
    assert empty["error_key"] == "input.empty" and "enter some text" in empty["error"]
    unknown = client.predict("hi", MODEL, 0, "neuron", api_name="/bertviz")
    assert unknown["error_key"] == "bertviz.unknown_view" and "Unknown bertviz view 'neuron'" in unknown["error"]


def test_health_endpoint_runs_no_model(client):
    import explorer

    before = explorer.forward_count()
    result = client.predict(api_name="/health")
    assert result["status"] == "ok" and MODEL in result["models_loaded"]  # earlier tests loaded it
    assert explorer.forward_count() == before


def test_the_queue_polls_every_10_ms():
    import app

    demo = app.with_queue(app.build_demo())
    assert demo._queue.sleep_when_free == app.QUEUE_POLL_SECONDS  # gradio still has the knob we turn


def test_positional_encoding_endpoint(client):
    result = client.predict(64, 50, "0, 1, 999", MODEL, api_name="/positional_encoding")
    assert any("999" in note for note in result["notes"])  # the ignored dimension is explained
    assert (result["d_model"], result["max_len"], result["dims"]) == (64, 50, [0, 1])
    first = np.array(result["sinusoid_first_positions"])
    assert first.shape == (4, 64) and first[0, 0] == 0.0 and first[0, 1] == 1.0  # sin(0), cos(0)


@pytest.mark.parametrize("text", ["", "   ", "\x00\x00", None])
def test_empty_input_gives_a_message_not_an_error(client, text):
    result = client.predict(text, MODEL, api_name="/tokenize")
    assert result["error_key"] == "input.empty" and "enter some text" in result["error"]


def test_unknown_model_is_refused_with_the_list_of_choices(client):
    from explorer.models import REGISTRY, loaded_model_names

    known = set(REGISTRY)
    result = client.predict("x", "no-such-model", api_name="/tokenize")
    assert result["error_key"] == "model.unknown"
    assert result["error"].startswith("Unknown model 'no-such-model'. Choose one of: ")
    assert MODEL in result["error"] and "minilm-qa" in result["error"]
    assert set(REGISTRY) == known and "no-such-model" not in loaded_model_names()  # nothing was added or loaded


def test_markup_comes_back_as_token_text(client):
    text = "<img src=x onerror=alert(1)>"
    result = client.predict(text, MODEL, api_name="/tokenize")
    tokens = result["tokens"]
    assert [row["token"] for row in tokens][1:4] == ["<", "im", "##g"]
    assert all(row["covers"] == text[row["start"] : row["end"]] for row in tokens if row["start"] is not None)
    assert "".join(row["covers"] for row in tokens).replace(" ", "") == text.replace(" ", "")


def test_status_messages_escape_html():
    from explorer.messages import Msg
    from explorer.present.common import Result
    from explorer.ui.common import status

    answer = Msg("qa.summary", model="m", answer="<img src=x onerror=alert(1)>", score="1", start=0, end=1)
    rendered = status(Result(lines=(answer,)), error=Msg("model.unknown", model="<script>alert(1)</script>", known="m"))
    assert "<script>" not in rendered and "<img" not in rendered
    assert "&lt;script&gt;" in rendered and "&lt;img" in rendered


@pytest.mark.parametrize(
    "api_name, args, key",
    [
        ("/sentiment", (TEXT, MODEL), "sent.not_classifier"),
        ("/ner", (TEXT, MODEL), "ner.not_tagger"),
        ("/qa", ("Who sat?", TEXT, MODEL), "qa.not_qa_model"),
    ],
)
def test_a_model_without_the_tasks_head_gets_a_sentence(client, api_name, args, key):
    result = client.predict(*args, api_name=api_name)
    assert result["error_key"] == key and f"Model '{MODEL}' is not a" in result["error"]
