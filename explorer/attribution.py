"""Which input tokens drive a prediction, six ways, and how faithful each explanation is.

Attention weights are not explanations on their own (Jain & Wallace 2019; Kobayashi et al.
2020). This module puts six token-importance methods side by side for one prediction of a
task model, and measures, for that prediction, how much the model's answer depends on the
tokens each method ranks first (ERASER, DeYoung et al. 2020).

What is explained (a ``Subject``) is the probability of the model's own prediction:

- sentiment: the predicted class (or a chosen one), ``softmax(logits)[c]``;
- NER: the predicted tag of one token (the first entity's first token by default);
- QA: the best answer span of the first window, ``p_start[s] * p_end[e]``, the softmax
  restricted to the context and [CLS] as ``tasks.qa`` decodes it.

Methods (``METHODS``), each one score per token, larger = more important to the prediction:

- ``attention``: the last layer's attention from the prediction's query tokens ([CLS]; the
  entity token; the answer tokens), mean of heads;
- ``rollout``: attention rollout (Abnar & Zuidema 2020) from the same queries;
- ``value_norm``: ``||sum_h alpha^h_qj f^h(x_j)||`` of the last layer (Kobayashi et al. 2020),
  from value vectors the ``interventions.recorded_values`` hooks read during a forward pass;
- ``grad_x_input``: gradient of the probability times the word embeddings, summed over the
  hidden dimension (signed);
- ``integrated_gradients``: captum's ``IntegratedGradients`` along the word-embedding layer's output
  (what ``LayerIntegratedGradients`` on that layer computes, without hooks on the shared module),
  baseline = [PAD] at every non-special position (specials kept), ``n_steps`` (default 32) in
  one batch, with its completeness ``delta = sum(attributions) - (f(x) - f(baseline))``;
- ``occlusion``: leave one word out (its pieces replaced by [MASK]), all words in one batch;
  score = ``f(x) - f(x without the word)``.

Faithfulness (``faithfulness``): rank the non-special tokens by each method's score and
"remove" them, i.e. replace them by [MASK] (keeping positions, so a token or answer target
stays defined). Comprehensiveness (AOPC) = mean over ERASER's bins (1, 5, 10, 20, 50 %) of
``f(x) - f(x without the top k%)``: high = the method found what the model needs.
Sufficiency = the mean of ``f(x) - f(only the top k%)``: low = those tokens alone suffice.
The deletion curve removes 0, 10, ..., 100 % of the tokens. A seeded random ranking is the
reference every method should beat. All re-runs go through the model in batches.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import backend
from .ablation import first_window, key_for
from .analysis import Analysis, check_between, check_text
from .errors import ExplorerError, InputError
from .interventions import encoder_layers, output_projection, recorded_values
from .models import LoadedModel, load_model, resolve
from .norms import head_value_vectors, mixed_norms
from .tasks import continues_word, softmax
from .tasks.attribution import attention_rollout

METHODS = ("attention", "rollout", "value_norm", "grad_x_input", "integrated_gradients", "occlusion")
COSTLY = frozenset({"integrated_gradients", "occlusion"})  # and the faithfulness table: queue-limited
MAX_COSTLY_TOKENS = 128  # IG runs n_steps copies, occlusion one per word, faithfulness ~20 per method
DEFAULT_STEPS = 32
MAX_STEPS = 128
CURVE_FRACTIONS = tuple(round(0.1 * i, 1) for i in range(11))
ERASER_BINS = (0.01, 0.05, 0.10, 0.20, 0.50)
REFERENCE = "random"  # the seeded random ranking of the faithfulness table
MAX_ANSWERS = 3  # QA targets: "answer", "answer:1", "answer:2"
BATCH_ROWS = 32  # copies per forward pass in the batched re-runs
GRADIENT_BUDGET = 2**24  # rows x tokens x hidden x layers of one integrated-gradients pass (~1 GB kept)


# ---------------------------------------------------------------- what is explained


@dataclass(frozen=True, eq=False)
class Subject:
    """One input of one task model and the output whose probability the methods attribute."""

    task: str
    loaded: LoadedModel
    analysis: Analysis  # the plain forward pass (the first window of a long QA context)
    inputs: dict[str, Any]  # the model inputs of that window, (1, T) tensors
    kind: str  # "class", "token" or "answer"
    label: str  # the class, the tag, or the answer text
    index: int = 0  # class or tag index
    position: int = 0  # the token (NER)
    span: tuple[int, int] = (0, 0)  # the answer's first and last token (QA)
    keep: np.ndarray | None = None  # QA: tokens inside the softmax (context and [CLS])

    @property
    def queries(self) -> tuple[int, ...]:
        """The rows whose attention the attention-based methods read."""
        if self.kind == "token":
            return (self.position,)
        if self.kind == "answer":
            return tuple(range(self.span[0], self.span[1] + 1))
        return (0,)

    @property
    def candidates(self) -> np.ndarray:
        """Token indices a method ranks and the faithfulness test removes: every non-special token."""
        return np.flatnonzero(~self.analysis.special_mask)

    @property
    def token_ids(self) -> np.ndarray:
        return self.inputs["input_ids"][0].cpu().numpy()

    @property
    def probability(self) -> float:
        """f(x): the explained probability on the unchanged input (from the cached analysis)."""
        logits = self.analysis.logits
        if self.kind == "class":
            return float(softmax(logits)[self.index])
        if self.kind == "token":
            return float(softmax(logits[self.position])[self.index])
        start, end = (softmax(np.where(self.keep, logits[:, i], -np.inf)) for i in (0, 1))
        return float(start[self.span[0]] * end[self.span[1]])

    def probabilities(self, output: Any) -> Any:
        """The explained probability for every row of a model output, ``(B,)`` (torch, differentiable)."""
        import torch

        if self.kind == "class":
            return torch.softmax(output.logits, dim=-1)[:, self.index]
        if self.kind == "token":
            return torch.softmax(output.logits[:, self.position], dim=-1)[:, self.index]
        keep = torch.as_tensor(self.keep, device=output.start_logits.device)
        start = torch.softmax(output.start_logits.masked_fill(~keep, float("-inf")), dim=-1)
        end = torch.softmax(output.end_logits.masked_fill(~keep, float("-inf")), dim=-1)
        return start[:, self.span[0]] * end[:, self.span[1]]

    def describe(self) -> dict:
        """The prediction as JSON: task, what is explained, and its probability f(x)."""
        found: dict[str, Any] = {
            "task": self.task,
            "kind": self.kind,
            "label": self.label,
            "probability": round(self.probability, 6),
        }
        if self.kind == "token":
            found["token"] = self.position
            found["text"] = self.analysis.token_text(self.position)
        if self.kind == "answer":
            found["tokens"] = list(self.span)
            found["rank"] = self.index
        return found


def _class_index(labels: Sequence[str], target: Any, logits: np.ndarray) -> int:
    wanted = str(target if target is not None else "").strip()
    if not wanted:
        return int(np.argmax(logits))
    lowered = [label.lower() for label in labels]
    if wanted.lower() in lowered:
        return lowered.index(wanted.lower())
    if wanted.isdigit() and int(wanted) < len(labels):
        return int(wanted)
    raise InputError("attr.bad_class", target=wanted[:30], labels=", ".join(labels))


def _entity_position(analysis: Analysis, target: Any) -> int:
    wanted = str(target if target is not None else "").strip()
    tags = softmax(analysis.logits).argmax(axis=-1)
    if not wanted:
        outside = [i for i, label in enumerate(analysis.labels) if label.upper() == "O"]
        for position in np.flatnonzero(~analysis.special_mask):
            if int(tags[position]) not in outside:
                return int(position)
        return int(np.flatnonzero(~analysis.special_mask)[0])
    if not wanted.lstrip("-").isdigit():
        raise InputError("attr.bad_token", target=wanted[:30], last=analysis.n_tokens - 2)
    position = int(wanted)
    if not 0 <= position < analysis.n_tokens or analysis.special_mask[position]:
        raise InputError("attr.bad_token", target=wanted[:30], last=analysis.n_tokens - 2)
    return position


def subject_for(text: Any, model: str | None, target: Any = "") -> Subject:
    """Resolve ``target`` (a class label, an entity token index, "answer"; empty = the model's own
    prediction) for ``text`` on ``model``. QA reads the question from the first line of ``text``."""
    text = check_text(text, "text")
    spec = resolve(model)
    if spec.task not in ("sentiment", "ner", "qa"):
        raise InputError("attr.needs_task", model=spec.name)
    analysis = first_window(backend.run(key_for(text, spec.name)))
    loaded = load_model(spec)
    batch = backend.preprocess(loaded, analysis.text, analysis.pair)
    inputs = {name: value[:1] for name, value in batch.inputs.items()}
    if tuple(batch.windows[0].tokens) != analysis.tokens:  # the analysis and the re-runs must see one input
        raise RuntimeError("attribution input differs from the analysis' tokens")
    if spec.task == "sentiment":
        index = _class_index(analysis.labels, target, analysis.logits)
        return Subject("sentiment", loaded, analysis, inputs, "class", analysis.labels[index], index=index)
    if spec.task == "ner":
        position = _entity_position(analysis, target)
        index = int(softmax(analysis.logits[position]).argmax())
        return Subject("ner", loaded, analysis, inputs, "token", analysis.labels[index], index=index, position=position)
    rank = answer_rank(target)
    spans = answer_spans(analysis, top_k=rank + 1)
    if not spans:
        raise InputError("attr.no_answer")
    if rank >= len(spans):
        raise InputError("attr.qa_target", target=str(target)[:30])
    start, end, answer = spans[rank]
    keep = np.array([seq == 1 for seq in analysis.sequence_ids])
    keep[0] = True
    return Subject("qa", loaded, analysis, inputs, "answer", answer, index=rank, span=(start, end), keep=keep)


def answer_rank(target: Any) -> int:
    """QA targets: "answer" (the best span) or "answer:k" (the k-th next best, k >= 1)."""
    name, _, rank = str(target or "answer").strip().lower().partition(":")
    if name != "answer" or (rank and not (rank.isdigit() and 0 < int(rank) < MAX_ANSWERS)):
        raise InputError("attr.qa_target", target=str(target)[:30])
    return int(rank or 0)


def answer_spans(analysis: Analysis, top_k: int = MAX_ANSWERS) -> list[tuple[int, int, str]]:
    """The first window's best spans by ``p_start * p_end`` (``tasks.qa``'s rule, pieces as they are):
    ``(first token, last token, text)``."""
    from .tasks.qa import Window, window_candidates

    context = tuple(span if seq == 1 else None for span, seq in zip(analysis.offsets, analysis.sequence_ids, strict=True))
    window = Window(analysis.logits[:, 0], analysis.logits[:, 1], context, analysis.tokens)
    candidates, _ = window_candidates(window, top_k=top_k)
    pair = analysis.pair or ""
    return [(start, end, pair[context[start][0] : context[end][1]]) for _, start, end in candidates]


# ---------------------------------------------------------------- batched re-runs


def _extra_inputs(subject: Subject, rows: int) -> dict[str, Any]:
    return {name: value.expand(rows, -1) for name, value in subject.inputs.items() if name != "input_ids"}


def probabilities_of(subject: Subject, rows: np.ndarray, batch_rows: int = BATCH_ROWS) -> np.ndarray:
    """f for every row of token ids ``(B, T)`` (same length as the input), in batches: ``(B,)``."""
    import torch

    found = []
    device = subject.inputs["input_ids"].device
    with torch.inference_mode():
        for start in range(0, len(rows), batch_rows):
            ids = torch.as_tensor(rows[start : start + batch_rows], device=device)
            output = subject.loaded.model(input_ids=ids, **_extra_inputs(subject, len(ids)))
            found.append(subject.probabilities(output).float().cpu().numpy())
    return np.concatenate(found) if found else np.zeros(0)


def replacement_id(subject: Subject) -> int:
    """What "removed" tokens become: [MASK], or [UNK]/[PAD] for a tokenizer without one."""
    tokenizer = subject.loaded.tokenizer
    for name in ("mask_token_id", "unk_token_id", "pad_token_id"):
        value = getattr(tokenizer, name, None)
        if value is not None:
            return int(value)
    return 0


def word_groups(subject: Subject) -> list[list[int]]:
    """Non-special token indices grouped into words (a token and the ``##`` pieces after it)."""
    groups: list[list[int]] = []
    for index in subject.candidates:
        if groups and groups[-1][-1] == index - 1 and continues_word(subject.analysis.tokens[index]):
            groups[-1].append(int(index))
        else:
            groups.append([int(index)])
    return groups


# ---------------------------------------------------------------- the methods


@dataclass(frozen=True)
class Attribution:
    """One method's scores for one prediction (one per token, special tokens included)."""

    method: str
    subject: Subject
    scores: np.ndarray
    seconds: float
    extra: dict = field(default_factory=dict)  # integrated gradients: delta, f_x, f_baseline, n_steps

    def api(self) -> dict:
        found = {
            "method": self.method,
            "model": self.subject.analysis.model_name,
            "tokens": list(self.subject.analysis.tokens),
            "scores": [round(float(score), 6) for score in self.scores],
            "prediction": self.subject.describe(),
        }
        found.update(self.extra)
        return found


def _attention(subject: Subject, n_steps: int) -> tuple[np.ndarray, dict]:
    last = subject.analysis.attentions[-1].astype(np.float64).mean(axis=0)
    return last[list(subject.queries)].mean(axis=0), {}


def _rollout(subject: Subject, n_steps: int) -> tuple[np.ndarray, dict]:
    return attention_rollout(subject.analysis.attentions)[list(subject.queries)].mean(axis=0), {}


def _value_norm(subject: Subject, n_steps: int) -> tuple[np.ndarray, dict]:
    import torch

    model = subject.loaded.model
    with torch.inference_mode(), recorded_values(model) as values:
        model(**subject.inputs)
    last = len(encoder_layers(model)) - 1
    w_o = output_projection(encoder_layers(model)[last]).weight.detach().float().cpu().numpy()
    vectors = head_value_vectors(values[last][0].float().cpu().numpy(), w_o, int(model.config.num_attention_heads))
    rows = subject.analysis.attentions[-1]
    return np.mean([mixed_norms(rows[:, query], vectors) for query in subject.queries], axis=0), {}


def _grad_x_input(subject: Subject, n_steps: int) -> tuple[np.ndarray, dict]:
    import torch

    model = subject.loaded.model
    with torch.enable_grad():
        embeddings = model.get_input_embeddings()(subject.inputs["input_ids"]).detach().requires_grad_(True)
        value = subject.probabilities(model(inputs_embeds=embeddings, **_extra_inputs(subject, 1)))[0]
        (gradient,) = torch.autograd.grad(value, embeddings)
    return (gradient * embeddings).sum(dim=-1)[0].detach().double().cpu().numpy(), {}


def _integrated_gradients(subject: Subject, n_steps: int) -> tuple[np.ndarray, dict]:
    """captum's ``IntegratedGradients`` over the word-embedding layer's output, the path from the
    baseline's embeddings to the input's: what ``LayerIntegratedGradients`` on that layer computes,
    without its hooks on the shared embedding module (they would catch other requests' forward passes)."""
    import torch

    try:
        from captum.attr import IntegratedGradients
    except ImportError:  # an install from before captum was a requirement
        raise ExplorerError("attr.no_captum") from None

    model = subject.loaded.model
    names = [name for name in subject.inputs if name != "input_ids"]

    def probability(embeddings, *extra):
        return subject.probabilities(model(inputs_embeds=embeddings, **dict(zip(names, extra, strict=True))))

    ids = subject.inputs["input_ids"]
    pad = subject.loaded.tokenizer.pad_token_id
    special = torch.tensor(subject.analysis.special_mask, device=ids.device)[None]
    baseline_ids = torch.where(special, ids, torch.full_like(ids, pad if pad is not None else replacement_id(subject)))
    extra = tuple(subject.inputs[name] for name in names)
    with torch.no_grad():
        embed = model.get_input_embeddings()
        inputs, baseline = embed(ids), embed(baseline_ids)
    with torch.enable_grad():
        attributions, delta = IntegratedGradients(probability).attribute(
            inputs,
            baselines=baseline,
            additional_forward_args=extra,
            n_steps=n_steps,
            internal_batch_size=gradient_rows(model, int(ids.shape[1]), n_steps),
            return_convergence_delta=True,
        )
    with torch.inference_mode():
        f_baseline = float(probability(baseline, *extra)[0])
    return attributions.sum(dim=-1)[0].detach().double().cpu().numpy(), {
        "delta": round(float(delta[0]), 6),
        "f_x": round(subject.probability, 6),
        "f_baseline": round(f_baseline, 6),
        "n_steps": n_steps,
    }


def gradient_rows(model: Any, n_tokens: int, n_steps: int) -> int:
    """How many interpolation steps go through one forward + backward pass: all of them for MiniLM at
    128 tokens, fewer for bigger models or inputs, so the activations kept for the backward pass stay
    near a gigabyte (``GRADIENT_BUDGET`` tokens x hidden units x layers)."""
    config = model.config
    size = n_tokens * int(config.hidden_size) * int(config.num_hidden_layers)
    return max(1, min(n_steps, GRADIENT_BUDGET // max(1, size)))


def _occlusion(subject: Subject, n_steps: int) -> tuple[np.ndarray, dict]:
    groups = word_groups(subject)
    rows = np.repeat(subject.token_ids[None], len(groups), axis=0)
    for row, group in enumerate(groups):
        rows[row, group] = replacement_id(subject)
    dropped = subject.probability - probabilities_of(subject, rows)
    scores = np.zeros(subject.analysis.n_tokens)
    for group, drop in zip(groups, dropped, strict=True):
        scores[group] = drop
    return scores, {}


COMPUTE: dict[str, Callable[[Subject, int], tuple[np.ndarray, dict]]] = {
    "attention": _attention,
    "rollout": _rollout,
    "value_norm": _value_norm,
    "grad_x_input": _grad_x_input,
    "integrated_gradients": _integrated_gradients,
    "occlusion": _occlusion,
}


def check_method(method: Any) -> str:
    name = str(method or "").strip().lower()
    if name not in METHODS:
        raise InputError("attr.bad_method", method=str(method)[:30], methods=", ".join(METHODS))
    return name


def check_length(subject: Subject) -> None:
    """Costly methods refuse inputs longer than ``MAX_COSTLY_TOKENS`` (a public Space's fairness)."""
    if subject.analysis.n_tokens > MAX_COSTLY_TOKENS:
        raise InputError("attr.too_long", tokens=subject.analysis.n_tokens, limit=MAX_COSTLY_TOKENS)


def attribute_subject(subject: Subject, method: str, n_steps: int = DEFAULT_STEPS) -> Attribution:
    method = check_method(method)
    if method in COSTLY:
        check_length(subject)
    started = time.perf_counter()
    scores, extra = COMPUTE[method](subject, check_between(n_steps, 2, MAX_STEPS, "steps"))
    return Attribution(method, subject, np.asarray(scores, dtype=np.float64), time.perf_counter() - started, extra)


def attribute(
    text: str, model: str | None = None, method: str = "integrated_gradients", target: Any = "", n_steps: int = DEFAULT_STEPS
) -> Attribution:
    """Token importance for ``model``'s prediction on ``text`` by one method (module docstring)."""
    return attribute_subject(subject_for(text, model, target), method, n_steps)


# ---------------------------------------------------------------- faithfulness (ERASER)


@dataclass(frozen=True)
class Faithfulness:
    """Per method: comprehensiveness (AOPC), sufficiency and the deletion curve; ``order`` best first."""

    subject: Subject
    attributions: dict[str, Attribution]
    comprehensiveness: dict[str, float]
    sufficiency: dict[str, float]
    curves: dict[str, list[tuple[float, int, float]]]  # (fraction, tokens removed, probability)
    seconds: float

    @property
    def order(self) -> list[str]:
        """Methods by comprehensiveness, highest first (the random reference included)."""
        return sorted(self.comprehensiveness, key=lambda name: -self.comprehensiveness[name])

    def api(self) -> dict:
        return {
            "model": self.subject.analysis.model_name,
            "prediction": self.subject.describe(),
            "removal": "mask",
            "bins": list(ERASER_BINS),
            "methods": {
                name: {
                    "aopc_comprehensiveness": round(self.comprehensiveness[name], 6),
                    "sufficiency": round(self.sufficiency[name], 6),
                    "curve": [{"fraction": f, "removed": k, "probability": round(p, 6)} for f, k, p in self.curves[name]],
                }
                for name in self.order
            },
            "seconds": round(self.seconds, 3),
        }


def ranking(scores: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Candidate token indices by score, highest first (ties: earlier token first)."""
    return candidates[np.argsort(-scores[candidates], kind="stable")]


def random_ranking(candidates: np.ndarray, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).permutation(candidates)


def faithfulness_of(subject: Subject, rankings: dict[str, np.ndarray]) -> tuple[dict, dict, dict]:
    """Comprehensiveness, sufficiency and deletion curve of each ranking, every re-run batched once."""
    ids, replacement = subject.token_ids, replacement_id(subject)
    candidates = subject.candidates
    n = len(candidates)
    curve_counts = [math.ceil(round(fraction * n, 6)) for fraction in CURVE_FRACTIONS]  # as the bins count: 10% of 14 = 2
    bin_counts = [min(n, max(1, math.ceil(fraction * n))) for fraction in ERASER_BINS]
    rows: dict[bytes, np.ndarray] = {}

    def row(removed: np.ndarray) -> bytes:
        changed = ids.copy()
        changed[removed] = replacement
        rows.setdefault(changed.tobytes(), changed)
        return changed.tobytes()

    plan = {}
    for name, order in rankings.items():
        plan[name] = (
            [row(order[:k]) for k in curve_counts],
            [row(order[:k]) for k in bin_counts],
            [row(np.setdiff1d(candidates, order[:k])) for k in bin_counts],
        )
    keys = list(rows)
    found = dict(zip(keys, probabilities_of(subject, np.stack([rows[key] for key in keys])), strict=True))
    original = subject.probability
    comprehensiveness, sufficiency, curves = {}, {}, {}
    for name, (curve, removed, kept) in plan.items():
        comprehensiveness[name] = float(np.mean([original - found[key] for key in removed]))
        sufficiency[name] = float(np.mean([original - found[key] for key in kept]))
        curves[name] = [
            (fraction, k, float(found[key])) for fraction, k, key in zip(CURVE_FRACTIONS, curve_counts, curve, strict=True)
        ]
    return comprehensiveness, sufficiency, curves


def faithfulness(
    text: str,
    model: str | None = None,
    target: Any = "",
    n_steps: int = DEFAULT_STEPS,
    methods: Sequence[str] = METHODS,
    progress: Callable[[float, str], None] | None = None,
) -> Faithfulness:
    """Every method's attribution for one prediction and how faithful it is (module docstring)."""
    started = time.perf_counter()
    subject = subject_for(text, model, target)
    check_length(subject)
    attributions = {}
    for done, method in enumerate(methods):
        if progress:
            progress(done / (len(methods) + 1), method)
        attributions[method] = attribute_subject(subject, method, n_steps)
    if progress:
        progress(len(methods) / (len(methods) + 1), "faithfulness")
    candidates = subject.candidates
    rankings = {name: ranking(found.scores, candidates) for name, found in attributions.items()}
    rankings[REFERENCE] = random_ranking(candidates)
    comprehensiveness, sufficiency, curves = faithfulness_of(subject, rankings)
    return Faithfulness(subject, attributions, comprehensiveness, sufficiency, curves, time.perf_counter() - started)
