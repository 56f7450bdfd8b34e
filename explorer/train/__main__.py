"""python -m explorer.train {sentiment,ner,qa,mlm} [--limit N] [--out DIR]

``python -m explorer.train sentiment --evaluate-only`` scores the shipped sentiment model on the
hand-written negation / contrast / hedged sentences without training (updates its metrics and card).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .common import ASSETS

TASKS = ("sentiment", "ner", "qa", "mlm")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m explorer.train", description="Rebuild a shipped task model from scratch.")
    parser.add_argument("task", choices=TASKS)
    parser.add_argument("--limit", type=int, default=None, help="train on this many examples only (smoke test)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: assets/models/<task>)")
    parser.add_argument(
        "--evaluate-only",
        action="store_true",
        help="sentiment only: no training; score the shipped model on the hard cases, update its metrics.json and card",
    )
    args = parser.parse_args()
    if args.evaluate_only:
        if args.task != "sentiment" or args.limit is not None or args.out is not None:
            parser.error("--evaluate-only goes with the sentiment task alone (no --limit, no --out)")
        from .sentiment import evaluate_shipped

        print(json.dumps(evaluate_shipped()["hard_cases"], indent=2))
        return
    out = args.out or ASSETS / args.task
    if args.task == "sentiment":
        from .sentiment import train
    elif args.task == "ner":
        from .ner import train
    elif args.task == "mlm":
        from .mlm import train
    else:
        from .qa import train
    metrics = train(out_dir=out, limit=args.limit)
    print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
