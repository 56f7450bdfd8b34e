"""Call a page event (a private UI handler) over HTTP the way the browser does: gradio's queue.

The public API (``explorer/api.py``) answers in English; the page's own events answer in the
language of the ``explorer_lang`` cookie. gradio_client refuses private events, so the tests
that check what the page receives join the queue themselves: POST ``queue/join`` with the
event's ``fn_index``, then read the server-sent events of ``queue/data`` until the result.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from functools import cache


@cache
def _config(app_url: str) -> dict:
    with urllib.request.urlopen(f"{app_url}config", timeout=60) as response:
        return json.loads(response.read())


def event_index(app_url: str, name: str) -> int:
    """The ``fn_index`` of the page event whose handler is called ``name`` (its first registration)."""
    for index, dependency in enumerate(_config(app_url)["dependencies"]):
        if dependency.get("api_name") == name:
            return index
    raise KeyError(f"no page event {name!r}")


def page_event(app_url: str, name: str, data: list, language: str | None = None, timeout: float = 120) -> list:
    """The outputs of the page event ``name`` for the inputs ``data``, as the browser gets them."""
    headers = {"Content-Type": "application/json"}
    if language:
        headers["Cookie"] = f"explorer_lang={language}"
    session = uuid.uuid4().hex
    body = {"data": data, "fn_index": event_index(app_url, name), "session_hash": session, "event_data": None, "trigger_id": None}
    join = urllib.request.Request(f"{app_url}gradio_api/queue/join", data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(join, timeout=timeout) as response:
        json.loads(response.read())["event_id"]  # noqa: B018 (joined: the answer has an event id)
    stream = urllib.request.Request(f"{app_url}gradio_api/queue/data?session_hash={session}", headers=headers)
    with urllib.request.urlopen(stream, timeout=timeout) as response:
        for raw in response:
            line = raw.decode("utf-8").strip()
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            if message.get("msg") == "process_completed":
                assert message.get("success"), message
                return message["output"]["data"]
    raise AssertionError(f"the page event {name!r} never completed")
