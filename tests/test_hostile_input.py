"""Hostile input x every endpoint x every parameter, through gradio_client against the running app.

The endpoints are enumerated from ``explorer.api.ENDPOINTS`` (and must be exactly the named
endpoints the running app lists), their parameters from the functions' signatures: an
endpoint or a text parameter added later is covered without editing this file. Each must
answer every input with one JSON dict, a result or ``{"error": sentence, "error_key": key}``:
never an exception, a traceback, or gradio's generic "Something went wrong". The browser
half (markup is shown, never run) is in test_browser.py.
"""

from __future__ import annotations

import inspect
import json
import typing

import pytest

from explorer import api
from explorer.messages import catalog

gradio_client = pytest.importorskip("gradio_client")

HOSTILE = {
    "empty": "",
    "whitespace": " \n\t\u3000 ",
    "10k characters": "The cat sat on the mat. " * 420,
    "over the model limit": "word " * 2600,
    "very long single word": "supercalifragilistic" * 600,
    "emoji": "I love it 😀😂🔥" * 20,
    "zwj sequences": "👨‍👩‍👧‍👦 👩🏽‍💻 🏳️‍🌈 🇯🇵" * 10,
    "combining marks": "Z̴̡̪͚a̸̘͓l̷̡̖g̶̗̈o̵̧̓ e\u0301\u0301\u0301" * 10,
    "control characters": "bell\x07 escape\x1b[31m red\x1b[0m back\x08space",
    "nul bytes": "abc\x00def\x00\x00ghi",
    "rtl": "مرحبا بالعالم שלום עולם \u202eevil\u202c",
    "mixed japanese english": "自然言語処理 with BERT は楽しい。Tokyo に行きました!",
    "script tag": "<script>alert(1)</script>",
    "closing script": "</script><script>alert(2)</script>",
    "img onerror": '<img src=x onerror="alert(3)">',
    "template braces": "{{7*7}} ${7*7} {% raw %} {0} %s",
    "zero width and bom": "\ufeffhello\u200b\u200bworld\u2060",
    "lone surrogate": "broken \ud800 surrogate",
    "punctuation only": "?!.,;:—…" * 30,
    "markdown link": "**bold** [click](javascript:alert(4)) ![x](http://example.invalid/x.png)",
    "newline flood": "\n" * 5000 + "end",
    "math alphanumerics": "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕥𝕖𝕩𝕥 ℌ𝔢𝔩𝔩𝔬",
}
# Wrong values for the numeric and yes/no parameters: a client can send anything.
WRONG_VALUES = {"none": None, "text": "abc", "huge": 10**12, "negative huge": -(10**12), "fraction": 2.5, "list": [1]}
BAD_SIGNS = ("Traceback", "Something went wrong", "Exception", 'File "', "ComponentProcessingError")
# Values for the parameters the hostile input is not sent to: the heaviest paths, not only the defaults.
BENIGN = {
    "text": "The cat sat on the mat.",
    "question": "When was the Transformer introduced?",
    "context": "The Transformer was introduced in 2017.",
    "text_a": "The cat sat on the mat.",
    "text_b": "mat the on sat cat The.",
    "sentences": "The cat sat on the mat.\nA dog lay on the rug.",
    "layer": 5,
    "head": 11,
    "hide_special": True,
    "renormalize": True,
    "strategy": "first",
    "view": "model",
}


def parameters(endpoint) -> list[tuple[str, object]]:
    """``(name, type)`` of each parameter of an endpoint function, from its signature."""
    hints = typing.get_type_hints(endpoint)
    return [(name, hints.get(name)) for name in inspect.signature(endpoint).parameters]


def text_parameters(endpoint) -> list[str]:
    return [name for name, kind in parameters(endpoint) if kind is str]


def other_parameters(endpoint) -> list[str]:
    return [name for name, kind in parameters(endpoint) if kind is not str]


def base_arguments(endpoint) -> dict[str, object]:
    """A valid call: ``BENIGN`` where it names the parameter, else the signature's default."""
    arguments = {}
    for name, parameter in inspect.signature(endpoint).parameters.items():
        if name in BENIGN:
            arguments[name] = BENIGN[name]
        elif parameter.default is not inspect.Parameter.empty:
            arguments[name] = parameter.default
        else:
            raise AssertionError(f"{endpoint.__name__}({name}) has no default: add a benign value to BENIGN")
    return arguments


