"""python -m explorer.train {sentiment,ner,qa,mlm} [--limit N] [--out DIR]"""

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
    args = parser.parse_args()
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
