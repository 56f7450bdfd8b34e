"""Embeddings tab: sentence vectors by pooling, their cosine similarities and a 2-D map (3.9), and one
word's contextual vectors across layers ("bank" by the river and at the bank)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .. import backend, embed_views, embeddings, views
from ..analysis import Analysis
from ..errors import InputError
from ..messages import Msg
from .common import Result, fit_index, with_fallback

MAX_SENTENCES = 32
MAX_TOKENS_ON_MAP = 1500  # points on the token map (a browser draws more, a class cannot read them)
MAX_PAIRS = 10  # lines on the word-in-context plot
SENTENCE_TRANSFORMERS = "sentence-transformers"


@dataclass(frozen=True)
class EmbedResult(Result):
    model: str
    pooling: str
    layer: int
    n_layers: int  # hidden states 0..n_layers
    sentences: tuple[str, ...]
    similarity: np.ndarray
    points: np.ndarray
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
    word: str
    curves: dict[str, np.ndarray]
    figure: views.PlotlySpec

    def api(self) -> dict:
        return {
            "word": self.word,
            "cosine_by_layer": {name: np.round(v, 6).tolist() for name, v in self.curves.items()},
            **self.messages(),
        }


def split_sentences(text: str) -> tuple[list[str], tuple[Msg, ...]]:
    """One sentence a line, empty lines ignored, at most ``MAX_SENTENCES``."""
    lines = [line.strip() for line in str(text or "").splitlines() if line.strip()]
    if not lines:
        raise InputError("embed.no_sentences")
    if len(lines) > MAX_SENTENCES:
        return lines[:MAX_SENTENCES], (Msg("embed.too_many", count=len(lines), limit=MAX_SENTENCES),)
    return lines, ()


def analyses_of(sentences: list[str], model: str | None) -> tuple[list[Analysis], tuple[Msg, ...]]:
    """One cached analysis per sentence (a sentence seen before costs nothing), with the fallback."""
    return with_fallback(lambda name: [backend.analyze(sentence, name) for sentence in sentences], model, None)


def notes_of(found: list[Analysis]) -> tuple[Msg, ...]:
    seen: list[Msg] = []
    for index, analysis in enumerate(found):
        for note in analysis.notes:
            numbered = Msg("embed.sentence_note", number=index + 1, note=note)
            if numbered not in seen:
                seen.append(numbered)
    return tuple(seen)


def present(
    sentences: str, model: str | None = None, pooling: str = SENTENCE_TRANSFORMERS, layer: int = -1, fit: bool = False
) -> EmbedResult:
    lines, warnings = split_sentences(sentences)
    if pooling not in embeddings.POOLINGS:
        raise InputError("embed.bad_pooling", pooling=str(pooling)[:40], choices=", ".join(embeddings.POOLINGS))
    found, fallback = analyses_of(lines, model)
    n_layers = found[0].n_layers
    layer_value = n_layers if layer is None or int(layer) == -1 else layer
    layer, fitted = fit_index(layer_value, n_layers + 1, "layer", fit)
    vectors = np.stack([embeddings.pool(a.hidden_states[layer], a.special_mask, pooling) for a in found])
    similarity = embeddings.cosine_matrix(vectors)
    points, share = embeddings.pca_2d(vectors)
    labels = [embed_views.sentence_label(i, sentence) for i, sentence in enumerate(lines)]
    axes = [Msg("embed.pca_axis", number=i + 1, share=f"{share[i]:.0%}") for i in range(2)]
    pooled = Msg(f"embed.pooling.{pooling}")
    sentence_map = embed_views.point_map(
        points,
        labels,
        list(range(len(lines))),
        labels,
        Msg("embed.title_sentence_map", pooling=pooled, layer=layer),
        axes,
        True,
        point_text=[str(i + 1) for i in range(len(lines))],  # the number; the legend and the hover say which
    )
    token_map, token_notes = token_figure(found, layer, lines)
    lines_out = [Msg("embed.summary", count=len(lines), model=found[0].model_name, pooling=pooled, layer=layer)]
    if len(lines) >= 2:
        pairs = [(i, j) for i, j in itertools.combinations(range(len(lines)), 2)]
        best = max(pairs, key=lambda pair: similarity[pair])
        worst = min(pairs, key=lambda pair: similarity[pair])
        lines_out.append(
            Msg(
                "embed.extremes",
                a=best[0] + 1, b=best[1] + 1, high=f"{similarity[best]:.3f}",
                c=worst[0] + 1, d=worst[1] + 1, low=f"{similarity[worst]:.3f}",
            )
        )  # fmt: skip
    if len(lines) < 3:
        lines_out.append(Msg("embed.pca_few", count=len(lines)))
    if pooling == "cls" and found[0].model_name.startswith("all-MiniLM"):
        lines_out.append(Msg("embed.cls_untrained"))
    return EmbedResult(
        model=found[0].model_name,
        pooling=pooling,
        layer=layer,
        n_layers=n_layers,
        sentences=tuple(lines),
        similarity=similarity,
        points=points,
        similarity_figure=embed_views.similarity_heatmap(
            similarity, labels, Msg("embed.title_similarity", pooling=pooled, layer=layer)
        ),
        sentence_map=sentence_map,
        token_map=token_map,
        lines=tuple(lines_out) + token_notes + notes_of(found),
        warnings=warnings + fallback + fitted,
    )


def token_figure(found: list[Analysis], layer: int, sentences: list[str]) -> tuple[views.PlotlySpec, tuple[Msg, ...]]:
    """Every non-special token of every sentence at ``layer``, on the first two principal axes."""
    vectors, labels, groups = [], [], []
    for index, analysis in enumerate(found):
        for position in np.flatnonzero(~analysis.special_mask):
            vectors.append(analysis.hidden_states[layer, position])
            labels.append(analysis.tokens[position])
            groups.append(index)
    notes: tuple[Msg, ...] = ()
    if len(vectors) > MAX_TOKENS_ON_MAP:
        notes = (Msg("embed.tokens_capped", shown=MAX_TOKENS_ON_MAP, total=len(vectors)),)
        vectors, labels, groups = vectors[:MAX_TOKENS_ON_MAP], labels[:MAX_TOKENS_ON_MAP], groups[:MAX_TOKENS_ON_MAP]
    points, share = embeddings.pca_2d(np.asarray(vectors) if vectors else np.zeros((0, 1)))
    names = [embed_views.sentence_label(i, sentence) for i, sentence in enumerate(sentences)]
    axes = [Msg("embed.pca_axis", number=i + 1, share=f"{share[i]:.0%}") for i in range(2)]
    figure = embed_views.point_map(
        points, labels, groups, names, Msg("embed.title_token_map", layer=layer), axes, len(labels) <= 60
    )
    return figure, notes


def word_in_context(sentences: str, word: str, model: str | None = None) -> WordResult:
    """The cosine between the word's contextual vectors in every pair of sentences holding it, per layer."""
    lines, warnings = split_sentences(sentences)
    word = str(word or "").strip()
    if not word:
        raise InputError("embed.no_word")
    found, fallback = analyses_of(lines, model)
    vectors = {}
    for index, analysis in enumerate(found):
        occurrences = embeddings.word_positions(analysis.text, analysis.offsets, word)
        if occurrences:  # the first occurrence in each sentence
            vectors[index] = embeddings.word_vectors_by_layer(analysis.hidden_states, occurrences[0])
    if len(vectors) < 2:
        raise InputError("embed.word_too_rare", word=word[:40], count=len(vectors))
    curves = {}
    for i, j in itertools.islice(itertools.combinations(sorted(vectors), 2), MAX_PAIRS):
        curves[f"{i + 1} ↔ {j + 1}"] = embeddings.cosine_by_layer(vectors[i], vectors[j])
    last = {name: float(values[-1]) for name, values in curves.items()}
    closest = max(last, key=last.get)
    farthest = min(last, key=last.get)
    lines_out = (
        Msg("embed.word_summary", word=word, count=len(vectors), pairs=len(curves), model=found[0].model_name),
        Msg("embed.word_extremes", closest=closest, high=f"{last[closest]:.3f}", farthest=farthest, low=f"{last[farthest]:.3f}"),
    )
    figure = embed_views.layer_curves(curves, Msg("embed.title_word", word=word))
    return WordResult(word=word, curves=curves, figure=figure, lines=lines_out, warnings=warnings + fallback)
