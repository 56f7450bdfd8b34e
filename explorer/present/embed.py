"""Embeddings tab: sentence vectors by pooling, their cosine similarities and a 2-D map (3.9), and one
word's contextual vectors across layers ("bank" by the river and at the bank).

Gradio-free. Each sentence is one cached ``backend.analyze`` (a sentence seen before costs nothing,
so another pooling or layer never runs the model again); everything else is numpy on its hidden states.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .. import backend, embed_views, embeddings, readability, views
from ..analysis import Analysis, check_text
from ..errors import InputError
from ..messages import Msg
from ..models import OFFLINE_DEFAULT, load_model, loaded_model_names
from ..text import clean_input
from .common import Result, fit_index, with_fallback

DEFAULT_MODEL = OFFLINE_DEFAULT[None]
SENTENCE_MODEL = "all-MiniLM-L6-v2"  # the one registered model trained as a sentence encoder (mean pooling)
SENTENCE_TRANSFORMERS = "sentence-transformers"
MAX_SENTENCES = 32
MAX_TOKENS_ON_MAP = 1500  # points on the token map (a browser draws more, a class cannot read them)
MAX_TOKEN_LABELS = 60  # token texts written on the map up to this many points; beyond, on hover only
MAX_PAIRS = 10  # lines on the word-in-context plot
UNREADABLE_SHARE = 0.1  # more [UNK] word tokens than this: the vectors say little about the sentences
SHORT_NAMES = {  # a pooling's name in a figure title, short enough for a 640 px plot
    "sentence-transformers": Msg("embed.pooling_short.sentence-transformers"),
    "mean": Msg("embed.pooling_short.mean"),
    "max": Msg("embed.pooling_short.max"),
    "cls": Msg("embed.pooling_short.cls"),
}
BANK = (
    "I sat on the bank of the river.",
    "The river bank was muddy.",
    "I deposited money at the bank.",
    "The bank raised its interest rates.",
)  # the preset: two river banks, two money banks


@dataclass(frozen=True)
class EmbedResult(Result):
    """Pooled sentence vectors at one hidden state: their cosine matrix, maps and figures."""

    model: str
    pooling: str
    layer: int
    n_layers: int  # hidden states 0..n_layers
    sentences: tuple[str, ...]  # as the model read them (control characters removed)
    similarity: np.ndarray  # (N, N)
    points: np.ndarray  # (N, 2) PCA of the pooled vectors
    similarity_figure: views.PlotlySpec
    sentence_map: views.PlotlySpec
    token_map: views.PlotlySpec

    def api(self) -> dict:
        return {
            "sentences": list(self.sentences),
            "model": self.model,
            "pooling": self.pooling,
            "layer": self.layer,
            "similarity": np.round(self.similarity, 6).tolist(),
            "embeddings_2d": np.round(self.points, 6).tolist(),
            **self.messages(),
        }


@dataclass(frozen=True)
class WordResult(Result):
    """One word's contextual vectors compared pair by pair at every hidden state."""

    word: str
    model: str
    holders: tuple[int, ...]  # sentences (numbered from 1) that hold the word
    curves: dict[str, np.ndarray]  # "1 ↔ 2" -> (L + 1,) cosines
    figure: views.PlotlySpec

    def api(self) -> dict:
        return {
            "word": self.word,
            "model": self.model,
            "sentences_with_word": list(self.holders),
            "cosine_by_layer": {name: np.round(v, 6).tolist() for name, v in self.curves.items()},
            **self.messages(),
        }


def _readable(line: str) -> bool:
    """A line the model can read: something left once control characters are removed."""
    try:
        clean_input(line)
    except InputError:
        return False
    return True


def split_sentences(text: str) -> tuple[list[str], tuple[Msg, ...]]:
    """One sentence a line; empty lines (and lines of control characters only) ignored; at most ``MAX_SENTENCES``."""
    lines = [line.strip() for line in check_text(text, "sentences").splitlines()]
    lines = [line for line in lines if line and _readable(line)]
    if not lines:
        raise InputError("input.empty")
    if len(lines) > MAX_SENTENCES:
        return lines[:MAX_SENTENCES], (Msg("embed.too_many", count=len(lines), limit=MAX_SENTENCES),)
    return lines, ()