@pytest.fixture(scope="module")
def client(app_url):
    return gradio_client.Client(app_url, verbose=False)


def rest_call(app_url: str, api_name: str, args: list) -> object:
    """gradio's REST API with ASCII-escaped JSON: a browser can send a lone surrogate as "\\ud800",
    which httpx (under gradio_client) refuses to encode."""
    import urllib.request

    request = urllib.request.Request(
        f"{app_url}gradio_api/call{api_name}",
        data=json.dumps({"data": list(args)}, ensure_ascii=True).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        event_id = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{app_url}gradio_api/call{api_name}/{event_id}", timeout=120) as response:
        body = response.read().decode()
    assert "event: complete" in body, body[:500]
    data = json.loads(body.split("event: complete", 1)[1].split("data:", 1)[1].strip().splitlines()[0])
    return data[0]


def check_answer(result: object, where: str) -> None:
    """One dict: a result, or an error with a sentence and a catalog key; no traceback anywhere."""
    assert isinstance(result, dict), (where, result)
    shown = {k: v for k, v in result.items() if k != "html"}  # html: bertviz's own d3 code
    dumped = json.dumps(shown, ensure_ascii=False, default=str)
    assert not any(sign in dumped for sign in BAD_SIGNS), (where, dumped[:500])
    if "error" in result:
        assert set(result) == {"error", "error_key"}, (where, result)
        assert result["error_key"] in catalog("en"), (where, result)
        sentence = result["error"]
        assert isinstance(sentence, str) and len(sentence.split()) >= 3, (where, sentence)  # a sentence, not a code
        assert result["error_key"] != "error.unexpected", (where, sentence)  # every input has a specific answer
    else:
        assert isinstance(result.get("notes", []), list) and isinstance(result.get("warnings", []), list), (where, result)


def test_the_suite_covers_exactly_the_endpoints_the_app_lists(client):
    named = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(named) == {f"/{endpoint.__name__}" for endpoint in api.ENDPOINTS}
    # Every endpoint with input takes text somewhere: that is what this suite attacks.
    assert all(text_parameters(endpoint) for endpoint in api.ENDPOINTS if parameters(endpoint))


@pytest.mark.parametrize("name", list(HOSTILE))
def test_every_text_parameter_of_every_endpoint_answers_hostile_input(client, app_url, name):
    text = HOSTILE[name]
    checked = 0
    for endpoint in api.ENDPOINTS:
        api_name = f"/{endpoint.__name__}"
        for parameter in text_parameters(endpoint):
            arguments = {**base_arguments(endpoint), parameter: text}
            if name == "lone surrogate":
                result = rest_call(app_url, api_name, list(arguments.values()))
            else:
                result = client.predict(*arguments.values(), api_name=api_name)  # raises if the app errored
            where = f"{endpoint.__name__}({parameter}={name})"
            check_answer(result, where)
            required = inspect.signature(endpoint).parameters[parameter].default is inspect.Parameter.empty
            if required and not text.strip():  # the text to analyse is missing: say so
                assert result.get("error_key") == "input.empty", (where, result)
            checked += 1
    assert checked == sum(len(text_parameters(endpoint)) for endpoint in api.ENDPOINTS) > 0


@pytest.mark.parametrize("name", list(WRONG_VALUES))
def test_every_number_and_switch_parameter_answers_wrong_values(client, name):
    value = WRONG_VALUES[name]
    for endpoint in api.ENDPOINTS:
        for parameter in other_parameters(endpoint):
            arguments = {**base_arguments(endpoint), parameter: value}
            result = client.predict(*arguments.values(), api_name=f"/{endpoint.__name__}")
            check_answer(result, f"{endpoint.__name__}({parameter}={name})")


def test_over_the_limit_input_is_truncated_and_said_so(client):
    result = client.predict(HOSTILE["over the model limit"], "all-MiniLM-L6-v2", 0, 0, api_name="/attention")
    assert any("only the first 512 tokens" in note for note in result["notes"])
    assert len(result["tokens"]) == 512


def test_control_characters_are_removed_and_reported(client):
    result = client.predict(HOSTILE["nul bytes"], "all-MiniLM-L6-v2", api_name="/tokenize")
    assert "\x00" not in json.dumps(result["tokens"]) and "\\u0000" not in json.dumps(result["tokens"])
    assert any("control character" in note.lower() for note in result["notes"])
