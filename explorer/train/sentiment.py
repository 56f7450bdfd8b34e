"""Sentiment recipe: binary positive/negative on the VADER movie-review snippets and tweets.

Data: movie snippets + tweets, labelled by the sign of the mean human rating,
near-neutral ones (|rating| < 0.5) dropped. A fixed 20% of the movie snippets is
held out for testing (never trained on); the Amazon snippets test cross-domain.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import cards, vader
from .common import ASSETS, Timer, TrainConfig, add_lora, config_dict, export_adapter, seed_everything, train_loop

LABELS = ["negative", "positive"]
HELDOUT_FRACTION = 0.2
SPLIT_SEED = 2014
CONFIG = TrainConfig(epochs=3, batch_size=32, learning_rate=1e-3, head_learning_rate=1e-3, max_length=64)


@dataclass(frozen=True)
class Example:
    text: str
    label: int


def labelled(snippets: list[vader.Snippet]) -> list[Example]:
    return [Example(s.text, label) for s in snippets if (label := vader.binary_label(s.rating)) is not None]


def split_movie(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    """Fixed train / held-out split of the movie snippets."""
    order = list(range(len(examples)))
    random.Random(SPLIT_SEED).shuffle(order)
    cut = int(len(order) * HELDOUT_FRACTION)
    heldout = [examples[i] for i in sorted(order[:cut])]
    train = [examples[i] for i in sorted(order[cut:])]
    return train, heldout


def datasets(folder: Path | None = None) -> dict[str, list[Example]]:
    movie = labelled(vader.read_snippets("movie", folder))
    train_movie, heldout = split_movie(movie)
    return {
        "train": train_movie + labelled(vader.read_snippets("tweets", folder)),
        "heldout_movie": heldout,
        "amazon": labelled(vader.read_snippets("amazon", folder)),
    }


def predict(model, tokenizer, texts: list[str], max_length: int = 64, batch_size: int = 64) -> np.ndarray:
    """Probabilities (N, 2) from a sequence-classification model."""
    import torch

    outputs = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(
                texts[start : start + batch_size], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
            )
            outputs.append(torch.softmax(model(**batch).logits.float(), -1).numpy())
    return np.concatenate(outputs) if outputs else np.zeros((0, 2))


def accuracy(model, tokenizer, examples: list[Example], max_length: int = 64) -> float:
    probabilities = predict(model, tokenizer, [e.text for e in examples], max_length)
    return float(np.mean(probabilities.argmax(-1) == np.array([e.label for e in examples])))


def linear_probe_baseline(train_set: list[Example], heldout: list[Example], max_length: int = 64) -> float:
    """Held-out accuracy of logistic regression on frozen, mean-pooled MiniLM embeddings."""
    import torch
    from sklearn.linear_model import LogisticRegression
    from transformers import AutoModel, AutoTokenizer

    from ..models import embedded_model_path

    base = embedded_model_path()
    tokenizer = AutoTokenizer.from_pretrained(base)
    encoder = AutoModel.from_pretrained(base).eval()

    def embed(examples: list[Example]) -> np.ndarray:
        vectors = []
        with torch.inference_mode():
            for start in range(0, len(examples), 128):
                batch = tokenizer(
                    [e.text for e in examples[start : start + 128]],
                    padding=True,
                    truncation=True,
                    max_length=max_length,
                    return_tensors="pt",
                )
                hidden = encoder(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).float()
                vectors.append(((hidden * mask).sum(1) / mask.sum(1)).numpy())
        return np.concatenate(vectors)

    probe = LogisticRegression(max_iter=2000, C=1.0).fit(embed(train_set), [e.label for e in train_set])
    return float(probe.score(embed(heldout), [e.label for e in heldout]))


INTRO = """
# Sentiment: all-MiniLM-L6-v2 + LoRA, trained by attention-explorer

Binary **positive / negative** classifier for English sentences, the offline default of the
Sentiment tab (labels `negative`, `positive`).

