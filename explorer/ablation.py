"""Switching heads off (Michel et al. 2019, "Are Sixteen Heads Really Better than One?").

``ablate`` re-runs one input with chosen heads gated to 0 (``interventions.HeadGate``, part of
the analysis' cache key, so the plain analysis is never touched) and decodes the task output
before and after. ``importance`` switches every head off alone, in batches of copies of the
input (``backend.forward_gated``: one forward pass per layer's heads, not one per head), and
measures how much the task output moves:

- sentiment: the drop of the predicted class' probability;
- NER: the mean drop, over the text's tokens, of the probability of each token's predicted tag;
- QA: the drop of the best answer span's probability ``p_start * p_end``;
- an encoder without a task head: 1 - cosine between the mean-pooled last hidden states
  (the sentence embedding) with and without the head.

Positive values: the head helped the model's own answer; negative: the answer got surer without it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import backend
from .analysis import Analysis, AnalysisKey, WindowedAnalysis
from .errors import InputError
from .interventions import HeadGate
from .models import load_model, resolve
from .tasks import softmax
from .text import clean_input

MAX_IMPORTANCE_TOKENS = 128  # the sweep runs n_layers x n_heads copies: longer inputs are refused
HEAD_ITEM = re.compile(r"^L?(\d+)\s*[.:]\s*H?(\d+|\*)$", re.IGNORECASE)
SEPARATORS = re.compile(r"[,;、，；\s]+")
MEASURES = {"sentiment": "class_probability", "ner": "tag_probability", "qa": "span_probability", None: "embedding_cosine"}


def parse_heads(spec: str | Iterable[Any], n_layers: int, n_heads: int) -> tuple[tuple[int, int], ...]:
    """``"3.1, 5.11"`` (also ``L3.H1``, ``3:1``, ``3.*`` for a whole layer) -> sorted ``(layer, head)`` pairs.

    Layers and heads count from 0, as on the sliders. Unknown items and out-of-range numbers are
    refused with a message that names them; duplicates are dropped.
    """
    pairs: set[tuple[int, int]] = set()
    if spec is None or isinstance(spec, int | float | str):  # a client may send 3.1 as a number
        items: list[Any] = SEPARATORS.split(str(spec or "").strip())
    else:
        items = list(spec) if isinstance(spec, Iterable) else [spec]
    for item in items:
        if item in ("", None):
            continue
        if isinstance(item, str):
            match = HEAD_ITEM.match(item.strip())
            if not match:
                raise InputError("ablate.bad_item", item=item[:20])
            layer, head = int(match.group(1)), match.group(2)
        elif isinstance(item, list | tuple) and len(item) == 2 and all(isinstance(part, int) for part in item):
            layer, head = item
        else:
            raise InputError("ablate.bad_item", item=str(item)[:20])
        heads = range(n_heads) if head == "*" else [int(head)]
        for one in heads:
            if not (0 <= layer < n_layers and 0 <= one < n_heads):
                raise InputError("ablate.out_of_range", layer=layer, head=one, last_layer=n_layers - 1, last_head=n_heads - 1)
            pairs.add((layer, one))
    if not pairs:
        raise InputError("ablate.no_heads")
    return tuple(sorted(pairs))


def split_question(text: str) -> tuple[str, str]:
    """A QA model's input from one text box: the question on the first line, the context below."""
    question, _, context = text.strip().partition("\n")
    if not question.strip() or not context.strip():
        raise InputError("ablate.qa_needs_context")
    return question.strip(), context.strip()


def key_for(text: str, model: str | None, intervention: HeadGate | None = None) -> AnalysisKey:
    spec = resolve(model)
    if spec.task == "qa":
        question, context = split_question(text)
        return AnalysisKey(spec.name, question, context, intervention)
    return AnalysisKey(spec.name, text, None, intervention)


def first_window(result: Analysis | WindowedAnalysis) -> Analysis:
    return result.windows[0] if isinstance(result, WindowedAnalysis) else result


def sentence_embedding(hidden: np.ndarray) -> np.ndarray:
    """Mean over tokens of the last hidden states, L2-normalised (sentence-transformers' pooling): ``(..., D)``."""
    pooled = np.asarray(hidden, dtype=np.float64).mean(axis=-2)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12)


def task_output(result: Analysis | WindowedAnalysis, task: str | None, plain: Analysis | WindowedAnalysis | None = None) -> dict:
    """What the task head says about one analysis, as JSON (the ``before``/``after`` of ``/ablate``)."""
    if task == "sentiment":
        from .tasks.sentiment import predict

        prediction = predict(result)
        return {"label": prediction.label, "probabilities": {k: round(v, 6) for k, v in prediction.probabilities.items()}}
    if task == "ner":
        from .tasks.ner import entities

        return {
            "entities": [
                {"text": e.text, "type": e.type, "score": round(e.score, 4), "start": e.start, "end": e.end}
                for e in entities(result)
            ]
        }
    if task == "qa":
        from .tasks.qa import decode

        answers, no_answer = decode(result, top_k=1)
        best = answers[0] if answers else None
        return {
            "answer": best.text if best else "",
            "score": round(best.score, 6) if best else 0.0,
            "start": best.start if best else None,
            "end": best.end if best else None,
            "no_answer": round(no_answer, 6),
        }
    reference = first_window(plain or result).hidden_states[-1]
    cosine = float(sentence_embedding(first_window(result).hidden_states[-1]) @ sentence_embedding(reference))
    return {"embedding_cosine": round(cosine, 6)}


