"""Corpus statistics: shards merge exactly, Ray and in-process give identical JSON, the shipped result's schema."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explorer.corpus import SHIPPED_CORPUS, load_result, read_sentences, result_path
from explorer.corpus.job import FIXED_POINT, plan_batches, plan_shards, to_fixed
from explorer.heads import ROLES, SHARES

# Twelve sentences: varied relations, a split word ("gorgeously"), a contraction ("doesn't"), and
# "cannot" (one piece for spaCy's two words "can" "not": left out of the syntax counts).
SENTENCES = [
    "The cat sat on the mat.",
    "She quickly left the room before the meeting ended.",
    "The gorgeously elaborate sequel is so huge that words fail.",
    "It doesn't feel like an issue movie at all.",
    "Our leaders have been asked to explain their decision.",
    "A small dog barked at the mailman every morning.",
    "The committee, which met on Tuesday, approved two new rules.",
    "We cannot ignore the cost of the war.",
    "His first novel was praised by critics and readers alike.",
    "Three hundred people attended the concert in the park.",
    "If you like to have fun, this is a good place to start.",
    "The senator said that the bill would pass easily.",
]


@pytest.mark.unit
def test_shards_are_whole_batches_of_similar_lengths_covering_the_corpus():
    sentences = ["x" * n for n in [5, 3, 9, 1, 7, 3, 8, 2, 6, 4]]
    # shortest first, ties in line order: lines 3 (1 char), 7 (2), 1 and 5 (3), 9 (4), 0 (5), 8, 4, 6, 2
    assert plan_batches(sentences, 4) == [[3, 7, 1, 5], [9, 0, 8, 4], [6, 2]]
    assert plan_shards(sentences, 2, 4) == [[3, 7, 1, 5, 9, 0, 8, 4], [6, 2]]
    assert plan_shards(sentences, 99, 4) == plan_batches(sentences, 4)  # no more shards than batches
    for n_sentences, n_shards, batch in [(2000, 16, 32), (1999, 7, 8), (12, 3, 4), (5, 1, 8)]:
        sentences = [str(line) * (line % 13) for line in range(n_sentences)]
        shards = plan_shards(sentences, n_shards, batch)
        assert sorted(line for shard in shards for line in shard) == list(range(n_sentences))
        batches = plan_batches(sentences, batch)
        flat = [line for shard in shards for line in shard]
        assert [line for batch_lines in batches for line in batch_lines] == flat  # shards cut between batches
        assert all(len(shard) % batch == 0 for shard in shards[:-1])


@pytest.mark.unit
def test_fixed_point_sums_do_not_depend_on_their_order():
    rng = np.random.default_rng(0)
    values = rng.random((50, 6, 12))
    forward = sum(to_fixed(v) for v in values)
    backward = sum(to_fixed(v) for v in values[::-1])
    assert np.array_equal(forward, backward)
    np.testing.assert_allclose(forward / FIXED_POINT, values.sum(axis=0), atol=50 / FIXED_POINT)


@pytest.fixture(scope="module")
def worker():
    pytest.importorskip("spacy", reason="the corpus job needs requirements-train.txt (spaCy)")
    from explorer.corpus.job import ShardWorker

    return ShardWorker(None, batch_size=4)


def as_json(total) -> str:
    from explorer.corpus.job import dumps, result_json

    return dumps(result_json(total, "all-MiniLM-L6-v2", "test", min_count=1, batch_size=4))


@pytest.mark.real
def test_merged_shards_equal_one_shard(worker):
    from explorer.corpus.job import merge_shards

    def run(shard: list[int]):
        return worker.run(shard, [SENTENCES[line] for line in shard])

    (everything,) = plan_shards(SENTENCES, 1, 4)
    whole = run(everything)
    parts = [run(shard) for shard in plan_shards(SENTENCES, 3, 4)]
    assert len(parts) == 3
    assert as_json(merge_shards(parts)) == as_json(whole)
    assert as_json(merge_shards(parts[::-1])) == as_json(whole)  # integer sums: any order
    result = json.loads(as_json(whole))
    assert result["sentences"] == 12 and result["skipped_sentences"] == [7]  # "cannot"
    assert result["words"] == sum(len(worker.nlp(s)) for i, s in enumerate(SENTENCES) if i != 7)
    relations = {row["relation"] for row in result["syntax"]}
    assert {"det", "nsubj", "prep", "pobj", "amod"} <= relations
    with pytest.raises(ValueError, match="one line number per sentence"):
        worker.run([0, 1], SENTENCES[:3])


@pytest.mark.real
def test_ray_and_in_process_give_identical_json():
    pytest.importorskip("spacy", reason="the corpus job needs requirements-train.txt (spaCy)")
    ray = pytest.importorskip("ray", reason="Ray is the optional extra of requirements-scale.txt")
    from explorer.corpus.job import run_job

    in_process = run_job(SENTENCES, None, n_shards=3, batch_size=4)
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        on_ray = run_job(SENTENCES, None, n_shards=3, ray_address="local", n_workers=2, batch_size=4)
    finally:
        ray.shutdown()
    assert as_json(on_ray) == as_json(in_process)


@pytest.mark.unit
def test_the_shipped_result_has_the_schema_and_counts_the_shipped_corpus():
    result = load_result("all-MiniLM-L6-v2")
    assert result is not None and load_result(None) == result and load_result("no-such-model") is None
    assert result_path("sentence-transformers/x").name == "sentence-transformers--x.json"
    assert result["model"] == "all-MiniLM-L6-v2" and result["spacy_model"] == "en_core_web_sm 3.8.0"
    assert (
        result["corpus"]
        == "assets/corpus/vader_sentences.txt"
        == SHIPPED_CORPUS.relative_to(SHIPPED_CORPUS.parents[2]).as_posix()
    )
    sentences = read_sentences(SHIPPED_CORPUS)
    assert result["sentences"] == len(sentences) >= 1000
    assert isinstance(result["words"], int) and result["words"] > 10 * len(sentences)
    assert isinstance(result["min_count"], int)
    roles = result["roles"]
    assert set(roles) == {*SHARES, "entropy", "relative_entropy", "labels"}
    for name, grid in roles.items():
        assert np.asarray(grid).shape == (6, 12), name
    assert {label for row in roles["labels"] for label in row} <= set(ROLES)
    shares = sum(np.asarray(roles[name]) for name in ("cls", "sep", "punct"))
    assert np.all((shares >= 0) & (shares <= 1 + 1e-4))
    counts = [row["count"] for row in result["syntax"]]
    assert counts == sorted(counts, reverse=True) and min(counts) >= result["min_count"]
    for row in result["syntax"]:
        assert set(row) >= {"relation", "count", "dependent_to_head", "head_to_dependent", "baseline"}
        for direction in ("dependent_to_head", "head_to_dependent"):
            best = row[direction]
            assert 0 <= best["layer"] < 6 and 0 <= best["head"] < 12 and 0 <= best["accuracy"] <= 1
        assert row["baseline"]["offset"] in (-3, -2, -1, 1, 2, 3) and 0 <= row["baseline"]["accuracy"] <= 1
    wanted = {"nsubj", "dobj", "amod", "det", "prep", "pobj", "poss", "aux", "auxpass", "compound", "advmod", "mark"}
    assert wanted <= {row["relation"] for row in result["syntax"]}