## Data and licence
The human-rated snippets of the VADER paper (Hutto & Gilbert, ICWSM 2014), MIT licence, from the
`vaderSentiment` 3.3.2 source archive on PyPI (`additional_resources/hutto_ICWSM_2014.tar.gz`).
Each snippet has the mean of ~20 human ratings from -4 to +4; the label is the sign of that mean and
near-neutral snippets (|rating| < 0.5) are dropped.
- Train: 80% of the movie-review snippets + all tweets.
- Test: the other 20% of the movie-review snippets (fixed split, seed 2014), never trained on;
  cross-domain: all Amazon product-review snippets.
- Baseline: logistic regression on the frozen encoder's mean-pooled embeddings (same split).

## Known limits
Short texts (64 tokens); no neutral class; movie and Twitter language, so other domains score lower
(see the Amazon number); sarcasm and negation scope are frequent errors; uncased.
"""


def train(out_dir: Path = ASSETS / "sentiment", limit: int | None = None, config: TrainConfig = CONFIG) -> dict:
    """Train, evaluate and export. ``limit`` trains on a small slice (smoke tests)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from ..models import embedded_model_path

    seed_everything(config.seed)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    data = datasets()
    train_set = data["train"]
    if limit:
        train_set = random.Random(config.seed).sample(train_set, min(limit, len(train_set)))
    base = embedded_model_path()
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(
        base,
        num_labels=2,
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
        attn_implementation="eager",
    )
    model = add_lora(model, config, head_modules=["classifier", "pooler"])
    steps_per_epoch = int(np.ceil(len(train_set) / config.batch_size))

    def batches(epoch: int):
        order = list(range(len(train_set)))
        random.Random(config.seed + epoch).shuffle(order)
        for start in range(0, len(order), config.batch_size):
            chunk = [train_set[i] for i in order[start : start + config.batch_size]]
            inputs = tokenizer(
                [e.text for e in chunk], padding=True, truncation=True, max_length=config.max_length, return_tensors="pt"
            )
            inputs["labels"] = torch.tensor([e.label for e in chunk])
            yield inputs

    with Timer() as timer:
        losses = train_loop(model, batches, steps_per_epoch, config, "sentiment")
    heldout = data["heldout_movie"] if not limit else data["heldout_movie"][:200]
    amazon = data["amazon"] if not limit else data["amazon"][:200]
    metrics = {
        "heldout_movie_accuracy": accuracy(model, tokenizer, heldout, config.max_length),
        "heldout_movie_n": len(heldout),
        "amazon_accuracy": accuracy(model, tokenizer, amazon, config.max_length),
        "amazon_n": len(amazon),
        "train_n": len(train_set),
        "train_seconds": round(timer.seconds, 1),
        "final_loss": float(np.mean(losses[-50:])),
    }
    if not limit:
        metrics["linear_probe_baseline_heldout_accuracy"] = linear_probe_baseline(train_set, heldout, config.max_length)
    export_adapter(
        model,
        out_dir,
        head_prefixes=["classifier.", "bert.pooler."],
        meta={"task": "sentiment", "labels": LABELS, "max_length": config.max_length, "train_config": config_dict(config)},
    )
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    cards.write("sentiment", out_dir, INTRO, metrics)
    if not limit:
        write_heldout_slice()
    return metrics


HELDOUT_SLICE = Path(__file__).resolve().parent.parent.parent / "tests" / "data" / "sentiment_heldout.tsv"


def write_heldout_slice(path: Path = HELDOUT_SLICE, n: int = 300) -> Path:
    """A fixed random ``n`` of the held-out movie snippets, shipped so the quality test runs offline.

    (A random sample, not the first ``n``: the source file lists positive snippets first.)
    """
    movie = [s for s in vader.read_snippets("movie") if vader.binary_label(s.rating) is not None]
    _, heldout = split_movie(labelled(movie))
    ratings = {s.text: s.rating for s in movie}
    lines = ["rating\tlabel\ttext"] + [
        f"{ratings[e.text]}\t{LABELS[e.label]}\t{e.text}" for e in random.Random(SPLIT_SEED).sample(heldout, n)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
