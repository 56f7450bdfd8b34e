"""Build a task model from the embedded encoder plus a shipped LoRA adapter and head.

The adapter folder (``assets/models/<task>/``) holds ``adapter.safetensors`` with
``<module>.lora_A`` / ``<module>.lora_B`` pairs and the head's parameters, and
``config.json`` with the labels and the LoRA scaling. Merging is
``W <- W + scaling * B @ A`` for every adapted linear layer: plain torch, no peft.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ModelUnavailable

AUTO_CLASSES = {
    None: "AutoModel",
    "sentiment": "AutoModelForSequenceClassification",
    "ner": "AutoModelForTokenClassification",
    "qa": "AutoModelForQuestionAnswering",
}


def auto_class(task: str | None):
    import transformers

    return getattr(transformers, AUTO_CLASSES[task])


def read_adapter_config(folder: Path) -> dict:
    path = folder / "config.json"
    if not path.is_file():
        raise ModelUnavailable(
            f"The task model in {folder} is incomplete: {path.name} is missing. Rebuild it with python -m explorer.train."
        )
    return json.loads(path.read_text(encoding="utf-8"))


def load_adapted_model(base_folder: Path, adapter_folder: Path, task: str) -> Any:
    """The base encoder with the task head, LoRA deltas merged, in eval mode with eager attention."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoConfig
    from transformers.utils import logging as hf_logging

    meta = read_adapter_config(adapter_folder)
    weights = adapter_folder / "adapter.safetensors"
    if not weights.is_file():
        raise ModelUnavailable(f"{weights} is missing. Rebuild it with: python -m explorer.train {task}")
    labels = meta.get("labels")
    config_kwargs = (
        {"id2label": dict(enumerate(labels)), "label2id": {label: i for i, label in enumerate(labels)}} if labels else {}
    )
    config = AutoConfig.from_pretrained(base_folder, **config_kwargs)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the head is "newly initialised" until we load it below
    try:
        model = auto_class(task).from_pretrained(base_folder, config=config, attn_implementation="eager")
    finally:
        hf_logging.set_verbosity(verbosity)
    tensors = load_file(str(weights))
    scaling = float(meta["lora_scaling"])
    head = {name: value for name, value in tensors.items() if not name.endswith((".lora_A", ".lora_B"))}
    with torch.no_grad():
        for name in [n for n in tensors if n.endswith(".lora_A")]:
            module_name = name.removesuffix(".lora_A")
            module = model.get_submodule(module_name)
            module.weight += scaling * (tensors[f"{module_name}.lora_B"] @ tensors[name])
        missing, unexpected = model.load_state_dict(head, strict=False)
    if unexpected:
        raise ModelUnavailable(f"{weights} does not fit the base model: unexpected tensors {unexpected[:3]}.")
    return model.eval()
