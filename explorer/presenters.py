"""What each tab shows, computed from the shared backend (no gradio here).

Each function takes plain values (text, model name, layer, ...) and returns plain
data and plotly figures, so the UI handlers stay a few lines long and these are
testable without a browser.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from . import backend, japanese, scratch, views
from .analysis import Analysis
from .errors import ExplorerError, ModelUnavailable
from .models import DEFAULT_MODEL, load_model, resolve


@dataclass(frozen=True)
class Outcome:
    """An analysis plus what the user should be told about it."""

    analysis: Analysis
    notes: tuple[str, ...]


def with_fallback(run, model: str | None, fallback: str = DEFAULT_MODEL):
    """``run(model)``; if that model cannot be loaded, ``run(fallback)`` and say why.

    Returns (result, notes about the fallback).
    """
    try:
        return run(model), ()
    except ModelUnavailable as error:
        if (model or DEFAULT_MODEL) == fallback:
            raise
        return run(fallback), (str(error), f"Showing the embedded model '{fallback}' instead.")


def analyze_or_fallback(text: str, model: str | None, fallback: str = DEFAULT_MODEL) -> Outcome:
    """Analyse with ``model``; if it cannot be loaded, say why and use the offline ``fallback``."""
    analysis, notes = with_fallback(lambda name: backend.analyze(text, name), model, fallback)
    return Outcome(analysis, notes + analysis.notes)


# ---------------------------------------------------------------- tokenization


TOKEN_COLUMNS = ["#", "token", "id", "attention mask", "special", "start", "end", "covers"]
MORPHEME_COLUMNS = ["surface", "part of speech", "lemma", "reading", "start", "end"]
SUBWORD_COLUMNS = ["#", "subword", "id", "MeCab word"]


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


def unknown_token_note(analysis: Analysis) -> str | None:
    """Say when the vocabulary could not cover the text (e.g. kanji in an English model)."""
    unknown = sum(token == "[UNK]" for token in analysis.tokens)
    if not unknown:
        return None
    return (
        f"{unknown} of {analysis.n_tokens} tokens are [UNK]: '{analysis.model_name}' has no vocabulary entry for "
        "those characters, so the model cannot tell them apart. A Japanese model (e.g. Tohoku BERT) covers Japanese."
    )


def token_highlights(analysis: Analysis) -> list[tuple[str, str | None]]:
    return views.token_highlights(analysis.text, analysis.offsets, analysis.tokens)


def japanese_rows(text: str, max_length: int = 512, model: str | None = None) -> tuple[list[list], list[list], str]:
    """MeCab morphemes and the Tohoku-style subwords of the same text, and whose vocabulary.

    When ``model`` is a loaded Japanese BERT (a ``BertJapaneseTokenizer`` with MeCab), its own
    vocabulary splits the words; otherwise the offline character vocabulary does.
    """
    tokenizer = japanese_tokenizer_of(model)
    source = f"'{model}' vocabulary" if tokenizer is not None else "offline character vocabulary (assets/ja_char_vocab.txt)"
    morphemes = [[m.surface, m.pos, m.lemma, m.reading, m.start, m.end] for m in japanese.morphemes(text)]
    pieces = [[i, s.token, s.token_id, s.word] for i, s in enumerate(japanese.subwords(text, tokenizer, max_length))]
    return morphemes, pieces, source


def japanese_tokenizer_of(model: str | None):
    """The model's tokenizer if it is MeCab-based Japanese BERT (already loaded), else None."""
    if model is None:
        return None
    try:
        tokenizer = load_model(model).tokenizer
    except ModelUnavailable:
        return None
    if getattr(tokenizer, "word_tokenizer_type", None) == "mecab" and hasattr(tokenizer, "subword_tokenizer"):
        return tokenizer
    return None


def japanese_highlights(text: str) -> list[tuple[str, str | None]]:
    found = japanese.morphemes(text)
    return views.token_highlights(text, [(m.start, m.end) for m in found], [m.pos.split("-")[0] for m in found])


# ---------------------------------------------------------------- attention


@dataclass(frozen=True)
class AttentionView:
    head: go.Figure
    mean: go.Figure
    grid: go.Figure
    row: go.Figure


def visible_tokens(analysis: Analysis, hide_special: bool) -> np.ndarray:
    """Indices of the tokens to draw; all of them unless special tokens are hidden."""
    if hide_special and not analysis.special_mask.all():
        return np.flatnonzero(~analysis.special_mask)
    return np.arange(analysis.n_tokens)


def _crop(weights: np.ndarray, keep: np.ndarray, renormalize: bool) -> np.ndarray:
    """Keep rows/columns ``keep`` of ``(..., T, T)`` weights; optionally rows sum to 1 again."""
    cropped = weights[..., keep, :][..., :, keep]
    if renormalize:
        cropped = cropped / np.maximum(cropped.sum(axis=-1, keepdims=True), 1e-12)
    return cropped


