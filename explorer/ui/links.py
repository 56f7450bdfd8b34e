"""Shareable links: ``?tab=attention&text=…&model=…&layer=3&head=5&lang=ja&projection=1``.

A teacher copies the link of what is on the projector; a student who opens it gets the same
tab, input, model, layer and head. Values are checked here, never trusted: an unknown tab or
model is ignored, layer and head must be whole numbers, and the text goes through the same
cleaning as typed text (it is user input either way).
"""

from __future__ import annotations

from dataclasses import dataclass

TABS = ("tokenization", "attention", "positional", "sentiment", "ner", "qa")
MAX_TEXT = 10_000


@dataclass(frozen=True)
class Link:
    tab: str | None = None
    text: str | None = None
    model: str | None = None
    layer: int | None = None
    head: int | None = None
    lang: str | None = None
    projection: bool = False


def _whole(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def parse(params: dict[str, str], known_models: set[str]) -> Link:
    tab = params.get("tab")
    text = params.get("text")
    model = params.get("model")
    return Link(
        tab=tab if tab in TABS else None,
        text=text[:MAX_TEXT] if text else None,
        model=model if model in known_models else None,
        layer=_whole(params.get("layer")),
        head=_whole(params.get("head")),
        lang=params.get("lang") if params.get("lang") in ("en", "ja") else None,
        projection=params.get("projection") in ("1", "true", "on"),
    )


# Runs in the browser: builds the link from what is on screen and copies it.
SHARE_JS = """
(tab, lang, projection, tokText, attText, attModel, layer, head, sentText, nerText, question) => {
  const params = new URLSearchParams();
  params.set("tab", tab || "tokenization");
  const text = {tokenization: tokText, attention: attText, sentiment: sentText, ner: nerText, qa: question}[tab];
  if (text) params.set("text", text);
  if (tab === "attention") {
    params.set("model", attModel);
    params.set("layer", layer);
    params.set("head", head);
  }
  params.set("lang", lang || "en");
  if (projection) params.set("projection", "1");
  const url = window.location.origin + window.location.pathname + "?" + params.toString();
  if (navigator.clipboard) navigator.clipboard.writeText(url).catch(() => {});
  return url;
}
"""

PROJECTION_JS = "(on) => { document.body.classList.toggle('projection', !!on); }"
