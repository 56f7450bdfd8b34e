"""Sentiment recipe: binary positive/negative on the VADER movie-review snippets and tweets.

Data: movie snippets + tweets, labelled by the sign of the mean human rating,
near-neutral ones (|rating| < 0.5) dropped. A fixed 20% of the movie snippets is
held out for testing (never trained on); the Amazon snippets test cross-domain.
A hand-written set of negation, contrast and hedged sentences (``tests/data/sentiment_hard.tsv``)
is scored per group through the app's own path; ``python -m explorer.train sentiment --evaluate-only``
scores the shipped model on it again without retraining.
"""

from __future__ import annotations

import json
import random
import re
import textwrap
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

    from ..models import LoadedModel, ModelSpec, embedded_model_path

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
    app_view = LoadedModel(
        ModelSpec("minilm-sentiment (training)", "embedded", task="sentiment"), tokenizer, model, tokenizer.model_max_length
    )
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
    metrics["hard_cases"] = hard_case_scores(app_view)
    export_adapter(
        model,
        out_dir,
        head_prefixes=["classifier.", "bert.pooler."],
        meta={"task": "sentiment", "labels": LABELS, "max_length": config.max_length, "train_config": config_dict(config)},
    )
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    write_hard_case_section(cards.write("sentiment", out_dir, INTRO, metrics), metrics)
    if not limit:
        write_heldout_slice()
    return metrics


TEST_DATA = Path(__file__).resolve().parent.parent.parent / "tests" / "data"
HELDOUT_SLICE = TEST_DATA / "sentiment_heldout.tsv"


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


# ---------------------------------------------------------------- negation, contrast and hedging

HARD_CASES = TEST_DATA / "sentiment_hard.tsv"
HARD_GROUPS = ("negation", "contrast", "hedged")
HARD_SECTION = "## Negation, contrast and hedging"


@dataclass(frozen=True)
class HardCase:
    group: str  # one of HARD_GROUPS
    label: str  # "negative" or "positive" (the labelling rule: tests/data/README.md)
    text: str


def read_hard_cases(path: Path = HARD_CASES) -> list[HardCase]:
    """The hand-written sentences, ``group<TAB>label<TAB>text`` under a header line."""
    cases = [HardCase(*line.split("\t")) for line in path.read_text(encoding="utf-8").splitlines()[1:] if line]
    for case in cases:
        if case.group not in HARD_GROUPS or case.label not in LABELS:
            raise ValueError(f"{path.name}: bad group or label in {case}")
    return cases


def hard_case_scores(loaded, cases: list[HardCase] | None = None) -> dict:
    """Accuracy per group (and overall) as the Sentiment tab answers: ``backend.run_loaded`` +
    ``tasks.sentiment.predict`` on a loaded model (the shipped one, or the one just trained).

    Each group also gets the accuracy on its positive and on its negative sentences apart, and
    ``mean_confidence``, the mean probability of the predicted class, right or wrong.
    """
    from ..backend import run_loaded
    from ..tasks.sentiment import predict as app_predict

    cases = read_hard_cases() if cases is None else cases
    predictions = [app_predict(run_loaded(loaded, case.text)) for case in cases]
    right = np.array([prediction.label == case.label for prediction, case in zip(predictions, cases, strict=True)])
    confidence = np.array([prediction.probabilities[prediction.label] for prediction in predictions])

    def summary(group: str | None) -> dict:
        chosen = [i for i, case in enumerate(cases) if group in (None, case.group)]
        by_label = {
            f"{label}_accuracy": float(np.mean(right[[i for i in chosen if cases[i].label == label]])) for label in LABELS
        }
        return {
            "accuracy": float(np.mean(right[chosen])),
            "n": len(chosen),
            **by_label,
            "mean_confidence": float(np.mean(confidence[chosen])),
        }

    return {**{group: summary(group) for group in HARD_GROUPS}, "overall": summary(None)}


HARD_EXAMPLES = {
    "negation": '"I did not hate it", "Not bad at all", "I expected to hate it, and I did not."',
    "contrast": '"The start is slow, but the ending is wonderful."',
    "hedged": '"It was fine, I guess.", "Not the worst, not the best, but I\'d watch it again."',
}


def _against(accuracy: float, heldout: float) -> str:
    gap = (accuracy - heldout) * 100
    if gap <= -10:
        return f"**far below** it ({gap:+.0f} points)"
    if gap < -2:
        return f"below it ({gap:+.0f} points)"
    if gap <= 2:
        return f"about the same ({gap:+.0f} points)"
    return f"above it ({gap:+.0f} points)"


