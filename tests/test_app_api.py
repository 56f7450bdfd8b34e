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
