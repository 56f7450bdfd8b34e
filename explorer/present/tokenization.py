"""Tokenization tab: the model's WordPiece tokens beside MeCab morphemes and Japanese subwords (3.6, 3.8)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import japanese, views
from ..analysis import Analysis
from ..errors import ModelUnavailable
from ..messages import Msg
from ..models import load_model
from .common import Result, Table, analysis_for

MAX_MORPHEMES = 1000  # a 10,000-character paste would otherwise fill the page
TOKEN_COLUMNS = tuple(
    Msg(f"col.{name}") for name in ("index", "token", "id", "attention_mask", "special", "start", "end", "covers")
)
MORPHEME_COLUMNS = tuple(Msg(f"col.{name}") for name in ("surface", "pos", "lemma", "reading", "start", "end"))
SUBWORD_COLUMNS = tuple(Msg(f"col.{name}") for name in ("index", "subword", "id", "mecab_word"))


@dataclass(frozen=True)
class TokenizationResult(Result):
    model: str
    highlights: list[tuple[str, Any]]
    tokens: Table
    morpheme_highlights: list[tuple[str, Any]]
    morphemes: Table
    subwords: Table

    def api(self) -> dict:
        return {
            "model": self.model,
            "tokens": self.tokens.records(),
            "morphemes": self.morphemes.records(),
            "subwords": self.subwords.records(),
            **self.messages(),
        }


def token_rows(analysis: Analysis) -> list[list]:
    rows = []
    for index, token in enumerate(analysis.tokens):
        span = analysis.offsets[index]
        rows.append(
            [
                index,
                token,
                int(analysis.token_ids[index]),
                int(analysis.attention_mask[index]),
                bool(analysis.special_mask[index]),
                span[0] if span else None,
                span[1] if span else None,
                analysis.text[span[0] : span[1]] if span else "",
            ]
        )
    return rows


def unknown_token_note(analysis: Analysis) -> Msg | None:
    """Say when the vocabulary could not cover the text (e.g. kanji in an English model)."""
    unknown = sum(token == "[UNK]" for token in analysis.tokens)
    return Msg("tok.unknown", count=unknown, total=analysis.n_tokens, model=analysis.model_name) if unknown else None


def japanese_tokenizer_of(model: str | None) -> Any:
    """The model's tokenizer if it is a MeCab-based Japanese BERT, else None (the offline vocabulary)."""
    if model is None:
        return None
    try:
        tokenizer = load_model(model).tokenizer
    except ModelUnavailable:
        return None
    if getattr(tokenizer, "word_tokenizer_type", None) == "mecab" and hasattr(tokenizer, "subword_tokenizer"):
        return tokenizer
    return None


def present(text: str, model: str | None = None) -> TokenizationResult:
    analysis, warnings = analysis_for(text, model)
    lines: list[Msg] = [Msg("tok.summary", count=analysis.n_tokens, model=analysis.model_name, chars=f"{len(analysis.text):,}")]
    tokenizer = japanese_tokenizer_of(analysis.model_name)
    lines.append(Msg("tok.ja_model_vocab", model=analysis.model_name) if tokenizer is not None else Msg("tok.ja_offline_vocab"))
    found = japanese.morphemes(analysis.text)
    if len(found) > MAX_MORPHEMES:
        lines.append(Msg("tok.morphemes_cut", shown=f"{MAX_MORPHEMES:,}", total=f"{len(found):,}"))
        found = found[:MAX_MORPHEMES]
    pieces = japanese.subwords(analysis.text, tokenizer, analysis.max_length)
    if unknown := unknown_token_note(analysis):
        lines.append(unknown)
    shown_text = analysis.text[: found[-1].end] if found else ""
    return TokenizationResult(
        model=analysis.model_name,
        highlights=views.token_highlights(analysis.text, analysis.offsets, analysis.tokens),
        tokens=Table(TOKEN_COLUMNS, token_rows(analysis)),
        morpheme_highlights=views.token_highlights(
            shown_text, [(m.start, m.end) for m in found], [m.pos.split("-")[0] for m in found]
        ),
        morphemes=Table(MORPHEME_COLUMNS, [[m.surface, m.pos, m.lemma, m.reading, m.start, m.end] for m in found]),
        subwords=Table(SUBWORD_COLUMNS, [[i, p.token, p.token_id, p.word] for i, p in enumerate(pieces)]),
        lines=tuple(lines) + analysis.notes,
        warnings=warnings,
    )
