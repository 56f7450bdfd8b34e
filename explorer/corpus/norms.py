"""Attention weights against attention norms over a corpus (Kobayashi et al. 2020, "Attention is Not
Only a Weight: Analyzing Transformers with Vector Norms", section 4).

``python -m explorer.corpus.norms [FILE] [--model M] [--out JSON] [--limit N] [--batch-size B]``

For every layer, the mean share of each query row that goes to [CLS], to [SEP], to punctuation and to
the other tokens, measured twice: on the weights ``alpha_ij`` and on the norms ``||alpha_ij f(x_j)||``
(``explorer.norms``; ``f(x) = (x W_V + b_V) W_O^h``, W_O's bias left out, as in the paper). The paper
found, on BERT-base, that [SEP], [CLS] and punctuation get large weights but small norms. FILE defaults
to the shipped corpus (``assets/corpus/vader_sentences.txt``). The JSON goes to ``--out`` (and the
table to stdout), or to stdout without ``--out``; progress to stderr. See docs/corpus.md.

Averaging: per sentence, the mean over its heads and its query tokens (every row of a head sums to 1
as weights; a row of norms is divided by its own sum first); then the mean over the sentences, as the
head roles of ``explorer.corpus`` are averaged. Padding is cut off before anything is counted: the
sentences run in padded batches of similar length, and each one keeps only its own tokens.
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..heads import key_masks
from ..norms import weighted_norms
from . import ROOT, SHIPPED_CORPUS, read_sentences
from .job import BATCH_SIZE, corpus_label, dumps, plan_batches

CATEGORIES = ("cls", "sep", "punct", "other")
NAMES = {"cls": "[CLS]", "sep": "[SEP]", "punct": "punctuation", "other": "other tokens"}
# The files whose code makes the numbers: the result records whether they differed from its commit.
SOURCES = (
    "explorer/corpus/norms.py",
    "explorer/norms.py",
    "explorer/interventions.py",
    "explorer/backend.py",
    "explorer/heads.py",
)


def category_masks(tokens: Sequence[str], special_mask: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean ``(T,)`` key masks of the four categories (they split the tokens): [CLS] is the first
    special token, [SEP] every other one, punctuation as ``heads.is_punctuation``, the rest "other"."""
    masks = key_masks(tokens, special_mask)
    other = ~(masks["cls"] | masks["sep"] | masks["punct"])
    return {"cls": masks["cls"], "sep": masks["sep"], "punct": masks["punct"], "other": other}


def row_shares(values: np.ndarray, masks: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``(L, H, Q, T)`` non-negative rows -> per category ``(L, H)``: the share of each row's sum on that
    category's keys, mean over the rows."""
    values = np.asarray(values, dtype=np.float64)
    totals = np.maximum(values.sum(axis=-1), 1e-30)
    return {name: (values[..., mask].sum(axis=-1) / totals).mean(axis=-1) for name, mask in masks.items()}


def sentence_shares(
    attentions: np.ndarray, value_norms: np.ndarray, tokens: Sequence[str], special_mask: np.ndarray
) -> dict[str, dict[str, np.ndarray]]:
    """One sentence, unpadded: attentions ``(L, H, T, T)`` and value norms ``||f(x_j)||`` ``(L, H, T)`` ->
    ``{"weights": {category: (L, H)}, "norms": {category: (L, H)}}``."""
    masks = category_masks(tokens, special_mask)
    return {
        "weights": row_shares(attentions, masks),
        "norms": row_shares(weighted_norms(attentions, value_norms), masks),
    }


class Sums:
    """Per-head share sums over the sentences, ``(L, H)`` per measure and category."""

    def __init__(self, n_layers: int, n_heads: int) -> None:
        self.sums = {kind: {name: np.zeros((n_layers, n_heads)) for name in CATEGORIES} for kind in ("weights", "norms")}
        self.sentences = 0

    def add(self, shares: dict[str, dict[str, np.ndarray]]) -> None:
        for kind, by_name in shares.items():
            for name, value in by_name.items():
                self.sums[kind][name] += value
        self.sentences += 1

    def means(self) -> dict[str, dict[str, np.ndarray]]:
        return {kind: {name: total / self.sentences for name, total in by_name.items()} for kind, by_name in self.sums.items()}


def forward_rows(loaded: Any, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray, list[str], np.ndarray]]:
    """One padded forward pass over ``texts`` with the value vectors recorded (``interventions.recorded_values``,
    the analysis' own hooks): per text its unpadded attentions ``(L, H, T, T)``, value norms ``(L, H, T)``,
    tokens and special-token mask."""
    import torch

    from ..backend import value_norms
    from ..interventions import recorded_values

    encoding = loaded.tokenizer(
        texts, padding=True, truncation=True, max_length=loaded.max_length, return_tensors="pt", return_special_tokens_mask=True
    )
    special = encoding.pop("special_tokens_mask").numpy().astype(bool)
    inputs = {name: tensor.to(loaded.device) for name, tensor in encoding.items()}
    with torch.inference_mode(), recorded_values(loaded.model) as values:
        output = loaded.model(**inputs, output_attentions=True)
        norms = value_norms(loaded.model, values).float().cpu().numpy()  # (B, L, H, T)
    attentions = torch.stack(output.attentions, dim=1).float().cpu().numpy()  # (B, L, H, T, T)
    mask = encoding["attention_mask"].numpy().astype(bool)
    ids = encoding["input_ids"].numpy()
    rows = []
    for row in range(len(texts)):
        real = np.flatnonzero(mask[row])  # padding cut off: its keys got zero weight, its queries are not counted
        tokens = loaded.tokenizer.convert_ids_to_tokens(ids[row, real].tolist())
        rows.append((attentions[row][:, :, real][:, :, :, real], norms[row][:, :, real], tokens, special[row, real]))
    return rows