@dataclass(frozen=True)
class Ablation:
    task: str | None
    heads: tuple[tuple[int, int], ...]
    plain: Analysis | WindowedAnalysis
    gated: Analysis | WindowedAnalysis
    before: dict
    after: dict


def ablate(text: str, model: str | None, heads: str | Iterable[Any]) -> Ablation:
    """``text`` through ``model`` with and without ``heads`` (e.g. ``"3.1, 5.11"``): two cached analyses."""
    spec = resolve(model)
    plain = backend.run(key_for(text, spec.name))
    chosen = parse_heads(heads, plain.n_layers, plain.n_heads)
    gated = backend.run(key_for(text, spec.name, HeadGate.of(chosen)))
    return Ablation(spec.task, chosen, plain, gated, task_output(plain, spec.task), task_output(gated, spec.task, plain))


# ---------------------------------------------------------------- every head alone


def _measure(task: str | None, output: Any, reference: dict) -> np.ndarray:
    """The per-row quantity whose drop is a head's importance (see the module docstring)."""
    if task == "sentiment":
        return softmax(output.logits.float().numpy(), axis=-1)[:, reference["class"]]
    if task == "ner":
        probabilities = softmax(output.logits.float().numpy(), axis=-1)  # (B, T, C)
        tokens, tags = reference["tokens"], reference["tags"]
        return probabilities[:, tokens, tags].mean(axis=-1)
    if task == "qa":
        valid = reference["valid"]
        start = output.start_logits.float().numpy()[:, : len(valid)]
        end = output.end_logits.float().numpy()[:, : len(valid)]
        start = softmax(np.where(valid, start, -np.inf), axis=-1)
        end = softmax(np.where(valid, end, -np.inf), axis=-1)
        return start[:, reference["start"]] * end[:, reference["end"]]
    embeddings = sentence_embedding(output.hidden_states[-1].float().numpy())
    return embeddings @ reference["embedding"]


def _reference(task: str | None, plain: Analysis | WindowedAnalysis) -> tuple[dict, int, float]:
    """What the sweep compares against (from the plain analysis), the batch row to copy, and the plain value."""
    if task == "sentiment":
        from .tasks.sentiment import predict

        prediction = predict(plain)
        return {"class": list(prediction.probabilities).index(prediction.label)}, 0, prediction.probabilities[prediction.label]
    if task == "ner":
        probabilities = softmax(plain.logits)
        tokens = np.flatnonzero(~plain.special_mask)
        tags = probabilities[tokens].argmax(axis=-1)
        return {"tokens": tokens, "tags": tags}, 0, float(probabilities[tokens, tags].mean())
    if task == "qa":
        from .tasks.qa import decode

        answers, _ = decode(plain, top_k=1)
        if not answers:
            raise InputError("ablate.no_answer")
        best = answers[0]
        window = plain.windows[best.window]
        valid = np.array([sid == 1 or index == 0 for index, sid in enumerate(window.sequence_ids)])
        reference = {"valid": valid, "start": best.start_token, "end": best.end_token}
        logits = window.logits
        start = softmax(np.where(valid, logits[:, 0], -np.inf))
        end = softmax(np.where(valid, logits[:, 1], -np.inf))
        return reference, best.window, float(start[best.start_token] * end[best.end_token])
    return {"embedding": sentence_embedding(plain.hidden_states[-1])}, 0, 1.0


@dataclass(frozen=True)
class Importance:
    task: str | None
    measure: str  # MEASURES[task]
    plain_value: float  # the measured quantity without any head switched off
    effect: np.ndarray  # (L, H): plain_value - value with head (l, h) off
    tokens: int
    forward_passes: int


def importance(
    text: str, model: str | None, progress: Callable[[int, int], None] | None = None, max_tokens: int = MAX_IMPORTANCE_TOKENS
) -> Importance:
    """Every head of ``model`` switched off alone on ``text``: one batched forward per layer."""
    spec = resolve(model)
    key = key_for(text, spec.name)
    plain = backend.run(key)
    window = first_window(plain)
    n_tokens = max((w.n_tokens for w in plain.windows), default=0) if isinstance(plain, WindowedAnalysis) else plain.n_tokens
    if n_tokens > max_tokens:
        raise InputError("ablate.too_long", tokens=n_tokens, limit=max_tokens)
    reference, row, _ = _reference(spec.task, plain)
    loaded = load_model(spec)
    batch = backend.preprocess(loaded, clean_input(key.text).text, clean_input(key.pair).text if key.pair is not None else None)
    n_layers, n_heads = window.n_layers, window.n_heads
    effect = np.zeros((n_layers, n_heads))
    plain_value = None
    passes = 0
    for layer in range(n_layers):
        # the first batch also carries the plain input (all gates 1): the reference, computed the same way
        gates = np.ones((n_heads + (layer == 0), n_layers, n_heads), dtype=np.float32)
        for head in range(n_heads):
            gates[head + (layer == 0), layer, head] = 0.0
        values = _measure(spec.task, backend.forward_gated(loaded, batch, gates, row), reference)
        passes += 1
        if layer == 0:
            plain_value, values = float(values[0]), values[1:]
        effect[layer] = plain_value - values
        if progress is not None:
            progress(layer + 1, n_layers)
    return Importance(spec.task, MEASURES[spec.task], float(plain_value), effect, n_tokens, passes)
