"""The Gradio API, driven the way users drive it: gradio_client against the running app."""

import pytest

gradio_client = pytest.importorskip("gradio_client")


@pytest.fixture(scope="module")
def client(app_url):
    return gradio_client.Client(app_url, verbose=False)


def test_api_lists_the_three_named_endpoints(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/tokenize", "/attention", "/positional_encoding"} <= names


def test_tokenize_endpoint(client):
    message, highlighted, table, _, morphemes, subwords = client.predict(
        "Hello, how are you?", "all-MiniLM-L6-v2", api_name="/tokenize"
    )
    tokens = [row[1] for row in table["data"]]
    assert tokens == ["[CLS]", "hello", ",", "how", "are", "you", "?", "[SEP]"]
    assert [row[2] for row in table["data"]] == [101, 7592, 1010, 2129, 2024, 2017, 1029, 102]  # the chapter's ids
    assert "8 tokens" in message
    assert morphemes["data"][0][0] == "Hello"


def test_attention_endpoint_returns_plots_for_the_chosen_layer_and_head(client):
    result = client.predict("The cat sat on the mat.", "all-MiniLM-L6-v2", 2, 5, False, False, api_name="/attention")
    message, head_plot = result[0], result[1]
    assert "6 layers × 12 heads, 9 tokens" in message
    assert "Layer 2, head 5" in head_plot["plot"]


def test_attention_endpoint_sends_typed_arrays_not_decimal_text(client):
    import json

    from explorer import views

    head_plot = client.predict("The cat sat on the mat.", "all-MiniLM-L6-v2", 2, 5, False, False, api_name="/attention")[1]
    trace = json.loads(head_plot["plot"])["data"][0]
    weights = views.decode_array(trace["z"])
    assert trace["z"]["dtype"] == "f4" and weights.shape == (9, 9)
    assert abs(weights.sum(axis=1) - 1).max() < 1e-4  # softmax rows, exactly as analysed


@pytest.mark.parametrize("view", ["head", "model"])
def test_bertviz_endpoint(client, view):
    result = client.predict("The cat sat on the mat.", "all-MiniLM-L6-v2", 3, view, api_name="/bertviz")
    assert result["html"].startswith("<iframe") and "srcdoc=" in result["html"]
    assert result["tokens"] == 9 and 3 in result["layers"]
    assert result["layers"] == ([3] if view == "head" else list(range(6)))


def test_bertviz_endpoint_explains_bad_requests(client):
    assert "enter some text" in client.predict("", "all-MiniLM-L6-v2", 0, "head", api_name="/bertviz")["error"]
    assert "unknown bertviz view" in client.predict("hi", "all-MiniLM-L6-v2", 0, "neuron", api_name="/bertviz")["error"]


def test_health_endpoint_runs_no_model(client):
    import explorer

    before = explorer.forward_count()
    assert client.predict(api_name="/health")["status"] == "ok"
    assert explorer.forward_count() == before


def test_the_queue_polls_every_10_ms():
    import app

    demo = app.with_queue(app.build_demo())
    assert demo._queue.sleep_when_free == app.QUEUE_POLL_SECONDS  # gradio still has the knob we turn


def test_positional_encoding_endpoint(client):
    result = client.predict(64, 50, "0, 1, 999", "all-MiniLM-L6-v2", api_name="/positional_encoding")
    assert "999" in result[0]  # the ignored dimension is explained
    assert "d_model=64" in result[1]["plot"]


@pytest.mark.parametrize("text", ["", "   ", "\x00\x00", None])
def test_empty_input_gives_a_message_not_an_error(client, text):
    message = client.predict(text, "all-MiniLM-L6-v2", api_name="/tokenize")[0]
    assert "enter some text" in message


def test_unknown_model_is_refused_with_the_list_of_choices(client):
    with pytest.raises(gradio_client.exceptions.AppError, match="not in the list of choices"):
        client.predict("x", "no-such-model", api_name="/tokenize")


def test_markup_comes_back_as_token_text(client):
    _, highlighted, table, *_ = client.predict("<img src=x onerror=alert(1)>", "all-MiniLM-L6-v2", api_name="/tokenize")
    assert [row[1] for row in table["data"]][1:4] == ["<", "im", "##g"]
    assert "".join(piece["token"] for piece in highlighted) == "<img src=x onerror=alert(1)>"


def test_status_messages_escape_html():
    from explorer.ui.common import status

    rendered = status(["<img src=x onerror=alert(1)>"], error="<script>alert(1)</script>")
    assert "<script>" not in rendered and "<img" not in rendered
    assert "&lt;script&gt;" in rendered
