"""A masked-LM head for the embedded all-MiniLM-L6-v2, which ships without one (chapter 3.6).

BERT's prediction head, ``BertLMPredictionHead``: dense (D -> D), GELU, LayerNorm, then the
decoder ``h @ E.T + b`` with ``E`` the encoder's own input word embeddings (tied, as in BERT; not
stored here). It reads ``hidden_states[layer]`` of the frozen encoder; the recipe
(``python -m explorer.train mlm``) trains dense, LayerNorm and ``b`` only and picks the layer.
Files: ``assets/models/mlm/{head.safetensors, config.json, metrics.json, MODEL_CARD.md}``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import ModelUnavailable
from .models.catalog import ASSET_MODELS, MINILM_SHA256

HEAD_FOLDER = ASSET_MODELS / "mlm"
WEIGHTS = "head.safetensors"


def head_available(folder: Path = HEAD_FOLDER) -> bool:
    return (folder / WEIGHTS).is_file() and (folder / "config.json").is_file()


def build_head(hidden_size: int, vocab_size: int, layer: int, eps: float = 1e-12) -> Any:
    """An untrained head (the recipe's starting point); ``load_mlm_head`` fills one from files."""
    import torch

    class MlmHead(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = int(layer)  # index into Analysis.hidden_states (0: the embedding output)
            self.dense = torch.nn.Linear(hidden_size, hidden_size)
            self.norm = torch.nn.LayerNorm(hidden_size, eps=eps)
            self.bias = torch.nn.Parameter(torch.zeros(vocab_size))
            self.embeddings: torch.Tensor | None = None  # (V, D), the encoder's, set by ``tie``

        def tie(self, word_embeddings: torch.Tensor) -> MlmHead:
            self.embeddings = word_embeddings.detach()
            return self

        def transform(self, hidden: torch.Tensor) -> torch.Tensor:
            return self.norm(torch.nn.functional.gelu(self.dense(hidden)))  # exact (erf) GELU, as BERT's "gelu"

        def forward(self, hidden: torch.Tensor) -> torch.Tensor:
            return self.transform(hidden) @ self.embeddings.T + self.bias

    return MlmHead()


def trained_tensors(head: Any) -> dict[str, Any]:
    """What the file holds: the trained parameters (the tied embeddings stay in the encoder)."""
    return {name: value.detach().contiguous().clone() for name, value in head.state_dict().items()}


def load_mlm_head(folder: Path, word_embeddings: Any) -> Any:
    """The shipped head, tied to ``word_embeddings`` ``(V, D)``, in eval mode."""
    from safetensors.torch import load_file

    if not head_available(folder):
        raise ModelUnavailable("mlm.head.missing", folder=str(folder))
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if config.get("base_sha256") != MINILM_SHA256:
        raise ModelUnavailable("mlm.head.other_base", folder=str(folder), found=str(config.get("base_sha256"))[:12])
    tensors = load_file(str(folder / WEIGHTS))
    vocab_size, hidden_size = word_embeddings.shape
    head = build_head(hidden_size, vocab_size, config["layer"], config.get("layer_norm_eps", 1e-12))
    head.load_state_dict(tensors)
    return head.tie(word_embeddings).eval()