def measure(
    sentences: Sequence[str],
    model: str | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    """Mean per-head shares over ``sentences``: ``{"weights"|"norms": {category: (L, H)}}``."""
    from ..models import load_model

    if not sentences:
        raise ValueError("no sentence in the corpus")
    loaded = load_model(model)
    config = loaded.config
    sums = Sums(int(config.num_hidden_layers), int(config.num_attention_heads))
    batches = plan_batches(sentences, batch_size)
    for done, batch in enumerate(batches, start=1):
        for attentions, norms, tokens, special in forward_rows(loaded, [sentences[line] for line in batch]):
            sums.add(sentence_shares(attentions, norms, tokens, special))
        if progress:
            progress(done, len(batches))
    return sums.means()


def git_state() -> tuple[str | None, list[str]]:
    """The checkout's commit and which of ``SOURCES`` differ from it (``None``, [] outside git)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", *SOURCES], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None, []
    return commit.strip(), sorted(line[3:] for line in changed.splitlines())


def result_json(means: dict[str, dict[str, np.ndarray]], model: str, corpus: str, sentences: int, batch_size: int) -> dict:
    """The result file's content: per layer and overall, the share of weight and of norm per category."""

    def table(reduce: Callable[[np.ndarray], Any]) -> dict:
        return {kind: {name: reduce(means[kind][name]) for name in CATEGORIES} for kind in ("weights", "norms")}

    n_layers, n_heads = means["weights"]["cls"].shape
    per_layer = table(lambda heads: heads.mean(axis=1))
    commit, changed = git_state()
    return {
        "model": model,
        "corpus": corpus,
        "sentences": sentences,
        "layers": int(n_layers),
        "heads": int(n_heads),
        "date": datetime.date.today().isoformat(),
        "commit": commit,
        "changed_sources": changed,
        "batch_size": batch_size,
        "categories": dict(NAMES),
        "per_layer": [
            {"layer": layer}
            | {kind: {name: round(float(per_layer[kind][name][layer]), 4) for name in CATEGORIES} for kind in per_layer}
            for layer in range(n_layers)
        ],
        "overall": table(lambda heads: round(float(heads.mean()), 4)),
        "per_head_special": {
            kind: np.round(means[kind]["cls"] + means[kind]["sep"], 4).tolist() for kind in ("weights", "norms")
        },
        "method": {
            "norm": "||alpha_ij f(x_j)|| with f(x) = (x W_V + b_V) W_O^h, W_O's bias left out (Kobayashi et al. 2020)",
            "share": "per query row, the category's part of the row's sum (weights: of 1; norms: of the row's norm sum)",
            "mean": "over a sentence's heads and query tokens, then over the sentences; a layer's value is the mean "
            "of its heads, overall the mean of the layers",
            "cls": "the first special token; sep: every other special token",
            "punct": "tokens made only of Unicode punctuation (explorer.heads.is_punctuation), specials excluded",
            "padding": "cut off before counting: padded keys and queries are not counted",
            "per_head_special": "(L, H): share to [CLS] and [SEP] together, per head",
        },
    }


def markdown_table(result: dict) -> str:
    """Per layer and overall, weight share → norm share of each category and of [CLS] + [SEP], in percent."""
    header = " | ".join(NAMES[name] for name in CATEGORIES)
    lines = [f"| layer | {header} | [CLS] + [SEP] |", "|---|" + "---:|" * (len(CATEGORIES) + 1)]

    def row(label: str, values: dict) -> str:
        shares = {kind: {**values[kind], "special": values[kind]["cls"] + values[kind]["sep"]} for kind in ("weights", "norms")}
        cells = [f"{100 * shares['weights'][name]:.1f} → {100 * shares['norms'][name]:.1f}" for name in (*CATEGORIES, "special")]
        return f"| {label} | " + " | ".join(cells) + " |"

    lines += [row(str(entry["layer"]), entry) for entry in result["per_layer"]]
    lines.append(row("all", result["overall"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    description = " ".join(__doc__.split("\n\n")[2].split())  # the docstring's third paragraph
    parser = argparse.ArgumentParser(prog="python -m explorer.corpus.norms", description=description)
    parser.add_argument("file", type=Path, nargs="?", default=SHIPPED_CORPUS, help="text file, one sentence a line")
    parser.add_argument("--model", default=None, help="a registered model name (default: the embedded all-MiniLM-L6-v2)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N sentences (default: all)")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help=f"sentences per forward pass (default {BATCH_SIZE})")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here (default: stdout)")
    args = parser.parse_args(argv)

    from ..errors import ExplorerError
    from ..models import resolve

    try:
        model = resolve(args.model).name
    except ExplorerError as error:
        parser.error(str(error))
    sentences = read_sentences(args.file)[: args.limit]
    began = time.perf_counter()
    means = measure(sentences, model, args.batch_size, lambda done, total: print(f"batch {done}/{total}", file=sys.stderr))
    seconds = time.perf_counter() - began
    print(f"{len(sentences)} sentences in {seconds:.1f} s (model loading included)", file=sys.stderr)
    result = result_json(means, model, corpus_label(args.file), len(sentences), args.batch_size)
    text = dumps(result)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(markdown_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
