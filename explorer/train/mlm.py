"""Recipe: a masked-LM head on the frozen embedded encoder (``explorer.mlm_head``), chapter 3.6.

Data: the prose paragraphs (``<p>``) of the Python 3.11 documentation as Debian packages it
(``apt-get install python3.11-doc``; PSF License Version 2), split into sentences; documents
(HTML files) are split into training and held-out by a hash of their path, never sentences.

BERT's recipe with static masks (as the original BERT data pipeline, one draw per sentence): 15 %
of the non-special tokens chosen; of those 80 % -> [MASK], 10 % -> a random token, 10 % unchanged;
the loss only on the chosen positions. The encoder is frozen, so its hidden states at the chosen
positions are computed once and the head trains on them (dense, LayerNorm and the output bias; the
decoder is the encoder's own input embeddings, tied). A short sweep on a slice picks the layer.

Evaluation on held-out documents: 15 % of non-special tokens replaced by [MASK] (seeded), top-1
and top-5 accuracy against a unigram baseline (the most frequent training tokens).
"""

from __future__ import annotations

import hashlib
import html.parser
import json
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np

from ..models.catalog import DEFAULT_MODEL, MINILM_SHA256

DOCS = Path("/usr/share/doc/python3.11-doc/html")
SEED = 13
MAX_LENGTH = 64
TRAIN_SENTENCES = 40_000
HELDOUT_SENTENCES = 2_000
SWEEP_SENTENCES = 4_000
SWEEP_EPOCHS = 3  # enough to rank the layers, cheap: the sweep fits one head per layer
EPOCHS = 8
BATCH = 512
LEARNING_RATE = 5e-3
HELDOUT_EVERY = 10  # documents whose path hash is 0 mod 10 are held out


class Paragraphs(html.parser.HTMLParser):
    """The text of every <p> outside code blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.code = 0
        self.current: list[str] = []
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "p":
            self.depth += 1
        elif tag in ("pre", "code", "script", "style"):
            self.code += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "p" and self.depth:
            self.depth -= 1
            if not self.depth:
                self.found.append(" ".join("".join(self.current).split()))
                self.current = []
        elif tag in ("pre", "code", "script", "style") and self.code:
            self.code -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.current.append(data if not self.code else " CODE ")


SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def sentences_of(paragraph: str) -> list[str]:
    """Sentences of plain prose: 6 to 50 words, mostly letters, no inline code left."""
    kept = []
    for sentence in SENTENCE_END.split(paragraph):
        words = sentence.split()
        letters = sum(ch.isalpha() or ch.isspace() for ch in sentence)
        if 6 <= len(words) <= 50 and "CODE" not in sentence and letters >= 0.85 * len(sentence):
            kept.append(sentence)
    return kept


def corpus(folder: Path = DOCS) -> dict[str, list[str]]:
    """``{"train": [...], "heldout": [...]}`` sentences, split by document; deterministic."""
    if not folder.is_dir():
        raise SystemExit(f"{folder} is missing: the recipe reads Debian's Python documentation (apt-get install python3.11-doc)")
    split: dict[str, list[str]] = {"train": [], "heldout": []}
    for path in sorted(folder.rglob("*.html")):
        relative = str(path.relative_to(folder))
        if relative.startswith(("_", "genindex", "py-modindex", "search")):
            continue
        parser = Paragraphs()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        held = int(hashlib.sha1(relative.encode()).hexdigest(), 16) % HELDOUT_EVERY == 0
        for paragraph in parser.found:
            split["heldout" if held else "train"].extend(sentences_of(paragraph))
    return split


def bert_masking(ids: np.ndarray, special: np.ndarray, vocab_size: int, mask_id: int, rng: np.random.Generator):
    """One static draw of BERT's recipe: (input ids, chosen positions)."""
    chosen = (rng.random(ids.shape) < 0.15) & ~special
    roll = rng.random(ids.shape)
    inputs = ids.copy()
    inputs[chosen & (roll < 0.8)] = mask_id
    random_rows = chosen & (roll >= 0.8) & (roll < 0.9)
    inputs[random_rows] = rng.integers(0, vocab_size, size=int(random_rows.sum()))
    return inputs, chosen