def attention_view(
    analysis: Analysis,
    layer: int,
    head: int,
    query_token: int = 0,
    hide_special: bool = False,
    renormalize: bool = False,
) -> AttentionView:
    """All attention figures for one (layer, head) of a cached analysis: no forward pass."""
    keep = visible_tokens(analysis, hide_special)
    all_labels = analysis.token_labels()
    labels = [all_labels[i] for i in keep]
    layer_weights = _crop(analysis.attention(layer), keep, renormalize)  # (H, T', T')
    head = int(head) % analysis.n_heads
    layer = int(layer) % analysis.n_layers
    suffix = " — [CLS]/[SEP] hidden" + (", rows renormalised" if renormalize else "") if len(keep) < analysis.n_tokens else ""
    query_token = int(query_token) if 0 <= int(query_token) < analysis.n_tokens else 0
    # The chosen query may be a hidden special token: fall back to the first visible one.
    query_position = int(np.searchsorted(keep, query_token)) if query_token in keep else 0
    query_label = labels[query_position]
    return AttentionView(
        head=views.attention_heatmap(layer_weights[head], labels, title=f"Layer {layer}, head {head}{suffix}"),
        mean=views.attention_heatmap(
            layer_weights.mean(axis=0), labels, title=f"Layer {layer}, mean of {analysis.n_heads} heads{suffix}"
        ),
        grid=views.head_grid(layer_weights, labels, title=f"Layer {layer}: all {analysis.n_heads} heads"),
        row=views.attention_row(
            layer_weights[head, query_position],
            labels,
            query_label,
            title=f"Layer {layer}, head {head}: where “{query_label}” looks",
        ),
    )


def scratch_check(analysis: Analysis, layer: int) -> float:
    """Recompute a layer's attention with the chapter's numpy formulas; max |difference|.

    Input to layer ``l`` is ``hidden_states[l]``; the weights are the model's own.
    Needs the model's parameters but no forward pass.
    """
    layer = int(layer) % analysis.n_layers
    params = backend.self_attention_weights(analysis.model_name, layer)
    X = analysis.hidden_states[layer].astype(np.float64)
    _, weights = scratch.multi_head_self_attention(
        X,
        params["W_Q"],
        params["W_K"],
        params["W_V"],
        int(params["num_heads"]),
        params["b_Q"],
        params["b_K"],
        params["b_V"],
    )
    return float(np.abs(weights - analysis.attention(layer)).max())


# ---------------------------------------------------------------- positional encoding


@dataclass(frozen=True)
class PositionalView:
    sinusoid: go.Figure
    sinusoid_curves: go.Figure
    sinusoid_similarity: go.Figure
    learned: go.Figure
    learned_curves: go.Figure
    learned_similarity: go.Figure
    notes: tuple[str, ...]


