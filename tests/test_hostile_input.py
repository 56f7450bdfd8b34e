"""Hostile input x every endpoint, through gradio_client against the running app.

Each endpoint must answer every input with a result or a clear message: never an
exception, a traceback, or gradio's generic "Something went wrong". The browser half
(markup is shown, never run) is in test_browser.py.
"""

from __future__ import annotations

import json

import pytest

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
BAD_SIGNS = ("Traceback", "Something went wrong", "Exception", 'File "')
MODEL = "all-MiniLM-L6-v2"


@pytest.fixture(scope="module")
def client(app_url):
    return gradio_client.Client(app_url, verbose=False)


def calls(text: str) -> dict:
    """Every endpoint, with the hostile text in each free-text input."""
    return {
        "tokenize": ((text, MODEL), "/tokenize"),
        "attention": ((text, MODEL, 5, 11, True, True), "/attention"),
        "positional_encoding": ((64, 50, text, MODEL), "/positional_encoding"),
        "sentiment": ((text, "minilm-sentiment", 5, 11), "/sentiment"),
        "ner": ((text, "minilm-ner", "first", 5, 11), "/ner"),
        "qa question": ((text, "The Transformer was introduced in 2017.", "minilm-qa", 5, 11), "/qa"),
        "qa context": (("When was it introduced?", text, "minilm-qa", 5, 11), "/qa"),
        "bertviz": ((text, MODEL, 5, "model"), "/bertviz"),
    }


def message_of(result) -> str:
    """The status line: first output of the UI endpoints, ``error``/``notes`` of the bertviz one."""
    if isinstance(result, dict):
        return result.get("error") or " ".join(result.get("notes", [])) or "ok"
    return result[0]


def rest_call(app_url: str, api_name: str, args) -> object:
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
    return data[0] if api_name == "/bertviz" else data


@pytest.mark.parametrize("name", list(HOSTILE))
def test_every_endpoint_answers_hostile_input(client, app_url, name):
    text = HOSTILE[name]
    for endpoint, (args, api_name) in calls(text).items():
        if name == "lone surrogate":
            result = rest_call(app_url, api_name, args)
        else:
            result = client.predict(*args, api_name=api_name)  # raises if the app errored
        message = message_of(result)
        shown = {k: v for k, v in result.items() if k != "html"} if isinstance(result, dict) else result  # html: d3's own code
        dumped = json.dumps(shown, ensure_ascii=False, default=str)
        assert not any(sign in dumped for sign in BAD_SIGNS), (endpoint, message)
        if not text.strip() and endpoint not in ("positional_encoding", "qa context"):
            assert "enter some text" in message or "enter a question" in message.lower(), (endpoint, message)
        if "<" in text and isinstance(result, (list, tuple)):
            assert "<script>" not in message and "<img" not in message, (endpoint, message)  # escaped in messages


def test_over_the_limit_input_is_truncated_and_said_so(client):
    message = client.predict(HOSTILE["over the model limit"], MODEL, 0, 0, False, False, api_name="/attention")[0]
    assert "only the first 512 tokens" in message


def test_control_characters_are_removed_and_reported(client):
    message, _, table, *_ = client.predict(HOSTILE["nul bytes"], MODEL, api_name="/tokenize")
    assert "\x00" not in json.dumps(table)
    assert "control character" in message.lower()
