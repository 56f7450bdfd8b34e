"""Lesson mode: the chapter's path (3.1 → 3.9, then 問題1–5) as data, for a teacher to project.

Each step names the tab that shows it and the preset it opens with (the fields of a shared link,
``explorer.ui.links``: text, context, text_b, model, layer, head, d_model, max_len, dims), and four
catalog entries (``explorer/locales/<lang>/lesson.json``): a title, a short explanation, one
question for the class and the teacher's notes (the expected observation). Where no view shows a
section's idea by itself (cross-attention, an FFN on its own), the explanation says what the step
shows instead. Pure data and functions: ``explorer.ui.lesson`` draws the panel.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from .messages import Msg

PARTS = ("title", "text", "question", "notes")


@dataclass(frozen=True)
class Step:
    id: str  # what ``?lesson=`` carries: a section ("3.2") or an exercise ("q5")
    tab: str  # the tab id (``explorer.ui.tabs``) that shows it
    preset: dict[str, str | int] = field(default_factory=dict)  # link fields the tab opens with

    @property
    def slug(self) -> str:
        """The catalog's spelling of the id: ``3.2`` -> ``s3_2``; ``q5`` stays."""
        return "s" + self.id.replace(".", "_") if self.id[0].isdigit() else self.id

    def msg(self, part: str) -> Msg:
        if part not in PARTS:
            raise ValueError(f"unknown lesson part {part!r}")
        return Msg(f"lesson.{self.slug}_{part}")


CAT = "The cat sat on the mat because it was tired."
IT = "The animal didn't cross the street because it was too tired."

STEPS: tuple[Step, ...] = (
    Step("3.1", "attention", {"text": CAT, "layer": 0, "head": 0}),
    Step("3.2", "step", {"text": IT, "layer": 2, "head": 0}),
    Step("3.3", "heads", {"text": IT}),
    Step("3.4", "positional", {"d_model": 128, "max_len": 100, "dims": "0, 1, 20, 60, 120"}),
    Step("3.5", "step", {"text": CAT, "layer": 0, "head": 0}),
    Step("3.6", "fill", {"text": "The capital of France is [MASK]."}),
    Step("3.7", "sentiment", {"text": "The acting was great, but the plot made no sense at all.", "layer": 5, "head": 0}),
    Step("3.8", "tokenization", {"text": "自然言語処理は人工知能の一分野です。"}),
    Step("3.9", "embed", {}),
    Step("q1", "qa", {"text": "Where did the cat sit?", "context": "The cat sat on the mat near the door."}),
    Step("q2", "compare", {"text": "the cat sat on the mat", "text_b": "the mat sat on the cat", "layer": 1, "head": 0}),
    Step("q3", "fill", {"text": "The cat sat on the mat because it was tired."}),
    Step("q4", "heads", {"text": CAT}),
    Step("q5", "sentiment", {"text": "A dull, lifeless waste of two hours."}),
)
IDS = tuple(step.id for step in STEPS)
ALIASES = {"問題" + step.id[1:]: step.id for step in STEPS if step.id.startswith("q")}  # ?lesson=問題5


def find(step_id: str | None) -> Step | None:
    """The step of ``?lesson=`` (``3.2``, ``q5`` or ``問題5``), None for anything else."""
    step_id = ALIASES.get((step_id or "").strip(), (step_id or "").strip().lower())
    return next((step for step in STEPS if step.id == step_id), None)


def index(step_id: str | None) -> int:
    """Position of the step in ``STEPS`` (0 for an unknown id)."""
    step = find(step_id)
    return STEPS.index(step) if step else 0


def neighbour(step_id: str | None, offset: int) -> str:
    """The id ``offset`` steps away (previous: -1, next: +1), clamped to the first and last steps."""
    return STEPS[min(max(index(step_id) + offset, 0), len(STEPS) - 1)].id


def query(step: Step, stamp: bool = True) -> str:
    """The step's in-page link (a shared link's query: ``tab=…&text=…``). ``stamp`` adds the time,
    so that opening the same step again is a change of the hidden box too."""
    fields: dict[str, str | int] = {"tab": step.tab, **step.preset}
    if stamp:
        fields["at"] = time.monotonic_ns()
    return urlencode(fields)


def link(step: Step, language: str) -> str:
    """The step's own link, relative to the page: ``?lesson=3.2&lang=ja``."""
    return "?" + urlencode({"lesson": step.id, "lang": language})


def card(step: Step) -> Msg:
    """The panel's text of a step: where it is in the lesson, its title, explanation and question."""
    return Msg(
        "lesson.card",
        number=STEPS.index(step) + 1,
        total=len(STEPS),
        title=step.msg("title"),
        text=step.msg("text"),
        question=step.msg("question"),
        tab=Msg(f"tab.{step.tab}"),
    )
