"""A bert-large-shaped model (24 layers x 16 heads, random weights) on a 384-token input.

Run by ``benchmarks/run.py`` in its own process so that peak memory is this model's
alone; prints one JSON line. The model is built from a config (no download), saved
to a temporary folder and loaded through the same registry code as a hub model.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N_TOKENS = 384


def main() -> None:
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from benchmarks.run import text_of_tokens
    from explorer import backend, models
    from explorer.present.attention import attention_view

    minilm = models.embedded_model_path()
    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096)
    with tempfile.TemporaryDirectory() as folder:
        BertModel(config).save_pretrained(folder)
        AutoTokenizer.from_pretrained(minilm).save_pretrained(folder)
        models.register_model(
            models.ModelSpec(
                name="bert-large-shape", source=folder, description="random weights, bert-large's shape", language="en"
            )
        )
        text = text_of_tokens(N_TOKENS)
        began = time.perf_counter()
        analysis = backend.analyze(text, "bert-large-shape")
        analyze_s = time.perf_counter() - began
        began = time.perf_counter()
        view = attention_view(analysis, 23, 15, 0, False, False)
        figures_bytes = sum(len(f.to_json()) for f in (view.head, view.row, view.mean, view.grid))
        switch_s = time.perf_counter() - began
    print(
        json.dumps(
            {
                "layers": analysis.n_layers,
                "heads": analysis.n_heads,
                "tokens": analysis.n_tokens,
                "analyze_s": analyze_s,
                "attention_dtype": str(analysis.attentions.dtype),
                "attention_mb": analysis.attentions.nbytes / 2**20,
                "switch_layer_head_s": switch_s,
                "figures_bytes": figures_bytes,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
