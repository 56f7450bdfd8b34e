"""Shareable links: ``?tab=attention&text=…&model=…&layer=3&head=5&lang=ja&projection=1``.

A teacher copies the link of what is on the projector; a student who opens it gets the same
tab, input, model, layer and head, and the switches that change what is drawn (hide [CLS]/[SEP],
renormalise, weights or norms, position embeddings off). Which fields a tab shares comes from its ``TabHandle``
(``shareable``), so the share script and the parser are built from the tab table. Values
are checked here, never trusted: an unknown tab or model is ignored, numbers must be whole,
and text goes through the same cleaning as typed text (it is user input either way).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

MAX_TEXT = 10_000
TEXT_FIELDS = ("text", "context", "text_b", "dims")
NUMBER_FIELDS = ("layer", "head", "d_model", "max_len")
SWITCH_FIELDS = ("hide", "renormalize", "positions_off")  # checkboxes: "1" on, "0" off
CHOICE_FIELDS = {"scale": ("weights", "norms")}  # radios: one of their values
ON, OFF = ("1", "true", "on"), ("0", "false", "off")


@dataclass(frozen=True)
class Link:
    tab: str | None = None
    values: dict[str, object] = field(default_factory=dict)  # shareable field -> checked value
    lang: str | None = None
    projection: bool = False


def _whole(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def parse(params: dict[str, str], tab_ids: tuple[str, ...], known_models: set[str]) -> Link:
    tab = params.get("tab") if params.get("tab") in tab_ids else None
    values: dict[str, object] = {}
    for name in TEXT_FIELDS:
        if params.get(name):
            values[name] = params[name][:MAX_TEXT]
    for name in NUMBER_FIELDS:
        number = _whole(params.get(name))
        if number is not None:
            values[name] = number
    for name in SWITCH_FIELDS:
        if str(params.get(name)).lower() in ON + OFF:
            values[name] = str(params[name]).lower() in ON
    for name, choices in CHOICE_FIELDS.items():
        if params.get(name) in choices:
            values[name] = params[name]
    if params.get("model") in known_models:
        values["model"] = params["model"]
    return Link(
        tab=tab,
        values=values,
        lang=params.get("lang") if params.get("lang") in ("en", "ja") else None,
        projection=params.get("projection") in ("1", "true", "on"),
    )


def share_js(fields: list[tuple[str, str]]) -> str:
    """Browser code that builds the link of what is on screen and copies it.

    Its arguments are the current tab, the language, projection, then one value per
    ``(tab, field)`` of ``fields``, in that order (app.py passes the same list's components).
    """
    return f"""
(tab, lang, projection, ...values) => {{
  const fields = {json.dumps(fields)};
  const params = new URLSearchParams();
  params.set("tab", tab || "tokenization");
  fields.forEach(([owner, name], i) => {{
    const value = values[i] === true ? "1" : values[i];  // a switch: only when on (off is the default)
    if (owner === tab && value !== null && value !== undefined && value !== "" && value !== false) params.set(name, value);
  }});
  params.set("lang", lang || "en");
  if (projection) params.set("projection", "1");
  const url = window.location.origin + window.location.pathname + "?" + params.toString();
  if (navigator.clipboard) navigator.clipboard.writeText(url).catch(() => {{}});
  return url;
}}
"""


# The zoom changes every plot's room: a resize event makes plotly (responsive) lay them out again;
# without it, plots drawn before the switch kept their old width and lost their right-hand columns.
PROJECTION_JS = """(on) => {
  document.body.classList.toggle('projection', !!on);
  requestAnimationFrame(() => window.dispatchEvent(new Event('resize')));
}"""