def features(loaded, sentences: list[str], layers: list[int], seed: int, eval_mode: bool = False, batch: int = 64):
    """Hidden states at the chosen positions for each of ``layers`` and the true token ids.

    Training draws BERT's 80/10/10; evaluation (``eval_mode``) replaces every chosen token by [MASK]."""
    import torch

    tokenizer, model = loaded.tokenizer, loaded.model
    rng = np.random.default_rng(seed)
    found: dict[int, list[np.ndarray]] = {layer: [] for layer in layers}
    targets: list[np.ndarray] = []
    for start in range(0, len(sentences), batch):
        encoded = tokenizer(
            sentences[start : start + batch],
            truncation=True,
            max_length=MAX_LENGTH,
            padding=True,
            return_tensors="np",
            return_special_tokens_mask=True,
        )
        ids = encoded["input_ids"]
        special = encoded["special_tokens_mask"].astype(bool) | (encoded["attention_mask"] == 0)
        if eval_mode:
            chosen = (rng.random(ids.shape) < 0.15) & ~special
            inputs = np.where(chosen, tokenizer.mask_token_id, ids)
        else:
            inputs, chosen = bert_masking(ids, special, tokenizer.vocab_size, tokenizer.mask_token_id, rng)
        with torch.inference_mode():
            output = model(
                input_ids=torch.as_tensor(inputs),
                attention_mask=torch.as_tensor(encoded["attention_mask"]),
                output_hidden_states=True,
            )
        where = torch.as_tensor(chosen)
        for layer in layers:
            found[layer].append(output.hidden_states[layer][where].numpy().astype(np.float32))
        targets.append(ids[chosen])
    return {layer: np.concatenate(rows) for layer, rows in found.items()}, np.concatenate(targets)


def fit_head(hidden: np.ndarray, targets: np.ndarray, embeddings, layer: int, epochs: int, seed: int, eps: float):
    import torch

    from ..mlm_head import build_head

    torch.manual_seed(seed)
    head = build_head(hidden.shape[1], embeddings.shape[0], layer, eps).tie(embeddings)
    optimizer = torch.optim.AdamW([p for p in head.parameters()], lr=LEARNING_RATE, weight_decay=0.01)
    steps = max(1, epochs * int(np.ceil(len(targets) / BATCH)))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: max(0.0, 1 - step / steps))
    order = np.random.default_rng(seed)
    x_all, y_all = torch.as_tensor(hidden), torch.as_tensor(targets, dtype=torch.long)
    losses = []
    head.train()
    for _ in range(epochs):
        for batch in np.array_split(order.permutation(len(targets)), max(1, int(np.ceil(len(targets) / BATCH)))):
            loss = torch.nn.functional.cross_entropy(head(x_all[batch]), y_all[batch])
            loss.backward()
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            losses.append(float(loss.detach()))
    return head.eval(), losses


