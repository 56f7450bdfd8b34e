"""The repository is a Hugging Face Space as it is: front matter, pins, and a start with Spaces' env."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import gradio
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def front_matter() -> dict:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    assert match, "README.md must start with the Spaces YAML front matter"
    return yaml.safe_load(match.group(1))


def test_front_matter_matches_the_pinned_gradio():
    meta = front_matter()
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py" and (ROOT / meta["app_file"]).exists()
    pinned = re.search(r"^gradio==(\S+)", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert meta["sdk_version"] == pinned == gradio.__version__
    assert str(meta["python_version"]) == "3.11"


@pytest.fixture(scope="module")
def spaces_app():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADIO_", "EXPLORER_"))}
    env.update(SYSTEM="spaces", GRADIO_SERVER_NAME="0.0.0.0", GRADIO_SERVER_PORT=str(port), SPACE_ID="someone/attention-explorer")
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(process.stdout.read().decode(errors="replace")[-3000:]) from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_app_starts_with_the_spaces_environment(spaces_app):
    from gradio_client import Client

    client = Client(spaces_app, verbose=False)
    assert client.predict(api_name="/health")["status"] == "ok"
    result = client.predict("The cat sat on the mat.", "all-MiniLM-L6-v2", 0, 0, api_name="/attention")
    assert "9 tokens" in result["notes"][0] and len(result["tokens"]) == 9


def test_a_space_cannot_be_made_to_download_any_model(spaces_app):
    import json

    from gradio_client import Client

    client = Client(spaces_app, verbose=False)
    for api_name in ("/tokenize", "/attention", "/bertviz"):  # the registry is the allowlist
        result = client.predict("hello", "someone/huge-model", api_name=api_name)
        assert result["error_key"] == "model.unknown" and "Unknown model 'someone/huge-model'" in result["error"], api_name
    assert "someone/huge-model" not in client.predict(api_name="/health")["models_loaded"]
    with urllib.request.urlopen(f"{spaces_app}config", timeout=30) as response:  # and the page's menus take no typed id
        components = json.loads(response.read())["components"]
    menus = [c for c in components if "model-menu" in (c.get("props", {}).get("elem_classes") or [])]
    assert menus and not any(menu["props"].get("allow_custom_value") for menu in menus)