def analyses_of(sentences: list[str], model: str | None) -> tuple[list[Analysis], tuple[Msg, ...]]:
    """One cached analysis per sentence, with the fallback when a hub model cannot load here."""
    return with_fallback(lambda name: [backend.analyze(sentence, name) for sentence in sentences], model, None)


def notes_of(found: list[Analysis]) -> tuple[Msg, ...]:
    """Each analysis' own notes (a text cut to the model's limit, control characters removed), numbered."""
    seen: list[Msg] = []
    for index, analysis in enumerate(found):
        for note in analysis.notes:
            numbered = Msg("embed.sentence_note", number=index + 1, note=note)
            if numbered not in seen:
                seen.append(numbered)
    return tuple(seen)


def unreadable(found: list[Analysis]) -> tuple[Msg, ...]:
    """A warning when many word tokens are [UNK] (Japanese on an English model): their vectors are all alike."""
    name = found[0].model_name
    # the tokenizer's own unknown token; BERT's name for it when the model has left memory (cached
    # analyses outlive loaded models, and a redraw must not load one back for this)
    unk = load_model(name).tokenizer.unk_token if name in loaded_model_names() else "[UNK]"
    words = [token for a in found for token, special in zip(a.tokens, a.special_mask, strict=True) if not special]
    count = sum(token == unk for token in words)
    if count > UNREADABLE_SHARE * len(words):
        return (Msg("embed.unreadable", count=count, total=len(words), model=found[0].model_name),)
    return ()


def pca_notes(count: int) -> tuple[Msg, ...]:
    if count == 1:
        return (Msg("embed.pca_one"),)
    if count == 2:
        return (Msg("embed.pca_two"),)
    return ()


def extremes(similarity: np.ndarray) -> tuple[Msg, ...]:
    """The most and the least similar pair of sentences (numbered from 1)."""
    pairs = list(itertools.combinations(range(len(similarity)), 2))
    if not pairs:
        return ()
    best = max(pairs, key=lambda pair: similarity[pair])
    worst = min(pairs, key=lambda pair: similarity[pair])
    return (
        Msg(
            "embed.extremes",
            a=best[0] + 1, b=best[1] + 1, high=f"{similarity[best]:.3f}",
            c=worst[0] + 1, d=worst[1] + 1, low=f"{similarity[worst]:.3f}",
        ),
    )  # fmt: skip


def present(
    sentences: str, model: str | None = DEFAULT_MODEL, pooling: str = SENTENCE_TRANSFORMERS, layer: int = -1, fit: bool = False
) -> EmbedResult:
    """Embed every line of ``sentences`` by ``pooling`` of hidden state ``layer`` (-1: the last; 0: the
    embedding output). ``fit``: a UI slider kept from another model is clamped (and said so)."""
    lines, warnings = split_sentences(sentences)
    if pooling not in embeddings.POOLINGS:
        raise InputError("embed.bad_pooling", pooling=str(pooling)[:40], choices=", ".join(embeddings.POOLINGS))
    found, fallback = analyses_of(lines, model or DEFAULT_MODEL)
    n_layers = found[0].n_layers
    layer, fitted = fit_index(layer, n_layers + 1, "layer", fit)
    texts = [analysis.text for analysis in found]
    vectors = np.stack([embeddings.pool(a.hidden_states[layer], a.special_mask, pooling) for a in found])
    similarity = embeddings.cosine_matrix(vectors)
    points, share = embeddings.pca_2d(vectors)
    labels = [embed_views.sentence_label(i, text) for i, text in enumerate(texts)]
    names = [embed_views.sentence_label(i, text, embed_views.LEGEND_CHARACTERS) for i, text in enumerate(texts)]
    short = SHORT_NAMES[pooling]
    sentence_map = embed_views.point_map(
        points,
        labels,
        list(range(len(texts))),
        names,
        Msg("embed.title_sentence_map", pooling=short, layer=layer),
        axis_names(share),
        True,
        point_text=[str(i + 1) for i in range(len(texts))],  # the number; the legend and the hover say which
    )
    token_map, token_notes = token_figure(found, layer, names)
    lines_out = [
        Msg("embed.summary", count=len(texts), model=found[0].model_name, pooling=short, layer=layer)
        if len(texts) > 1
        else Msg("embed.summary_one", model=found[0].model_name, pooling=short, layer=layer),
        *extremes(similarity),
        *pca_notes(len(texts)),
    ]
    if found[0].model_name != SENTENCE_MODEL:
        if pooling == SENTENCE_TRANSFORMERS:
            lines_out.append(Msg("embed.not_sentence_model", model=found[0].model_name, sentence_model=SENTENCE_MODEL))
    elif pooling == "cls":
        lines_out.append(Msg("embed.cls_untrained", model=SENTENCE_MODEL))
    return EmbedResult(
        model=found[0].model_name,
        pooling=pooling,
        layer=layer,
        n_layers=n_layers,
        sentences=tuple(texts),
        similarity=similarity,
        points=points,
        similarity_figure=embed_views.similarity_heatmap(
            similarity, labels, Msg("embed.title_similarity", pooling=short, layer=layer)
        ),
        sentence_map=sentence_map,
        token_map=token_map,
        lines=tuple(lines_out) + token_notes + notes_of(found),
        warnings=warnings + fallback + fitted + readability.check(found)[1] + unreadable(found),
    )


