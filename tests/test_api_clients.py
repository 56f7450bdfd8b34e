"""The public API as its three kinds of users reach it: gradio_client (Python), @gradio/client (JavaScript,
under node) and an MCP client, all over loopback.

The contract is ``explorer.api.ENDPOINTS``: one typed function per public endpoint, registered with
``gr.api`` under its ``__name__``; each returns one JSON object, and on bad input
``{"error": <English sentence>, "error_key": <catalog key>}`` instead of raising. Nothing else may be
public, and no call, however wrong, may leave a traceback in the server's log.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import typing
from pathlib import Path

import pytest

pytestmark = pytest.mark.api

gradio_client = pytest.importorskip("gradio_client")

if importlib.util.find_spec("explorer.api") is None:
    pytest.skip("explorer/api.py (the typed public endpoints) does not exist yet", allow_module_level=True)
api = importlib.import_module("explorer.api")  # present but broken must fail, not skip

ROOT = Path(__file__).resolve().parent.parent
CALL_ENDPOINT_JS = ROOT / "tests" / "js" / "call_endpoint.mjs"
ENDPOINTS = {fn.__name__: fn for fn in api.ENDPOINTS}

# Small inputs for every required parameter of the contract (the chapter's QA example among them).
SAMPLES = {
    "text": "The cat sat on the mat.",
    "question": "When was the Transformer introduced?",
    "context": "The Transformer was introduced by Vaswani et al. in 2017.",
    "text_a": "The animal didn't cross the street because it was too tired.",
    "text_b": "The animal didn't cross the street because it was too wide.",
    "sentences": "I sat on the bank of the river.\nI deposited money at the bank.",
}
# A value of the wrong JSON type for each parameter type of the contract.
WRONG_TYPED = {str: 123, int: "abc", float: "abc", bool: "abc"}
SERVER_TROUBLE = ("Traceback", "ComponentProcessingError")


# An endpoint whose valid input differs from the shared sample (fill-mask needs a [MASK]).
SAMPLES_FOR = {"fill_mask": {"text": "The capital of France is [MASK]."}}


def required_args(fn) -> dict:
    names = [p.name for p in inspect.signature(fn).parameters.values() if p.default is inspect.Parameter.empty]
    samples = {**SAMPLES, **SAMPLES_FOR.get(fn.__name__, {})}
    unknown = [name for name in names if name not in samples]
    assert not unknown, f"{fn.__name__} has required parameters {unknown}: add a sample value to SAMPLES"
    return {name: samples[name] for name in names}


def wrong_value(annotation):
    if typing.get_origin(annotation) is typing.Literal:
        return 123
    return WRONG_TYPED.get(annotation)


def wrong_typed_cases() -> list:
    cases = []
    for name, fn in ENDPOINTS.items():
        for param, annotation in typing.get_type_hints(fn).items():
            if param != "return" and (value := wrong_value(annotation)) is not None:
                cases.append(pytest.param(name, {**required_args(fn), param: value}, id=f"{name}-{param}"))
    return cases


def bad_input_cases() -> list:
    """Empty text, unknown model, out-of-range layer and head: the function must answer with an error dict."""
    bad = {"text": "", "question": "   ", "context": "", "model": "no-such-model", "layer": 99, "head": 99}
    cases = []
    for name, fn in ENDPOINTS.items():
        for param in inspect.signature(fn).parameters:
            if param in bad:
                cases.append(pytest.param(name, {**required_args(fn), param: bad[param]}, id=f"{name}-{param}"))
    return cases


def missing_arg_cases() -> list:
    return [
        pytest.param(name, {k: v for k, v in required_args(fn).items() if k != param}, param, id=f"{name}-{param}")
        for name, fn in ENDPOINTS.items()
        for param in required_args(fn)
    ]


def assert_ok(result, endpoint: str) -> None:
    assert isinstance(result, dict), f"/{endpoint} returned {type(result).__name__}, not a JSON object"
    assert "error" not in result, f"/{endpoint} refused a valid call: {result}"


def assert_error_dict(result, endpoint: str) -> None:
    assert isinstance(result, dict) and "error" in result, f"/{endpoint} accepted bad input: {str(result)[:300]}"
    assert isinstance(result["error"], str) and result["error"].strip(), result
    assert not any(word in result["error"] for word in SERVER_TROUBLE), result["error"]
    assert isinstance(result.get("error_key"), str) and result["error_key"], f"no error_key in {result}"
    try:
        from explorer.messages import catalog
    except ImportError:
        return
    assert result["error_key"] in catalog("en"), f"error_key {result['error_key']!r} is not in the message catalog"


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def server_log(capfd):
    """Fail the test if the in-process server logged an error or printed a traceback meanwhile.

    Gradio prints handler tracebacks with ``traceback.print_exc()`` (stderr, hence capfd); uvicorn's
    loggers do not propagate, so the handler sits on each of them as well as on the root logger.
    """
    handler = _Records()
    loggers = [logging.getLogger(name) for name in ("", "gradio", "uvicorn", "uvicorn.error", "uvicorn.access", "explorer")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)
    out, err = capfd.readouterr()
    sys.stdout.write(out)
    sys.stderr.write(err)
    printed = out + err
    assert not any(word in printed for word in SERVER_TROUBLE), f"the server printed a traceback:\n{printed[-3000:]}"
    bad = [r for r in handler.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, "the server logged errors:\n" + "\n".join(handler.format(r) for r in bad)


@pytest.fixture(scope="module")
def client(app_url):
    return gradio_client.Client(app_url, verbose=False)


@pytest.fixture(scope="module")
def api_info(client) -> dict:
    return client.view_api(print_info=False, return_format="dict")


# ---------------------------------------------------------------------------------------------------------
# What every client sees: /gradio_api/info


def test_the_public_endpoints_are_exactly_the_api_functions(api_info):
    assert set(api_info["named_endpoints"]) == {"/" + name for name in ENDPOINTS}
    assert not api_info["unnamed_endpoints"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_parameters_and_defaults_are_the_functions(api_info, endpoint):
    """Names in order, and the defaults the clients fill in (the JS client reads them from here too)."""
    parameters = api_info["named_endpoints"][f"/{endpoint}"]["parameters"]
    signature = inspect.signature(ENDPOINTS[endpoint]).parameters.values()
    assert [p["parameter_name"] for p in parameters] == [p.name for p in signature]
    for advertised, param in zip(parameters, signature, strict=True):
        has_default = param.default is not inspect.Parameter.empty
        assert advertised["parameter_has_default"] == has_default, param.name
        if has_default:
            assert advertised["parameter_default"] == param.default, param.name


# ---------------------------------------------------------------------------------------------------------
# Python: gradio_client


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_python_client_with_only_the_required_arguments(client, endpoint):
    assert_ok(client.predict(**required_args(ENDPOINTS[endpoint]), api_name=f"/{endpoint}"), endpoint)


@pytest.mark.parametrize(("endpoint", "args", "missing"), missing_arg_cases())
def test_python_client_names_a_missing_argument(client, endpoint, args, missing):
    with pytest.raises(TypeError, match=f"No value provided for required argument: {missing}"):
        client.predict(**args, api_name=f"/{endpoint}")


@pytest.mark.parametrize(("endpoint", "args"), wrong_typed_cases())
def test_python_client_wrong_type_gets_an_error_dict(client, endpoint, args):
    assert_error_dict(client.predict(**args, api_name=f"/{endpoint}"), endpoint)


@pytest.mark.parametrize(("endpoint", "args"), bad_input_cases())
def test_python_client_bad_input_gets_an_error_dict(client, endpoint, args):
    assert_error_dict(client.predict(**args, api_name=f"/{endpoint}"), endpoint)


# ---------------------------------------------------------------------------------------------------------
# JavaScript: the official @gradio/client, vendored in tests/js/vendor, run under node


def _node_major() -> int | None:
    node = shutil.which("node")
    if node is None:
        return None
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout
    return int(version.strip().lstrip("v").split(".")[0])


NODE_MAJOR = _node_major()
needs_node = pytest.mark.skipif(
    NODE_MAJOR is None or NODE_MAJOR < 18, reason="node 18 or newer is needed to run @gradio/client (apt-get install nodejs)"
)


def call_js(app_url: str, endpoint: str, args: dict) -> dict:
    """{"ok": true, "data": [...]} or {"ok": false, "error": "..."} from tests/js/call_endpoint.mjs."""
    process = subprocess.run(
        ["node", str(CALL_ENDPOINT_JS), app_url, f"/{endpoint}", json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"},
    )
    lines = process.stdout.strip().splitlines()
    assert lines, f"node printed nothing (rc={process.returncode}):\n{process.stderr[-2000:]}"
    return json.loads(lines[-1])


@needs_node
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_js_client_with_only_the_required_arguments(app_url, endpoint):
    """The JS client sends the defaults that /info advertises: a call with the required arguments works."""
    reply = call_js(app_url, endpoint, required_args(ENDPOINTS[endpoint]))
    assert reply["ok"], reply
    assert len(reply["data"]) == 1, "one endpoint, one JSON object"
    assert_ok(reply["data"][0], endpoint)


@needs_node
@pytest.mark.parametrize(("endpoint", "args", "missing"), missing_arg_cases())
def test_js_client_names_a_missing_argument(app_url, endpoint, args, missing):
    reply = call_js(app_url, endpoint, args)
    assert not reply["ok"] and f"No value provided for required parameter: {missing}" in reply["error"], reply


@needs_node
@pytest.mark.parametrize(
    ("endpoint", "args"),
    [
        pytest.param("tokenize", {"text": 123}, id="tokenize-text"),
        pytest.param("attention", {"text": SAMPLES["text"], "layer": "abc"}, id="attention-layer"),
    ],
)
def test_js_client_wrong_type_gets_an_error_dict(app_url, endpoint, args):
    reply = call_js(app_url, endpoint, args)
    assert reply["ok"], reply
    assert_error_dict(reply["data"][0], endpoint)


# ---------------------------------------------------------------------------------------------------------
# MCP: `python app.py --mcp`, reached with the `mcp` Python client over streamable HTTP


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def mcp_app(tmp_path_factory):
    """``python app.py --mcp`` on a free loopback port: (base url, path of its log)."""
    pytest.importorskip("mcp", reason="the MCP client is not installed (pip install -r requirements-mcp.txt)")
    import httpx

    if "launch_options" not in (ROOT / "app.py").read_text(encoding="utf-8"):
        pytest.xfail("app.py does not pass explorer.serve.launch_options(sys.argv[1:], os.environ) to launch() yet")
    port = _free_port()
    log_path = tmp_path_factory.mktemp("mcp-app") / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADIO_", "EXPLORER_", "SPACE_"))}
    env.update(
        GRADIO_SERVER_NAME="127.0.0.1",
        GRADIO_SERVER_PORT=str(port),
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    env.pop("SYSTEM", None)  # on Spaces, tool names get the Space's name as a prefix
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "app.py", "--mcp"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        with httpx.Client(trust_env=False, timeout=5) as http:
            while True:
                try:
                    config = http.get(f"{url}/config").json()
                    break
                except (httpx.HTTPError, ValueError):
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(log_path.read_text(errors="replace")[-3000:]) from None
                    time.sleep(0.3)
        assert config.get("mcp_server"), "started with --mcp but gradio has no MCP server:\n" + log_path.read_text()[-3000:]
        yield url, log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


async def _mcp_session_run(url: str, work):
    import httpx
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with httpx.AsyncClient(trust_env=False, timeout=httpx.Timeout(120, read=300)) as http:
        async with streamable_http_client(f"{url}/gradio_api/mcp/", http_client=http) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await work(session)


def test_mcp_lists_every_endpoint_as_a_tool_and_runs_tokenize(mcp_app):
    import anyio

    url, log_path = mcp_app

    async def work(session):
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        tokenized = await session.call_tool("tokenize", {"text": SAMPLES["text"]})
        missing = await session.call_tool("tokenize", {})
        wrong = await session.call_tool("attention", {"text": SAMPLES["text"], "layer": "abc"})
        return tools, tokenized, missing, wrong

    tools, tokenized, missing, wrong = anyio.run(_mcp_session_run, url, work)

    assert set(tools) == set(ENDPOINTS)
    for name, fn in ENDPOINTS.items():
        schema = tools[name].inputSchema
        assert list(schema["properties"]) == list(inspect.signature(fn).parameters), name
        assert sorted(schema.get("required", [])) == sorted(required_args(fn)), name

    assert not tokenized.isError, tokenized.content
    text = " ".join(getattr(part, "text", "") for part in tokenized.content)
    for token in ("[CLS]", "cat", "sat", "mat", "[SEP]"):
        assert token in text, f"{token!r} not in the tokenize tool's answer: {text[:500]}"

    # MCP checks the arguments against each tool's JSON schema before gradio sees them.
    assert missing.isError and "text" in missing.content[0].text, missing.content
    assert wrong.isError and "abc" in wrong.content[0].text, wrong.content

    log = log_path.read_text(errors="replace")
    assert not any(word in log for word in SERVER_TROUBLE), log[-3000:]
