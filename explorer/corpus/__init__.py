"""Corpus statistics: head roles and syntax heads over many sentences (issue 13, point 4).

``python -m explorer.corpus FILE --model M [--ray ADDRESS] [--shards N] [--out PATH]`` runs the job
(``explorer.corpus.job``); ``python -m explorer.corpus.build_corpus`` rebuilds the shipped corpus.
This module only finds and reads precomputed results, so the app can import it: spaCy, torch and
Ray are imported inside the job's functions, never here.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..models.catalog import DEFAULT_MODEL

ROOT = Path(__file__).resolve().parent.parent.parent
CORPUS_DIR = ROOT / "assets" / "corpus"
SHIPPED_CORPUS = CORPUS_DIR / "vader_sentences.txt"


def result_path(model: str | None) -> Path:
    """Where the precomputed result of ``model`` lives (a hub id's ``/`` becomes ``--``)."""
    name = (model or "").strip() or DEFAULT_MODEL
    return CORPUS_DIR / f"{name.replace('/', '--')}.json"


def load_result(model: str | None) -> dict | None:
    """The precomputed corpus result of ``model`` (``None``/blank: the embedded default), or ``None``
    when none was shipped for it."""
    path = result_path(model)
    if not path.is_file():
        return None
    result = json.loads(path.read_text(encoding="utf-8"))
    name = (model or "").strip() or DEFAULT_MODEL
    return result if result.get("model") == name else None


def read_sentences(path: str | Path) -> list[str]:
    """One sentence a line; blank lines are skipped and runs of whitespace become one space (spaCy
    would otherwise make whitespace tokens, which are no words)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [" ".join(line.split()) for line in lines if line.strip()]
