"""Rebuild the shipped corpus: ``python -m explorer.corpus.build_corpus [--out PATH]``.

Source: the human-rated snippets of the VADER paper (Hutto & Gilbert, ICWSM 2014; MIT licence),
read through ``explorer.train.vader`` (the vaderSentiment 3.3.2 sdist, downloaded from PyPI once).
From the New York Times editorial snippets and the movie-review snippets it keeps, in file order,
lines that

- are plain ASCII (a few lines of the latin-1 files carry mojibake), start with a capital letter
  and end with ``.``, ``!`` or ``?`` (optionally before a closing quote): sentences, not fragments;
- spaCy (``en_core_web_sm`` 3.8.0, the parser the job uses) reads as exactly one sentence of
  ``MIN_WORDS``…``MAX_WORDS`` words (tokens that are not punctuation);
- were not kept before (exact duplicates).

Quotes written ``''`` or ````` (the sources' PTB style) become ``"`` and runs of whitespace one
space. Of each source's kept lines, ``PER_SOURCE`` evenly spaced ones are taken (the whole file,
not its first pages), and the two sources alternate line by line, so any slice mixes both.
Deterministic: the same source and parser give the same file.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from . import SHIPPED_CORPUS
from .job import SPACY_DISABLED, SPACY_PACKAGE

SOURCES = ("nyt", "movie")
PER_SOURCE = 1000
MIN_WORDS, MAX_WORDS = 5, 40
SENTENCE_END = re.compile(r'[.!?]"?$')


def normalized(text: str) -> str:
    return " ".join(text.replace("''", '"').replace("``", '"').split())


def looks_like_a_sentence(text: str) -> bool:
    return text.isascii() and text.isprintable() and text[:1].isupper() and bool(SENTENCE_END.search(text))


def evenly_spaced(items: list[str], count: int) -> list[str]:
    if len(items) < count:
        raise ValueError(f"only {len(items)} sentences pass the filters, {count} wanted")
    return [items[index * len(items) // count] for index in range(count)]


def kept_sentences(texts: list[str], nlp) -> list[str]:
    """``texts`` that pass the filters above, in their order."""
    seen: set[str] = set()
    candidates = []
    for text in map(normalized, texts):
        if looks_like_a_sentence(text) and text not in seen:
            seen.add(text)
            candidates.append(text)
    kept = []
    for doc in nlp.pipe(candidates, batch_size=256):
        words = sum(not (token.is_punct or token.is_space) for token in doc)
        if len(list(doc.sents)) == 1 and MIN_WORDS <= words <= MAX_WORDS:
            kept.append(doc.text)
    return kept


def build(per_source: int = PER_SOURCE) -> list[str]:
    import spacy

    from ..train import vader

    nlp = spacy.load(SPACY_PACKAGE, exclude=SPACY_DISABLED)
    chosen = [evenly_spaced(kept_sentences([s.text for s in vader.read_snippets(name)], nlp), per_source) for name in SOURCES]
    return [sentence for group in zip(*chosen, strict=True) for sentence in group]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explorer.corpus.build_corpus", description="Rebuild the shipped corpus.")
    parser.add_argument("--out", type=Path, default=SHIPPED_CORPUS)
    parser.add_argument("--per-source", type=int, default=PER_SOURCE)
    args = parser.parse_args(argv)
    sentences = build(args.per_source)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    print(f"{len(sentences)} sentences -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
