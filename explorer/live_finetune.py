"""問題5 live: a sentiment classifier trained in class, in seconds, on a few typed sentences.

The chapter's exercise fine-tunes the whole BERT; on 2 CPU cores in front of a class that takes
minutes, so here the encoder stays frozen (the embedded MiniLM, ``models.DEFAULT_MODEL``) and
only a linear head — logistic regression, in torch — is trained on its pooled sentence vectors
(mean over the tokens, as the model was trained to be used). ``train`` yields the loss after
every epoch so that the page can draw the curve while it trains.

Input: one sentence a line, marked ``+`` (positive) or ``-`` (negative) at its start.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .messages import Msg
from .views import PlotlySpec

LABELS = ("negative", "positive")
MARKS = {"+": 1, "＋": 1, "-": 0, "－": 0, "−": 0}  # ASCII, full-width (Japanese keyboards) and the minus sign
MIN_PER_CLASS = 2
MAX_SENTENCES = 40
MAX_CHARS = 300  # per sentence
EPOCHS = 60
# Adam moves every weight by about the learning rate per step, so a logit moves by about lr x D (the
# features are standardised): at lr 0.1 and D = 384 one step already separated the class's sentences
# (loss 1e-6 at epoch 1, a flat curve). lr = 0.4 / D moves a logit about 0.3 a step: on MiniLM
# (lr ~1e-3) the loss falls from 0.66 to 0.01 over the 60 epochs, so the class sees it learn.
STEP_PER_EPOCH = 0.4


def parse(text: str) -> tuple[list[str], list[int]]:
    """``(sentences, labels)`` of the marked lines of ``text``; blank lines are skipped.

    Raises ``InputError`` for a line without a mark, too many lines, or too few per class."""
    sentences, labels = [], []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        mark, sentence = line[0], line[1:].strip()
        if mark not in MARKS or not sentence:
            raise InputError("finetune.no_mark", line=number)
        sentences.append(sentence[:MAX_CHARS])
        labels.append(MARKS[mark])
    if len(sentences) > MAX_SENTENCES:
        raise InputError("finetune.too_many", most=MAX_SENTENCES)
    validate(labels)
    return sentences, labels


def validate(labels: Sequence[int]) -> None:
    """At least ``MIN_PER_CLASS`` sentences of each class (one class only cannot be learned)."""
    counts = [sum(1 for label in labels if label == kind) for kind in (0, 1)]
    if min(counts) < MIN_PER_CLASS:
        raise InputError("finetune.too_few", least=MIN_PER_CLASS, negative=counts[0], positive=counts[1])


@dataclass(frozen=True)
class Head:
    """A trained linear head: standardise the features with the training set's mean and spread, then
    ``w·x + b``; ``probabilities`` gives P(negative), P(positive) per row."""

    mean: np.ndarray
    scale: np.ndarray
    weight: np.ndarray
    bias: float

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        z = ((np.asarray(features, dtype=np.float64) - self.mean) / self.scale) @ self.weight + self.bias
        positive = 1.0 / (1.0 + np.exp(-z))
        return np.stack([1.0 - positive, positive], axis=1)


@dataclass(frozen=True)
class Epoch:
    epoch: int  # 1-based
    loss: float  # mean binary cross-entropy on the training sentences
    accuracy: float  # on the training sentences
    head: Head


def train(
    features: np.ndarray,
    labels: Sequence[int],
    epochs: int = EPOCHS,
    lr: float | None = None,
    weight_decay: float = 1e-2,
    seed: int = 0,
) -> Iterator[Epoch]:
    """Logistic regression on ``features`` ``(N, D)`` by full-batch Adam; one ``Epoch`` per step.

    Deterministic for a seed (full batch, no shuffling; the seed draws the initial weights)."""
    import torch

    labels = list(labels)
    validate(labels)
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or len(x) != len(labels):
        raise ValueError(f"features {x.shape} do not match {len(labels)} labels")
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    inputs = torch.tensor((x - mean) / scale, dtype=torch.float32)
    target = torch.tensor(labels, dtype=torch.float32)
    lr = STEP_PER_EPOCH / x.shape[1] if lr is None else lr
    generator = torch.Generator().manual_seed(seed)
    weight = (torch.randn(x.shape[1], generator=generator) * 0.01).requires_grad_()
    bias = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.Adam([weight, bias], lr=lr, weight_decay=weight_decay)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    for epoch in range(1, epochs + 1):
        optimizer.zero_grad()
        logits = inputs @ weight + bias
        loss = loss_fn(logits, target)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            logits = inputs @ weight + bias
            accuracy = float(((logits > 0).float() == target).float().mean())
            current = float(loss_fn(logits, target))
        head = Head(mean, scale, weight.detach().double().numpy().copy(), float(bias.detach()[0]))
        yield Epoch(epoch, current, accuracy, head)


def encode(sentences: Sequence[str], model_name: str | None = None) -> np.ndarray:
    """Pooled sentence vectors ``(N, D)`` of the frozen encoder: the mean over each sentence's tokens."""
    import torch

    from .models import DEFAULT_MODEL, load_model

    loaded = load_model(model_name or DEFAULT_MODEL)
    batch = loaded.tokenizer(list(sentences), padding=True, truncation=True, max_length=128, return_tensors="pt")
    batch = {key: value.to(loaded.device) for key, value in batch.items()}
    with torch.no_grad():
        hidden = loaded.model(**batch)[0]
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
    return pooled.float().cpu().numpy().astype(np.float64)


def curve_title(losses: Sequence[float], epochs: int) -> Msg:
    """While training, the epoch it is at; once done, the final loss."""
    if len(losses) >= epochs:
        return Msg("finetune.curve_done", epochs=epochs, loss=f"{losses[-1]:.3f}")
    return Msg("finetune.curve_title", epoch=len(losses), epochs=epochs)


def loss_curve(losses: Sequence[float], accuracies: Sequence[float], epochs: int = EPOCHS) -> PlotlySpec:
    """The training curve as a plotly figure (JSON): loss and training accuracy per epoch."""
    steps = list(range(1, len(losses) + 1))
    return PlotlySpec(
        data=[
            dict(type="scatter", mode="lines", x=steps, y=list(losses), name=Msg("finetune.loss"), line=dict(color="#08519c")),
            dict(
                type="scatter",
                mode="lines",
                x=steps,
                y=list(accuracies),
                name=Msg("finetune.accuracy"),
                yaxis="y2",
                line=dict(color="#d95f02", dash="dot"),
            ),
        ],
        layout=dict(
            title=dict(text=curve_title(losses, epochs), font=dict(size=18)),
            height=320,
            margin=dict(l=60, r=60, t=60, b=50),
            xaxis=dict(title=dict(text=Msg("finetune.epoch")), range=[1, epochs]),
            yaxis=dict(title=dict(text=Msg("finetune.loss")), rangemode="tozero", tickformat=".2f"),
            yaxis2=dict(title=dict(text=Msg("finetune.accuracy")), overlaying="y", side="right", range=[0, 1.05]),
            legend=dict(x=0.5, y=0.98, xanchor="center", yanchor="top", orientation="h", bgcolor="rgba(255,255,255,0.8)"),
            paper_bgcolor="white",
            plot_bgcolor="white",
        ),
    )