def parse_dims(text: str, d_model: int) -> tuple[list[int], list[str]]:
    """Comma-separated dimension indices, validated against ``d_model``."""
    dims: list[int] = []
    notes: list[str] = []
    for part in (text or "").replace("、", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            dim = int(part)
        except ValueError:
            notes.append(f"Ignored “{part}”: dimensions are whole numbers.")
            continue
        if not 0 <= dim < d_model:
            notes.append(f"Ignored dimension {dim}: it must be between 0 and {d_model - 1}.")
            continue
        if dim not in dims:
            dims.append(dim)
    if not dims:
        dims = [d for d in (0, 1, 4, 5) if d < d_model]
    return dims[:8], notes


def positional_view(d_model: int, max_len: int, dims_text: str, model: str | None) -> PositionalView:
    """The chapter's sinusoidal PE beside the model's learned position embeddings."""
    d_model = int(np.clip(int(d_model), 2, 1024))
    max_len = int(np.clip(int(max_len), 2, 1024))
    dims, notes = parse_dims(dims_text, d_model)
    pe = scratch.sinusoidal_positional_encoding(max_len, d_model)
    try:
        learned = backend.position_embeddings(model)
        model_name = resolve(model).name
    except ModelUnavailable as error:
        learned = backend.position_embeddings(None)
        model_name = DEFAULT_MODEL
        notes += [str(error), f"Showing the embedded default '{DEFAULT_MODEL}' instead."]
    if max_len > learned.shape[0]:
        notes.append(f"'{model_name}' learned only {learned.shape[0]} positions: its plots stop there.")
    learned = learned[:max_len]
    learned_dims = [d for d in dims if d < learned.shape[1]] or [0]
    return PositionalView(
        sinusoid=views.encoding_heatmap(pe, f"Sinusoidal PE: {max_len} positions × d_model={d_model}"),
        sinusoid_curves=views.encoding_curves(pe, dims, "Sinusoidal PE: chosen dimensions along the positions"),
        sinusoid_similarity=views.similarity_heatmap(
            scratch.cosine_similarity(pe), "Sinusoidal PE: cosine similarity of positions"
        ),
        learned=views.encoding_heatmap(
            learned, f"Learned position embeddings of {model_name}: {learned.shape[0]} × {learned.shape[1]}"
        ),
        learned_curves=views.encoding_curves(learned, learned_dims, f"Learned embeddings of {model_name}: chosen dimensions"),
        learned_similarity=views.similarity_heatmap(
            scratch.cosine_similarity(learned), f"Learned position embeddings of {model_name}: cosine similarity"
        ),
        notes=tuple(notes),
    )


def describe_error(error: Exception) -> str:
    """A user-facing sentence for any error a handler caught."""
    if isinstance(error, ExplorerError):
        return str(error)
    return f"Something went wrong ({type(error).__name__}). Please try a different input; the details are in the server log."


# ---------------------------------------------------------------- sentiment and NER


def softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def class_probabilities(analysis: Analysis) -> dict[str, float]:
    """``{label: probability}`` of a sequence classifier's analysis."""
    if analysis.logits is None or analysis.logits.ndim != 1:
        raise ExplorerError(f"Model '{analysis.model_name}' is not a text classifier: pick a sentiment model.")
    names = analysis.labels or tuple(f"LABEL_{i}" for i in range(analysis.logits.shape[0]))
    return {name: float(p) for name, p in zip(names, softmax(analysis.logits), strict=True)}


def attribution_highlights(analysis: Analysis) -> list[tuple[str, float | None]]:
    """Text pieces with their attention-rollout score from [CLS] (0..1), for gr.HighlightedText."""
    from .tasks.attribution import token_scores

    scores = token_scores(analysis.attentions, analysis.special_mask)
    return views.token_highlights(analysis.text, analysis.offsets, [round(float(score), 3) for score in scores])


def entities(analysis: Analysis, strategy: str = "simple") -> list:
    """Entities with character spans from a token classifier's analysis."""
    from .tasks.ner import group_entities

    if analysis.logits is None or analysis.logits.ndim != 2 or not analysis.labels:
        raise ExplorerError(f"Model '{analysis.model_name}' is not a token classifier: pick an NER model.")
    return group_entities(softmax(analysis.logits), analysis.offsets, analysis.text, strategy, analysis.labels)


def entity_highlights(analysis: Analysis, found: list) -> list[tuple[str, str | None]]:
    return views.token_highlights(analysis.text, [(e.start, e.end) for e in found], [e.type for e in found])


def tag_rows(analysis: Analysis) -> list[list]:
    """One row per token: index, token, predicted tag, its probability."""
    probabilities = softmax(analysis.logits)
    rows = []
    for index, token in enumerate(analysis.tokens):
        best = int(probabilities[index].argmax())
        rows.append([index, token, analysis.labels[best], round(float(probabilities[index, best]), 3)])
    return rows


# ---------------------------------------------------------------- question answering


@dataclass(frozen=True)
class QAView:
    answers: list  # explorer.tasks.qa.Answer, best first
    no_answer: float
    window: Analysis  # the window holding the best answer
    probabilities: go.Figure
    attention: go.Figure


def qa_windows(result) -> list:
    """``Window`` objects (start/end logits + context offsets) for span decoding."""
    from .tasks.qa import Window

    return [
        Window(
            w.logits[:, 0],
            w.logits[:, 1],
            [span if sid == 1 else None for span, sid in zip(w.offsets, w.sequence_ids, strict=True)],
        )
        for w in result.windows
    ]


def qa_view(result, layer: int = -1, head: int | None = None, top_k: int = 5) -> QAView:
    """Best answers over all windows, the winning window's start/end probabilities and attention.

    The attention panel shows how the answer tokens attend to the question tokens
    (mean over heads when ``head`` is None), from the cached windows: no forward pass.
    """
    from .tasks.qa import best_answers

    windows = qa_windows(result)
    answers, no_answer = best_answers(result.context, windows, top_k=top_k)
    window = result.windows[answers[0].window if answers else 0]
    labels = window.token_labels()
    start_p, end_p = softmax(window.logits[:, 0]), softmax(window.logits[:, 1])
    probabilities = views.span_probabilities(start_p, end_p, labels, "Start and end probability of each token")
    question = [i for i, sid in enumerate(window.sequence_ids) if sid == 0]
    rows = list(range(answers[0].start_token, answers[0].end_token + 1)) if answers else question
    weights = window.attention(layer) if head is None else window.attention(layer, head)[None]
    matrix = weights.mean(axis=0)[np.ix_(rows, question)]
    layer_name = int(layer) % window.n_layers
    which = "mean of heads" if head is None else f"head {int(head)}"
    attention = views.attention_heatmap(
        matrix,
        [labels[i] for i in rows],
        [labels[i] for i in question],
        title=f"Answer tokens → question tokens (layer {layer_name}, {which})",
    )
    return QAView(answers, no_answer, window, probabilities, attention)


def answer_highlights(context: str, answers: list) -> list[tuple[str, str | None]]:
    """The context with the best answer marked."""
    if not answers:
        return [(context, None)]
    best = answers[0]
    return [(context[: best.start], None), (context[best.start : best.end], "answer"), (context[best.end :], None)]
