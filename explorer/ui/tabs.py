"""Every tab, declared once: app.py, links, the share script, i18n and the tests read this table.

Adding a tab: a presenter (``explorer/present/<tab>.py``), a builder (``explorer/ui/<tab>.py``),
its catalog entries (``explorer/locales/<lang>/<tab>.json``) and one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import attention, compare, embed, explain, fill, heads, ner, positional, qa, sentiment, step, tokenization
from .common import TabHandle


@dataclass(frozen=True)
class TabSpec:
    id: str  # the ``?tab=`` of links and the gradio tab id
    label_key: str  # catalog key of the tab's name
    build: Callable[[], TabHandle]
    primary_key: str  # catalog key of the button that runs the tab


TABS: tuple[TabSpec, ...] = (
    TabSpec("tokenization", "tab.tokenization", tokenization.build, "tok.button"),
    TabSpec("attention", "tab.attention", attention.build, "att.button"),
    TabSpec("step", "tab.step", step.build, "step.button"),
    TabSpec("heads", "tab.heads", heads.build, "heads.button"),
    TabSpec("positional", "tab.positional", positional.build, "pos.button"),
    TabSpec("sentiment", "tab.sentiment", sentiment.build, "sent.button"),
    TabSpec("ner", "tab.ner", ner.build, "ner.button"),
    TabSpec("qa", "tab.qa", qa.build, "qa.button"),
    TabSpec("explain", "tab.explain", explain.build, "explain.button"),
    TabSpec("compare", "tab.compare", compare.build, "compare.button"),
    TabSpec("embed", "tab.embed", embed.build, "embed.button"),
    TabSpec("fill", "tab.fill", fill.build, "fill.button"),
)
TAB_IDS = tuple(tab.id for tab in TABS)