def axis_names(share: np.ndarray) -> list[Msg]:
    return [Msg("embed.pca_axis", number=i + 1, share=f"{share[i]:.0%}") for i in range(2)]


def token_figure(found: list[Analysis], layer: int, names: list[str]) -> tuple[views.PlotlySpec, tuple[Msg, ...]]:
    """Every non-special token of every sentence at ``layer``, on the first two principal axes, one
    colour per sentence (``names``: the sentences' labels, escaped)."""
    vectors, labels, groups = [], [], []
    for index, analysis in enumerate(found):
        for position in np.flatnonzero(~analysis.special_mask):
            vectors.append(analysis.hidden_states[layer, position])
            labels.append(embed_views.plain(analysis.tokens[position]))
            groups.append(index)
    notes: tuple[Msg, ...] = ()
    if len(vectors) > MAX_TOKENS_ON_MAP:
        notes = (Msg("embed.tokens_capped", shown=MAX_TOKENS_ON_MAP, total=len(vectors)),)
        vectors, labels, groups = vectors[:MAX_TOKENS_ON_MAP], labels[:MAX_TOKENS_ON_MAP], groups[:MAX_TOKENS_ON_MAP]
    points, share = embeddings.pca_2d(np.asarray(vectors) if vectors else np.zeros((0, 1)))
    figure = embed_views.point_map(
        points,
        labels,
        groups,
        names,
        Msg("embed.title_token_map", layer=layer),
        axis_names(share),
        len(labels) <= MAX_TOKEN_LABELS,
    )
    return figure, notes


def word_in_context(sentences: str, word: str, model: str | None = DEFAULT_MODEL) -> WordResult:
    """The cosine between the word's contextual vectors in every pair of sentences holding it, per layer."""
    lines, warnings = split_sentences(sentences)
    word = " ".join(check_text(word, "word").split())
    if not word:
        raise InputError("embed.no_word")
    found, fallback = analyses_of(lines, model or DEFAULT_MODEL)
    holders, by_pair = embeddings.contextual_similarity_by_layer(found, word, MAX_PAIRS)
    if len(holders) < 2:
        raise InputError("embed.word_too_rare", word=word[:40], count=len(holders))
    curves = {f"{i + 1} ↔ {j + 1}": values for (i, j), values in by_pair.items()}
    last = {name: float(values[-1]) for name, values in curves.items()}
    closest = max(last, key=last.get)
    farthest = min(last, key=last.get)
    lines_out = [
        Msg(
            "embed.word_summary",
            word=word[:40],
            count=len(holders),
            sentences=tuple(str(i + 1) for i in holders),  # joined as the language joins lists
            pairs=len(curves),
            model=found[0].model_name,
        ),
        Msg("embed.word_extremes", closest=closest, high=f"{last[closest]:.3f}", farthest=farthest, low=f"{last[farthest]:.3f}"),
    ]
    n_pairs = len(holders) * (len(holders) - 1) // 2
    if n_pairs > len(curves):
        lines_out.append(Msg("embed.pairs_capped", shown=len(curves), total=n_pairs))
    return WordResult(
        word=word,
        model=found[0].model_name,
        holders=tuple(i + 1 for i in holders),
        curves=curves,
        figure=embed_views.layer_curves(curves, word),
        lines=tuple(lines_out) + notes_of(found),
        warnings=warnings + fallback,
    )
