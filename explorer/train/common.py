"""What every recipe shares: seeding, LoRA set-up, a plain training loop, export.

Training uses ``peft`` LoRA adapters on the attention projections (so the task
model's attention differs from the base and can be shown) plus a small task head.
The export holds only the adapter matrices and the head, in safetensors; the app
merges them into the embedded encoder at load time and needs no ``peft``.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

ASSETS = Path(__file__).resolve().parent.parent.parent / "assets" / "models"


@dataclass
class TrainConfig:
    epochs: float = 3.0
    batch_size: int = 32
    learning_rate: float = 1e-3
    head_learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup_fraction: float = 0.06
    lora_rank: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: tuple[str, ...] = ("query", "key", "value", "attention.output.dense")
    max_length: int = 64
    seed: int = 13
    extra: dict = field(default_factory=dict)


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(False)


def add_lora(model, config: TrainConfig, head_modules: Sequence[str]):
    """Wrap ``model`` with LoRA adapters; the head modules train in full."""
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=config.lora_rank,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.lora_targets),
        modules_to_save=list(head_modules),
        bias="none",
    )
    return get_peft_model(model, lora)


def train_loop(
    model,
    batches: Callable[[int], Iterable[dict]],
    steps_per_epoch: int,
    config: TrainConfig,
    description: str,
) -> list[float]:
    """AdamW with linear warm-up/decay; ``batches(epoch)`` yields model inputs with labels."""
    import torch
    from tqdm.auto import tqdm

    total_steps = max(1, math.ceil(steps_per_epoch * config.epochs))
    warmup = int(total_steps * config.warmup_fraction)
    head = [p for n, p in model.named_parameters() if p.requires_grad and "modules_to_save" in n]
    adapters = [p for n, p in model.named_parameters() if p.requires_grad and "modules_to_save" not in n]
    optimizer = torch.optim.AdamW(
        [{"params": adapters, "lr": config.learning_rate}, {"params": head, "lr": config.head_learning_rate}],
        weight_decay=config.weight_decay,
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / max(1, warmup), max(0.0, (total_steps - step) / max(1, total_steps - warmup)))
    )
    losses: list[float] = []
    model.train()
    step = 0
    with tqdm(total=total_steps, desc=description, unit="step") as progress:
        epoch = 0
        while step < total_steps:
            for batch in batches(epoch):
                loss = model(**batch).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                losses.append(loss.item())
                step += 1
                progress.update(1)
                progress.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
                if step >= total_steps:
                    break
            epoch += 1
    model.eval()
    return losses


def export_adapter(peft_model, out_dir: Path, head_prefixes: Sequence[str], meta: dict) -> Path:
    """Save LoRA A/B matrices (named by the plain model's module names) and the head.

    Keys: ``<module>.lora_A`` (r, in), ``<module>.lora_B`` (out, r) and the head's own
    parameter names; ``config.json`` records rank, alpha and scaling for the merge.
    """
    import torch
    from peft.tuners.lora import Linear as LoraLinear
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    scaling = None
    for name, module in peft_model.named_modules():
        if isinstance(module, LoraLinear):
            plain = name.removeprefix("base_model.model.")
            tensors[f"{plain}.lora_A"] = module.lora_A["default"].weight.detach().contiguous().clone()
            tensors[f"{plain}.lora_B"] = module.lora_B["default"].weight.detach().contiguous().clone()
            scaling = float(module.scaling["default"])
    merged = peft_model.merge_and_unload()
    for name, value in merged.state_dict().items():
        if any(name.startswith(prefix) for prefix in head_prefixes):
            tensors[name] = value.detach().contiguous().clone()
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out_dir / "adapter.safetensors"))
    (out_dir / "config.json").write_text(json.dumps({**meta, "lora_scaling": scaling}, indent=2, ensure_ascii=False) + "\n")
    return out_dir


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


def config_dict(config: TrainConfig) -> dict:
    values = asdict(config)
    values["lora_targets"] = list(config.lora_targets)
    return values
