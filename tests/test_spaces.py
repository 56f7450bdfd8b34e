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
    message = client.predict("The cat sat on the mat.", "all-MiniLM-L6-v2", 0, 0, False, False, api_name="/attention")[0]
    assert "9 tokens" in message


def test_a_space_cannot_be_made_to_download_any_model(spaces_app):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(spaces_app, verbose=False)
    with pytest.raises(AppError, match="not in the list of choices"):  # the menu is the allowlist
        client.predict("hello", "someone/huge-model", api_name="/tokenize")
