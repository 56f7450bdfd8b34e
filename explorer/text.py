"""Validate and normalise user text once, at the boundary."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from .errors import InputError
from .messages import Msg

# Far above any model's window (512 tokens is ~2,000 characters of English); past
# this we cut the text before tokenizing, so a pasted book cannot stall the server.
MAX_INPUT_CHARS = 20_000

_KEEP_CONTROLS = {"\n", "\t"}


@dataclass(frozen=True)
class CleanText:
    text: str
    notes: tuple[Msg, ...] = ()


def clean_input(text: str | None, *, max_chars: int = MAX_INPUT_CHARS) -> CleanText:
    """Return the text the models will see, with notes on what was changed.

    Control characters (NUL, escape, ...) are removed because tokenizers either
    drop them silently or choke on them; newlines and tabs become spaces-equivalent
    whitespace for the tokenizer and are kept. Raises ``InputError`` for empty text.
    """
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise InputError("input.not_text", kind=type(text).__name__)
    notes: list[Msg] = []
    if len(text) > max_chars:
        notes.append(Msg("input.cut_characters", total=f"{len(text):,}", kept=f"{max_chars:,}"))
        text = text[:max_chars]
    cleaned = "".join(ch for ch in text if ch in _KEEP_CONTROLS or unicodedata.category(ch) not in ("Cc", "Cs"))
    removed = len(text) - len(cleaned)
    if removed:
        notes.append(Msg("input.removed_controls", count=removed))
    if not cleaned.strip():
        raise InputError("input.empty")
    return CleanText(cleaned, tuple(notes))