def hard_case_section(metrics: dict) -> str:
    """The card's section on the hand-written hard cases, in words, from the metrics alone."""
    hard, heldout = metrics["hard_cases"], metrics["heldout_movie_accuracy"]
    names = {group: f"{group} ({HARD_EXAMPLES[group]})" for group in HARD_GROUPS} | {"overall": "all"}
    rows = "\n".join(
        f"| {names[group]} | {hard[group]['n']} | **{hard[group]['accuracy']:.1%}** "
        f"| {hard[group]['positive_accuracy']:.1%} | {hard[group]['negative_accuracy']:.1%} "
        f"| {hard[group]['mean_confidence']:.1%} |"
        for group in names
    )
    comparison = "; ".join(f"{group} {_against(hard[group]['accuracy'], heldout)}" for group in HARD_GROUPS + ("overall",))
    one_sided = [
        f"on {group} the errors are one-sided: {hard[group]['positive_accuracy']:.0%} of the positive sentences right, "
        f"{hard[group]['negative_accuracy']:.0%} of the negative ones"
        + (
            ' (a positive negation sentence negates a negative word, "I did not hate it": the model follows the word)'
            if group == "negation" and hard[group]["positive_accuracy"] < hard[group]["negative_accuracy"]
            else ""
        )
        for group in HARD_GROUPS
        if abs(hard[group]["positive_accuracy"] - hard[group]["negative_accuracy"]) >= 0.3
    ]
    asymmetry = "; ".join(one_sided) + "." if one_sided else ""
    asymmetry = asymmetry[:1].upper() + asymmetry[1:]
    overall = hard["overall"]
    if overall["mean_confidence"] - overall["accuracy"] > 0.05:
        calibration = (
            f"The model's mean confidence here ({overall['mean_confidence']:.1%}) is well above its accuracy: a "
            "probability near 100% is no sign that the model read a negation or a hedge right."
        )
    else:
        calibration = "The model's mean confidence here is close to its accuracy."
    n_group = min(hard[group]["n"] for group in HARD_GROUPS)
    discussion = textwrap.fill(
        f"Against the held-out movie accuracy ({heldout:.1%}): {comparison}. {asymmetry} With {n_group} sentences a "
        f"group, one sentence is {100 / n_group:.1f} points. {calibration} Rerun with "
        "`python -m explorer.train sentiment --evaluate-only` (no training: scores the shipped adapter, updates "
        "`metrics.json` and this section).",
        width=100,
        break_on_hyphens=False,
    )
    return f"""{HARD_SECTION}
{overall["n"]} short sentences written by hand for this project (`tests/data/sentiment_hard.tsv`, never
trained on; half positive, half negative in each group; the labelling rule, a hedged sentence's lean,
is in `tests/data/README.md`), scored as the Sentiment tab answers (`explorer.analyze` +
`explorer.tasks.sentiment.predict`). Mean confidence is the probability of the predicted class,
right or wrong.

| Group (examples) | n | Accuracy | on positive | on negative | Mean confidence |
|---|---|---|---|---|---|
{rows}

{discussion}
"""


def write_hard_case_section(card: Path, metrics: dict) -> Path:
    """Put the hard-case section before "## Base model and format" (replacing an older one) and the
    current metrics in the "## Measured scores" block; the rest of the card stays as it is."""
    text = card.read_text()
    text = re.sub(re.escape(HARD_SECTION) + r"\n.*?(?=^## )", "", text, flags=re.S | re.M)
    anchor = "## Base model and format"
    if anchor not in text:
        raise ValueError(f"{card}: no '{anchor}' section to put the hard cases before")
    text = text.replace(anchor, hard_case_section(metrics) + "\n" + anchor, 1)
    scores = "## Measured scores\n```json\n"
    start = text.index(scores) + len(scores)
    end = text.index("\n```", start)
    text = text[:start] + json.dumps(metrics, indent=2) + text[end:]
    card.write_text(text)
    return card


def evaluate_shipped() -> dict:
    """Score the shipped model (as the app loads it) on the hard cases, without retraining:
    its ``metrics.json`` gains or updates the ``hard_cases`` entry and its card the section."""
    from ..models import REGISTRY, load_model

    out_dir = Path(REGISTRY["minilm-sentiment"].adapter)
    metrics = json.loads((out_dir / "metrics.json").read_text())
    metrics["hard_cases"] = hard_case_scores(load_model("minilm-sentiment"))
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    write_hard_case_section(out_dir / "MODEL_CARD.md", metrics)
    return metrics
