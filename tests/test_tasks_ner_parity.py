"""NER grouping against transformers' own ``TokenClassificationPipeline`` on the same logits.

A tiny random BERT token classifier (config + a small WordPiece vocabulary, built here) gives
transformers a real pipeline whose ``preprocess`` tokenizes each generated sentence and whose
``postprocess`` decodes hand-made logits (float64, so both sides compute the same
probabilities); ours decodes the same logits over the tokens and offsets of the app's own
``backend.preprocess``. Every strategy must give the same entities (type, span, score), except
where the one documented exception of ``explorer.tasks.ner`` applies (a piece whose text the
tokenizer's normalisation shortened, i.e. a decomposed accent): there ours must equal the
pipeline's aggregation with the word boundary read from the ``##`` mark instead.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from explorer import backend
from explorer.models import LoadedModel, ModelSpec
from explorer.tasks import continues_word, softmax
from explorer.tasks.ner import LABELS, STRATEGIES, group_entities

LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"
WORDS = (
    "tim cook apple inc paris berlin in the and sao paulo new york cup ##ert ##ino visited lives near of is big old ltd".split()
)
SYMBOLS = ["°", "™", "€", "©"]  # symbols, not punctuation, for BERT: they stay inside a word
VOCAB = (
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    + WORDS
    + list(LETTERS)
    + [f"##{c}" for c in LETTERS]
    + SYMBOLS
    + [f"##{s}" for s in SYMBOLS]
    + list(".,-()'$%!")
    + list("東京都大阪北")
)
FRAGMENTS = [
    "Tim Cook", "Apple™", "Apple Inc.", "5°C", "€999", "$5", "100%", "東京", "大阪都", "Sa\u0303o Paulo", "São Paulo",
    "Pa\u0303ulo", "Cupertino", "New York", "Berlin.", "(Paris)", "U.K.", "Straße", "x😀y", "Paris-Berlin", "O'Neil",
    "©Apple", "tim ™", "in", "the", "and", "visited", "lives near", "is big", "old", "of", "北京", "ABC", "Tim", "Cook",
]  # fmt: skip
PLAIN = ["O", "PER", "ORG", "LOC", "MISC"]
MIXED = ["O", "B-PER", "I-PER", "LOC", "B-MISC", "I-MISC", "ORG"]
LABEL_SETS = {"bio": LABELS, "plain": PLAIN, "mixed": MIXED}
N_CASES = 150


@cache
def vocab_file(folder: str) -> str:
    path = Path(folder) / "vocab.txt"
    path.write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    return str(path)


@cache
def pipeline_for(folder: str, uncased: bool, label_set: str):
    """transformers' pipeline over a tiny random tagger (it never runs: we hand it the logits)."""
    import torch
    from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast, TokenClassificationPipeline

    torch.manual_seed(0)
    labels = LABEL_SETS[label_set]
    tokenizer = BertTokenizerFast(vocab_file(folder), do_lower_case=uncased)
    config = BertConfig(
        vocab_size=len(VOCAB),
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=1,
        intermediate_size=8,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    pipe = TokenClassificationPipeline(model=BertForTokenClassification(config).eval(), tokenizer=tokenizer)
    assert tokenizer._tokenizer.model.continuing_subword_prefix == "##"  # the pipeline's word-aware rule applies
    return pipe


def our_window(pipe, text: str):
    """Tokens and offsets as the app makes them (``backend.preprocess``, what ``tasks.ner.entities`` reads)."""
    spec = ModelSpec(name="parity-tagger", source="", description="")
    loaded = LoadedModel(spec=spec, tokenizer=pipe.tokenizer, model=pipe.model, max_length=512)
    return backend.preprocess(loaded, text).windows[0]


def transformers_entities(pipe, text: str, logits: np.ndarray, strategy: str, words_from=None) -> list[tuple]:
    """The pipeline's preprocess + postprocess on ``logits``; ``words_from`` overrides its word boundaries."""
    import torch
    from transformers.pipelines.token_classification import AggregationStrategy

    preprocess_params, _, postprocess_params = pipe._sanitize_parameters(aggregation_strategy=strategy)
    inputs = next(iter(pipe.preprocess(text, **preprocess_params)))
    outputs = {**inputs, "logits": torch.tensor(logits[None], dtype=torch.float64)}
    if words_from is None:
        found = pipe.postprocess([outputs], **postprocess_params)
    else:  # the pipeline's own steps, with is_subword from the ## mark (the documented exception)
        pre = pipe.gather_pre_entities(
            text,
            outputs["input_ids"][0],
            softmax(logits),
            outputs["offset_mapping"][0],
            outputs["special_tokens_mask"][0].numpy(),
            AggregationStrategy(strategy),
        )
        for entity in pre:
            entity["is_subword"] = words_from[entity["index"]]
        found = [
            e for e in pipe.aggregate(pre, AggregationStrategy(strategy)) if "O" not in (e.get("entity"), e.get("entity_group"))
        ]
    return [(e.get("entity_group", e.get("entity")), int(e["start"]), int(e["end"]), float(e["score"])) for e in found]


def pipeline_subwords(pipe, text: str, n_labels: int) -> dict[int, bool]:
    """transformers' own "continuation piece" decision for every non-special token."""
    from transformers.pipelines.token_classification import AggregationStrategy

    preprocess_params, _, _ = pipe._sanitize_parameters()
    inputs = next(iter(pipe.preprocess(text, **preprocess_params)))
    n = inputs["input_ids"].shape[1]
    pre = pipe.gather_pre_entities(
        text,
        inputs["input_ids"][0],
        np.zeros((n, n_labels)),
        inputs["offset_mapping"][0],
        inputs["special_tokens_mask"][0].numpy(),
        AggregationStrategy.FIRST,
    )
    return {entity["index"]: bool(entity["is_subword"]) for entity in pre}


def make_case(seed: int) -> dict:
    """A sentence of random fragments, a tokenizer, a label set, and logits with entities, B/I slips and noise."""
    rng = np.random.default_rng(seed)
    text = " ".join(rng.choice(FRAGMENTS, size=int(rng.integers(2, 8))))
    return {
        "seed": seed,
        "text": text,
        "uncased": bool(rng.random() < 0.75),  # the cased tokenizer has no capitals: [UNK] words
        "label_set": str(rng.choice(list(LABEL_SETS), p=[0.5, 0.25, 0.25])),
        "noise_only": bool(rng.random() < 0.25),
    }


def case_logits(case: dict, n_tokens: int) -> np.ndarray:
    rng = np.random.default_rng(10_000 + case["seed"])
    labels = LABEL_SETS[case["label_set"]]
    if case["noise_only"]:
        return rng.normal(0, 1.5, (n_tokens, len(labels)))
    kinds = sorted({label.split("-", 1)[-1] for label in labels} - {"O"})
    target = ["O"] * n_tokens
    i = 1
    while i < n_tokens - 1:
        if rng.random() < 0.45:  # an entity of 1-4 tokens, often right after one of the same type
            kind = str(rng.choice(kinds))
            length = int(rng.integers(1, 5))
            for j in range(i, min(i + length, n_tokens - 1)):
                for name in ((f"B-{kind}" if j == i else f"I-{kind}"), kind):
                    if name in labels:
                        target[j] = name
                        break
            i += length
        else:
            i += 1
    for j in range(n_tokens):  # B/I slips and stray labels
        if rng.random() < 0.15:
            target[j] = str(rng.choice(labels))
    logits = rng.normal(0, 1, (n_tokens, len(labels)))
    for j, name in enumerate(target):
        logits[j, labels.index(name)] += rng.uniform(1.0, 5.0)
    return logits


def run_case(case: dict, folder: str) -> dict:
    pipe = pipeline_for(folder, case["uncased"], case["label_set"])
    labels = LABEL_SETS[case["label_set"]]
    window = our_window(pipe, case["text"])
    logits = case_logits(case, len(window.tokens))
    ours_words = {i: continues_word(token) for i, token in enumerate(window.tokens)}
    theirs_words = pipeline_subwords(pipe, case["text"], len(labels))
    differing = [i for i in theirs_words if theirs_words[i] != ours_words[i]]
    results = {}
    for strategy in STRATEGIES:
        ours = group_entities(softmax(logits), window.tokens, window.offsets, case["text"], strategy, labels)
        results[strategy] = {
            "ours": [(e.type, e.start, e.end, e.score) for e in ours],
            "theirs": transformers_entities(pipe, case["text"], logits, strategy),
            "theirs_marked": transformers_entities(pipe, case["text"], logits, strategy, words_from=ours_words),
        }
    return {"window": window, "logits": logits, "labels": labels, "differing": differing, "results": results}


def same(ours: list[tuple], theirs: list[tuple]) -> bool:
    return [e[:3] for e in ours] == [e[:3] for e in theirs] and all(
        abs(a[3] - b[3]) < 1e-12 for a, b in zip(ours, theirs, strict=True)
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("ner-parity"))


@pytest.fixture(scope="module")
def cases(folder) -> list[tuple[dict, dict]]:
    return [(case, run_case(case, folder)) for case in map(make_case, range(N_CASES))]


def test_generated_cases_cover_what_the_rule_is_about(cases):
    def count(predicate) -> int:
        return sum(1 for case, run in cases if predicate(case, run))

    def argmax_labels(run) -> list[str]:
        return [run["labels"][int(k)] for k in run["logits"].argmax(axis=1)]

    def slipped(run) -> bool:  # an I- (or bare) label after another type, or a B- right after its own type
        tags = [t for t, span in zip(argmax_labels(run), run["window"].offsets, strict=True) if span is not None]
        kinds = [t.split("-", 1)[-1] for t in tags]
        return any(t.startswith("I-") and kinds[i - 1] != kinds[i] for i, t in enumerate(tags) if i) or any(
            t.startswith("B-") and kinds[i - 1] == kinds[i] for i, t in enumerate(tags) if i
        )

    tokens = lambda run: run["window"].tokens  # noqa: E731
    coverage = {
        "symbols inside words": count(lambda c, r: any(t in ("##°", "##™", "##€", "##©") for t in tokens(r))),
        "CJK characters": count(lambda c, r: any(t in "東京都大阪北" for t in tokens(r))),
        "decomposed accents": count(lambda c, r: "\u0303" in c["text"]),
        "[UNK]": count(lambda c, r: "[UNK]" in tokens(r)),
        "labels without prefixes": count(lambda c, r: c["label_set"] != "bio"),
        "B/I slips, adjacent same-type entities": count(lambda c, r: slipped(r)),
        "words of several pieces": count(lambda c, r: any(t.startswith("##") for t in tokens(r))),
    }
    assert len(cases) >= 100
    assert all(n >= 5 for n in coverage.values()), coverage


def test_every_strategy_groups_as_transformers_does(cases):
    compared = exceptions = 0
    for case, run in cases:
        for strategy, found in run["results"].items():
            compared += 1
            if not run["differing"] or strategy in ("none", "simple"):  # words play no part in none/simple
                assert same(found["ours"], found["theirs"]), (case, strategy, found)
            else:
                exceptions += 1
                assert same(found["ours"], found["theirs_marked"]), (case, strategy, found)
    assert compared == 5 * len(cases) and exceptions < compared / 5


def test_the_only_word_boundary_difference_is_a_piece_whose_text_normalisation_shortened(cases):
    """The documented exception: transformers' length test misfires on decomposed accents, and only there."""
    exception_cases = 0
    for case, run in cases:
        for index in run["differing"]:
            start, end = run["window"].offsets[index]
            piece = case["text"][start:end]
            assert any(unicodedata.category(ch) == "Mn" for ch in piece), (case, index, piece)
            assert len(run["window"].tokens[index]) - (2 if run["window"].tokens[index].startswith("##") else 0) != len(piece)
        exception_cases += bool(run["differing"])
    assert exception_cases >= 5  # the exception is exercised, not just allowed


def test_sao_paulo_stays_whole_where_transformers_loses_sao(folder):
    """The exception's example: transformers glues the accent-stripped "sao" to "in" and keeps "Paulo"."""
    text = "in Sa\u0303o Paulo"
    pipe = pipeline_for(folder, True, "bio")
    window = our_window(pipe, text)
    assert window.tokens == ("[CLS]", "in", "sao", "paulo", "[SEP]")
    logits = np.full((5, len(LABELS)), -4.0)
    for i, tag in enumerate(["O", "O", "B-LOC", "I-LOC", "O"]):
        logits[i, LABELS.index(tag)] = 4.0
    for strategy in ("first", "average", "max"):
        theirs = transformers_entities(pipe, text, logits, strategy)
        ours = group_entities(softmax(logits), window.tokens, window.offsets, text, strategy)
        assert [text[s:e] for _, s, e, _ in theirs] == ["Paulo"]
        assert [(e.type, e.text) for e in ours] == [("LOC", "Sa\u0303o Paulo")]


@pytest.mark.parametrize(
    ("text", "tags", "uncased", "entity"),
    [
        ("5°C in Berlin", ["O", "B-LOC", "O", "O", "O", "O", "O"], True, "5°C"),  # 5 ##° ##c: one word
        ("Apple™ in", ["O", "B-ORG", "O", "O", "O"], True, "Apple™"),
        ("东 東京", ["O", "O", "B-LOC", "B-LOC", "O"], True, "東"),  # [UNK], then one word per CJK character
    ],
)
def test_the_issues_examples_match_transformers(folder, text, tags, uncased, entity):
    pipe = pipeline_for(folder, uncased, "bio")
    window = our_window(pipe, text)
    assert len(window.tokens) == len(tags)
    logits = np.full((len(window.tokens), len(LABELS)), -4.0)
    for i, tag in enumerate(tags):
        logits[i, LABELS.index(tag)] = 4.0
    for strategy in STRATEGIES:
        ours = group_entities(softmax(logits), window.tokens, window.offsets, text, strategy)
        assert same([(e.type, e.start, e.end, e.score) for e in ours], transformers_entities(pipe, text, logits, strategy))
        if strategy == "first":
            assert ours[0].text == entity
