"""Each training recipe runs end to end on a tiny slice (offline), so recipes cannot rot.

The data folder is built from the VADER snippets shipped in tests/data (real text,
MIT licence) in the archive's own file format; the models are trained for a few
steps only. The exported adapter must load through the app's code path and give
exactly the predictions the trained model gave.
"""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

pytest.importorskip("peft", reason="training needs requirements-train.txt")
pytest.importorskip("spacy", reason="training needs requirements-train.txt")

from explorer.train import vader  # noqa: E402

DATA = vader.FILES


@pytest.fixture()
def tiny_vader(tmp_path, monkeypatch):
    """A VADER-format data folder: the 300 shipped movie snippets, split across the four files."""
    from pathlib import Path

    rows = [line.split("\t") for line in (Path(__file__).parent / "data" / "sentiment_heldout.tsv").read_text().splitlines()[1:]]
    gold = [
        line
        for line in (Path(__file__).parent / "data" / "ner_gold.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    folder = tmp_path / "hutto_ICWSM_2014"
    folder.mkdir()
    (folder / DATA["movie"]).write_text(
        "\n".join(f"{i}\t{r[0]}\t{r[2]}" for i, r in enumerate(rows, 1)), encoding="latin-1", errors="replace"
    )
    (folder / DATA["tweets"]).write_text(
        "\n".join(f"{i}\t{r[0]}\t{r[2]}" for i, r in enumerate(rows[:60], 1)), encoding="latin-1", errors="replace"
    )
    (folder / DATA["amazon"]).write_text(
        "\n".join(f"{i // 4}_{i % 4}\t{r[0]}\t{r[2]}" for i, r in enumerate(rows[:80])), encoding="latin-1", errors="replace"
    )
    nyt = [re.sub(r"\[([^\]]+)\]\((?:PER|ORG|LOC|MISC)\)", r"\1", line) for line in gold]  # markup off: plain sentences
    (folder / DATA["nyt"]).write_text(
        "\n".join(f"{i // 4}_{i % 4}\t0.0\t{t}" for i, t in enumerate(nyt)), encoding="latin-1", errors="replace"
    )
    monkeypatch.setattr(vader, "DATA_DIR", tmp_path)
    return folder


def quick(config, **changes):
    return dataclasses.replace(config, epochs=1, batch_size=8, **changes)


def test_sentiment_recipe_smoke(tiny_vader, tmp_path):
    from explorer.models import embedded_model_path
    from explorer.models.loading import load_adapted_model
    from explorer.train import sentiment

    out = tmp_path / "sentiment"
    metrics = sentiment.train(out_dir=out, limit=32, config=quick(sentiment.CONFIG))
    assert metrics["train_n"] == 32 and 0.0 <= metrics["heldout_movie_accuracy"] <= 1.0
    assert {"adapter.safetensors", "config.json", "metrics.json", "MODEL_CARD.md"} <= {p.name for p in out.iterdir()}
    # The app's loader (LoRA merged by hand, no peft) reproduces the trained model's predictions.
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(embedded_model_path())
    merged = load_adapted_model(embedded_model_path(), out, "sentiment")
    heldout = sentiment.datasets()["heldout_movie"][:200]
    assert sentiment.accuracy(merged, tokenizer, heldout) == pytest.approx(metrics["heldout_movie_accuracy"])
    assert "Measured scores" in (out / "MODEL_CARD.md").read_text()


def test_ner_recipe_smoke(tiny_vader, tmp_path):
    from explorer.train import ner

    out = tmp_path / "ner"
    metrics = ner.train(out_dir=out, limit=24, config=quick(ner.CONFIG, max_length=48))
    assert metrics["train_n"] == 24 and metrics["gold"]["n_sentences"] == 58
    config = json.loads((out / "config.json").read_text())
    assert config["labels"][:3] == ["O", "B-PER", "I-PER"] and config["lora_scaling"] > 0


def test_synthetic_ner_sentences_are_exact_and_reproducible():
    from explorer.train import ner, ner_synthetic

    first, again = ner_synthetic.sentences(600), ner_synthetic.sentences(600)
    assert [s.text for s in first] == [s.text for s in again]
    kinds = {kind for s in first for _, _, kind in s.entities}
    assert kinds == {"PER", "ORG", "LOC", "MISC"}
    spans = [(s.text[a:b], kind) for s in first for a, b, kind in s.entities]
    for span, _ in spans:
        assert span == span.strip() and span and not span.startswith(("Mr.", "Dr.", "Mrs."))
        assert not span.lower().startswith(("the ", "a ", "an "))  # CoNLL: the determiner stays outside
    assert any(span.endswith((" Inc.", " Corp.", " Ltd")) for span, _ in spans)
    assert any(" for " in span or " of " in span for span, kind in spans if kind == "ORG")  # whole institution names
    assert any(span.isupper() and span.isalpha() for span, kind in spans if kind == "ORG")  # acronyms are ORG
    assert sum(kind == "MISC" for _, kind in spans) > 0.1 * len(spans)
    gold = {s.text for s in ner.read_gold()}
    assert not gold & {s.text for s in ner_synthetic.sentences(ner.SYNTHETIC_SENTENCES)}  # gold stays unseen


@pytest.mark.parametrize(
    "text, teacher, expected",
    [
        # a leading determiner leaves the span; a capitalised "The" inside a sentence is part of a name
        ("The Big Foundation met the Federal Bureau.", [(0, 18, "ORG"), (23, 41, "ORG")],
         [("Big Foundation", "ORG"), ("Federal Bureau", "ORG")]),
        ("She reads The Daily Planet.", [(10, 26, "ORG")], [("The Daily Planet", "ORG")]),
        # an institution name runs on through "for" + capitalised words, swallowing the piece split off
        ("He left the Corporation for Open Digital Libraries.", [(8, 23, "ORG"), (28, 50, "ORG")],
         [("Corporation for Open Digital Libraries", "ORG")]),
        ("Ask the Center for Science.", [(4, 14, "ORG")], [("Center for Science", "ORG")]),
        ("Hall's shop opened in Leeds.", [(0, 6, "PER"), (22, 27, "LOC")], [("Hall", "PER"), ("Leeds", "LOC")]),
        ("this movie was creepy", [(15, 21, "MISC")], None),  # no capital: not a CoNLL name, sentence left out
    ],
)  # fmt: skip
def test_ner_teacher_spans_follow_conll_rules(text, teacher, expected):
    from explorer.train.ner import conll_spans

    spans = conll_spans(text, tuple(teacher))
    assert (None if spans is None else [(text[a:b], kind) for a, b, kind in spans]) == expected


def test_qa_recipe_smoke(tiny_vader, tmp_path):
    from explorer.train import qa

    out = tmp_path / "qa"
    metrics = qa.train(out_dir=out, limit=24, config=quick(qa.CONFIG, max_length=96, extra={"stride": 32, "max_answer_len": 30}))
    assert metrics["train_questions"] == 24 and metrics["natural_questions"]["n"] == 44
    assert all(example["question"].endswith("?") for example in metrics["examples"])
    # The exported adapter, merged by the app's loader, answers as the trained model did (the app's QA path).
    from transformers import AutoTokenizer

    from explorer.models import LoadedModel, ModelSpec, embedded_model_path
    from explorer.models.loading import load_adapted_model

    merged = load_adapted_model(embedded_model_path(), out, "qa")
    tokenizer = AutoTokenizer.from_pretrained(embedded_model_path())
    loaded = LoadedModel(ModelSpec("qa-smoke", "embedded", task="qa"), tokenizer, merged, tokenizer.model_max_length)
    natural = [(item["question"], item["context"], item["answers"]) for item in qa.read_natural()]
    again = qa.score(loaded, natural)
    assert again["exact_match"] == pytest.approx(metrics["natural_questions"]["exact_match"])
    assert again["f1"] == pytest.approx(metrics["natural_questions"]["f1"], abs=1e-6)


def test_cloze_translation_rules():
    """The chapter's sentence becomes a When-question whose answer is the year."""
    from explorer.train import qa

    chunk = [("doc", ["The Transformer is a deep learning model introduced in 2017, used primarily in NLP."])]
    questions = {q.answer: q for q in qa.generate_questions(chunk, per_sentence=5)}
    assert questions["2017"].question.startswith("When ") and "2017" not in questions["2017"].question
    assert " in 2017" not in questions["2017"].question and questions["2017"].answer_type == "DATE"
    context = questions["2017"].context
    assert context[questions["2017"].answer_start :].startswith("2017")
    assert np.all([q.question.endswith("?") for q in questions.values()])


def test_wh_movement_inverts_the_clause_and_keeps_whole_answers():
    """Questions read as English asks them: the auxiliary or do-support before the subject, the counted
    noun with "how many", a subject answer left in place, and a coordination answered whole."""
    from explorer.train import qa

    chunk = [
        (
            "doc",
            [
                "Marie Curie was born in Warsaw in 1867.",
                "Smith has written 12 books about the war.",
                "She discovered polonium and radium.",
                "The committee reopened the old factory in 1973 after a long strike.",
                "The river flows through Peru, Colombia and Brazil before reaching the sea.",
            ],
        )
    ]
    made = {(q.question, q.answer) for q in qa.generate_questions(chunk, per_sentence=6)}
    assert ("When was Marie Curie born in Warsaw?", "1867") in made
    assert ("How many books has Smith written about the war?", "12") in made
    assert ("What did she discover?", "polonium and radium") in made
    assert ("When did the committee reopen the old factory after a long strike?", "1973") in made
    assert ("What reopened the old factory in 1973 after a long strike?", "The committee") in made
    assert "Peru, Colombia and Brazil" in {answer for _, answer in made}
    assert not {answer for _, answer in made} & {"Colombia", "Brazil", "radium"}  # later conjuncts are not answers alone