def accuracy(head, hidden: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    import torch

    hits1 = hits5 = 0
    with torch.inference_mode():
        for start in range(0, len(targets), 2048):
            logits = head(torch.as_tensor(hidden[start : start + 2048]))
            top = logits.topk(5, dim=-1).indices.numpy()
            truth = targets[start : start + 2048]
            hits1 += int((top[:, 0] == truth).sum())
            hits5 += int((top == truth[:, None]).any(axis=1).sum())
    return {"top1": hits1 / max(1, len(targets)), "top5": hits5 / max(1, len(targets))}


def unigram_baseline(loaded, sentences: list[str], targets: np.ndarray) -> dict[str, float]:
    """Always guess the most frequent training tokens (specials excluded)."""
    counts: Counter[int] = Counter()
    special = set(loaded.tokenizer.all_special_ids)
    for sentence in sentences:
        counts.update(i for i in loaded.tokenizer(sentence, add_special_tokens=False)["input_ids"] if i not in special)
    ranked = [token for token, _ in counts.most_common(5)]
    return {
        "top1": float(np.mean(targets == ranked[0])),
        "top5": float(np.isin(targets, ranked).mean()),
        "tokens": loaded.tokenizer.convert_ids_to_tokens(ranked),
    }


def train(out_dir: Path, limit: int | None = None, docs: Path = DOCS) -> dict:
    import torch
    from safetensors.torch import save_file

    from ..mlm_head import WEIGHTS, trained_tensors
    from ..models import load_model

    began = time.perf_counter()
    torch.manual_seed(SEED)
    loaded = load_model(DEFAULT_MODEL)
    eps = float(getattr(loaded.model.config, "layer_norm_eps", 1e-12))
    embeddings = loaded.model.get_input_embeddings().weight.detach()
    data = corpus(docs)
    rng = np.random.default_rng(SEED)
    train_sentences = [data["train"][i] for i in rng.permutation(len(data["train"]))[: limit or TRAIN_SENTENCES]]
    heldout = [data["heldout"][i] for i in rng.permutation(len(data["heldout"]))[: (limit or HELDOUT_SENTENCES * 5) // 5]]
    epochs = 1 if limit else EPOCHS
    n_layers = int(loaded.model.config.num_hidden_layers)

    # The layer sweep: a slice of the training sentences, its first 80 % to fit and the rest to score.
    sweep = train_sentences[: min(len(train_sentences), limit or SWEEP_SENTENCES)]
    cut = int(0.8 * len(sweep))
    candidates = list(range(1, n_layers + 1))
    fit_x, fit_y = features(loaded, sweep[:cut], candidates, SEED)
    score_x, score_y = features(loaded, sweep[cut:], candidates, SEED + 1, eval_mode=True)
    layer_scores = {}
    for layer in candidates:
        head, _ = fit_head(fit_x[layer], fit_y, embeddings, layer, 1 if limit else SWEEP_EPOCHS, SEED, eps)
        layer_scores[layer] = accuracy(head, score_x[layer], score_y)
    best = max(candidates, key=lambda layer: layer_scores[layer]["top5"])

    train_x, train_y = features(loaded, train_sentences, [best], SEED + 2)
    head, losses = fit_head(train_x[best], train_y, embeddings, best, epochs, SEED, eps)
    heldout_x, heldout_y = features(loaded, heldout, [best], SEED + 3, eval_mode=True)
    measured = accuracy(head, heldout_x[best], heldout_y)
    baseline = unigram_baseline(loaded, train_sentences, heldout_y)
    metrics = {
        "heldout": {**measured, "masked_tokens": int(len(heldout_y)), "sentences": len(heldout)},
        "unigram_baseline": baseline,
        "top5_ratio_to_baseline": measured["top5"] / max(baseline["top5"], 1e-9),
        "layer": best,
        "layer_sweep_top5": {str(layer): round(score["top5"], 4) for layer, score in layer_scores.items()},
        "train_sentences": len(train_sentences),
        "train_masked_tokens": int(len(train_y)),
        "final_loss": float(np.mean(losses[-20:])),
        "train_seconds": time.perf_counter() - began,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(trained_tensors(head), str(out_dir / WEIGHTS))
    config = {
        "layer": best,
        "base": DEFAULT_MODEL,
        "base_sha256": MINILM_SHA256,
        "activation": "gelu",
        "layer_norm_eps": eps,
        "tied_to": "the encoder's input word embeddings",
        "recipe": {"seed": SEED, "epochs": epochs, "batch": BATCH, "learning_rate": LEARNING_RATE, "max_length": MAX_LENGTH},
    }
    (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    (out_dir / "MODEL_CARD.md").write_text(card(metrics, config), encoding="utf-8")
    return metrics


def card(metrics: dict, config: dict) -> str:
    from .cards import machine

    held, base = metrics["heldout"], metrics["unigram_baseline"]
    verdict = "meets" if metrics["top5_ratio_to_baseline"] >= 2 else "does NOT meet"
    sweep = ", ".join(f"hidden_states[{layer}]: {score:.1%}" for layer, score in metrics["layer_sweep_top5"].items())
    return f"""# minilm MLM head (offline fill-mask for all-MiniLM-L6-v2)

all-MiniLM-L6-v2 is a sentence-embedding model and ships without a masked-LM head. This head is BERT's
prediction head (dense 384→384, GELU, LayerNorm, decoder tied to the encoder's input word embeddings,
an output bias), trained by this project on the **frozen** encoder. It reads `hidden_states[{config["layer"]}]`.
The encoder is unchanged: every other tab sees the same model.

## Data and licence
Prose paragraphs of the Python 3.11 documentation as Debian packages it (`python3.11-doc`, PSF License
Version 2, © Python Software Foundation), split into sentences of 6–50 words; HTML files (documents), not
sentences, are split into training and held-out (1 in {HELDOUT_EVERY} by a hash of the path).
{metrics["train_sentences"]} training sentences ({metrics["train_masked_tokens"]} masked tokens).

## Recipe
```bash
apt-get install python3.11-doc          # the data (the app never needs it)
pip install -r requirements-train.txt
python -m explorer.train mlm            # writes this folder
```
BERT's masking (15 % of tokens; 80 % [MASK], 10 % random, 10 % unchanged; loss on those only) with one static
draw per sentence; the frozen encoder's states at the chosen positions are computed once. AdamW, learning rate
{LEARNING_RATE}, batch {BATCH} positions, {config["recipe"]["epochs"]} epochs, seed {SEED}, max length {MAX_LENGTH}.
Layer sweep ({SWEEP_EPOCHS} epochs on {SWEEP_SENTENCES} training sentences, top-5 on a fifth of them kept aside; never
the held-out documents): {sweep}.
Training took {metrics["train_seconds"] / 60:.1f} min on {machine()} (CPU only).

## Measured on held-out documents
{held["sentences"]} sentences, {held["masked_tokens"]} tokens replaced by [MASK] (15 %, seeded):

| | top-1 | top-5 |
|---|---|---|
| this head | {held["top1"]:.1%} | {held["top5"]:.1%} |
| unigram baseline (always {", ".join(base["tokens"])}) | {base["top1"]:.1%} | {base["top5"]:.1%} |

Top-5 is {metrics["top5_ratio_to_baseline"]:.2f}× the baseline's: it {verdict} the bar of 2×.
Predictions are word pieces of technical English prose; a small head on a frozen sentence encoder is far
weaker than BERT's own pre-training head (use `bert-base-uncased` from the hub for the real thing).
"""
