"""``python -m explorer.corpus FILE --model M [--ray ADDRESS] [--shards N] [--out PATH]``.

Head roles and syntax heads of model M over FILE (one sentence a line). The JSON goes to
``--out`` (and the syntax table to stdout), or to stdout without ``--out``; progress to stderr.
``--ray local`` starts a local Ray, ``--ray ADDRESS`` joins a cluster (``pip install -r
requirements-scale.txt``). See docs/corpus.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import read_sentences
from .job import BATCH_SIZE, MIN_COUNT, SHARDS, corpus_label, dumps, markdown_table, progress_to_stderr, result_json, run_job


def main(argv: list[str] | None = None) -> int:
    description = " ".join(__doc__.split("\n\n")[1].split())  # the docstring's second paragraph
    parser = argparse.ArgumentParser(prog="python -m explorer.corpus", description=description)
    parser.add_argument("file", type=Path, help="text file, one sentence a line")
    parser.add_argument("--model", default=None, help="a registered model name (default: the embedded all-MiniLM-L6-v2)")
    parser.add_argument("--ray", dest="ray_address", default=None, help='"local" for ray.init() here, or a cluster address')
    parser.add_argument("--workers", type=int, default=None, help="Ray actors (default: the cluster's CPUs)")
    parser.add_argument("--shards", type=int, default=SHARDS, help=f"shards of whole batches (default {SHARDS})")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help=f"sentences per forward pass (default {BATCH_SIZE})")
    parser.add_argument("--min-count", type=int, default=MIN_COUNT, help=f"arcs a relation needs (default {MIN_COUNT})")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here (default: stdout)")
    args = parser.parse_args(argv)

    from ..errors import ExplorerError
    from ..models import resolve

    try:
        model = resolve(args.model).name
    except ExplorerError as error:
        parser.error(str(error))
    sentences = read_sentences(args.file)
    began = time.perf_counter()
    total = run_job(sentences, model, args.shards, args.ray_address, args.workers, args.batch_size, progress_to_stderr)
    seconds = time.perf_counter() - began
    result = result_json(total, model, corpus_label(args.file), args.min_count, args.batch_size)
    where = "in-process" if args.ray_address is None else f"Ray ({args.ray_address})"
    rate = len(sentences) / seconds
    print(f"{len(sentences)} sentences in {seconds:.1f} s ({rate:.1f}/s, {where}, model loading included)", file=sys.stderr)
    if args.out is None:
        sys.stdout.write(dumps(result))
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dumps(result), encoding="utf-8")
    print(markdown_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
