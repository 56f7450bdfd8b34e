"""Corpus statistics: sentences/s in-process vs Ray, `python -m benchmarks.corpus` (measured, never asserted in tests).

The shipped corpus (or its first --sentences lines), MiniLM, spaCy parsing included. In-process:
one worker, torch on every core. Ray: --workers local actors of one CPU each. For both, the time
to load the model and the parser (and, for Ray, to start it) is reported apart from the steady
run, and the run is repeated with the same warm workers, alternating in-process and Ray (the
median is reported), so that a busy neighbour on the machine slows both alike. The two JSON
results must be identical. Writes benchmarks/results/corpus.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run import RESULTS  # noqa: E402

TARGET = 20  # sentences/s on 2 cores for MiniLM including parsing (issue 13)


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def measure(sentences: list[str], repeats: int, n_workers: int, n_shards: int) -> dict:
    import ray
    import torch

    from explorer.corpus.job import BATCH_SIZE, RayWorkers, ShardWorker, dumps, merge_shards, plan_shards, result_json

    shards = plan_shards(sentences, n_shards)
    began = time.perf_counter()
    worker = ShardWorker()
    in_process_load = time.perf_counter() - began
    began = time.perf_counter()
    ray.init(address="local", num_cpus=n_workers, include_dashboard=False, log_to_driver=False)
    ray_start = time.perf_counter() - began
    began = time.perf_counter()
    workers = RayWorkers(n_workers=n_workers)
    ray_load = time.perf_counter() - began
    times: dict[str, list[float]] = {"in_process": [], "ray": []}
    results = {}
    parse_times = []
    try:
        for _ in range(repeats):
            began = time.perf_counter()
            parts = [worker.run(shard, [sentences[line] for line in shard]) for shard in shards]
            times["in_process"].append(time.perf_counter() - began)
            results["in_process"] = merge_shards(parts)
            began = time.perf_counter()
            results["ray"] = merge_shards(workers.run(sentences, shards))
            times["ray"].append(time.perf_counter() - began)
            began = time.perf_counter()
            for shard in shards:  # the parser alone, the same batches
                for start in range(0, len(shard), BATCH_SIZE):
                    list(worker.nlp.pipe([sentences[line] for line in shard[start : start + BATCH_SIZE]]))
            parse_times.append(time.perf_counter() - began)
    finally:
        workers.close()
        ray.shutdown()
    as_json = {name: dumps(result_json(total, "all-MiniLM-L6-v2", "benchmark")) for name, total in results.items()}
    n = len(sentences)
    in_process_s, ray_s = statistics.median(times["in_process"]), statistics.median(times["ray"])
    return {
        "sentences": n,
        "shards": len(shards),
        "batch_size": BATCH_SIZE,
        "torch_threads_in_process": torch.get_num_threads(),
        "ray_workers": n_workers,
        "repeats": repeats,
        "in_process": {
            "load_s": in_process_load,
            "run_s": times["in_process"],
            "sentences_per_s": n / in_process_s,
            "sentences_per_s_with_loading": n / (in_process_load + in_process_s),
        },
        "ray": {
            "start_s": ray_start,
            "workers_loaded_s": ray_load,
            "run_s": times["ray"],
            "sentences_per_s": n / ray_s,
            "sentences_per_s_with_loading": n / (ray_start + ray_load + ray_s),
        },
        "parse_only_sentences_per_s": n / statistics.median(parse_times),
        "identical_json": as_json["in_process"] == as_json["ray"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=0, help="the first N lines of the corpus (default: all)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shards", type=int, default=16)
    args = parser.parse_args()

    from explorer.corpus import SHIPPED_CORPUS, read_sentences

    sentences = read_sentences(SHIPPED_CORPUS)
    sentences = sentences[: args.sentences] if args.sentences else sentences
    before = load_average()
    measured = measure(sentences, args.repeats, args.workers, args.shards)
    result = {
        "machine": f"{platform.platform()}, {os.cpu_count()} CPUs",
        "corpus": SHIPPED_CORPUS.relative_to(ROOT).as_posix(),
        "load_average_before": before,
        "load_average_after": load_average(),
        **measured,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "corpus.json").write_text(json.dumps(result, indent=2) + "\n")
    local, ray = result["in_process"], result["ray"]
    title = f"corpus job, MiniLM, {result['sentences']} sentences, parsing included"
    print(f"| {title} | in-process | Ray, {args.workers} workers | target |")
    print("|---|---:|---:|---:|")
    steady = f"{local['sentences_per_s']:.1f} | {ray['sentences_per_s']:.1f}"
    print(f"| sentences/s, models loaded (median of {args.repeats}) | {steady} | ≥ {TARGET} |")
    loading = f"{local['sentences_per_s_with_loading']:.1f} | {ray['sentences_per_s_with_loading']:.1f}"
    print(f"| sentences/s, loading included | {loading} | |")
    print(f"| start + load (s) | {local['load_s']:.1f} | {ray['start_s'] + ray['workers_loaded_s']:.1f} | |")
    print(f"| spaCy parse alone, sentences/s | {result['parse_only_sentences_per_s']:.0f} | | |")
    print(f"| identical JSON | {result['identical_json']} | | |")
    print(f"load average before/after: {before} / {result['load_average_after']}")


if __name__ == "__main__":
    main()
