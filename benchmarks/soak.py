"""Load and soak: 30 concurrent gradio_client users for 60 s against a running app.

``python -m benchmarks.soak`` starts ``python app.py`` itself (or use ``--url`` for a running
one), warms it up, then lets the same ``--users`` clients loop over every endpoint with different
inputs for ``--seconds``. One user in ten asks for a hub model that cannot be loaded
offline (``bert-base-uncased``): those calls must come back with the fallback message while
every other tab keeps serving. A small share of the requests (one in ``--costly-every`` per user,
30 by default; 0 leaves them out) are the Explain tab's costly endpoints, which share one
one-at-a-time queue: ``/attribute`` with integrated gradients and with occlusion, and
``/faithfulness`` (every method plus the ERASER re-runs), all on minilm-sentiment; they must
answer without error too while the others keep serving. Reports errors, latency percentiles and the server's memory
growth (RSS after warm-up vs at the end) as JSON in benchmarks/results/soak.json. A script,
not a test: it measures, it does not assert.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run import RESULTS, RunningApp, api_client, percentile, run_users  # noqa: E402

WORDS = "attention lets every token look at every other token in the sentence and learn which ones matter".split()
CONTEXT = (
    "The Transformer is a deep learning architecture that was introduced in 2017 by researchers at Google. "
    "It relies on self-attention instead of recurrence."
)


def texts(count: int) -> list[str]:
    """``count`` different English inputs of 8 to 60 words."""
    out = []
    for index in range(count):
        length = 8 + (index * 7) % 52
        words = list(itertools.islice(itertools.cycle(WORDS[index % len(WORDS) :] + WORDS), length))
        out.append(f"Sample {index}: " + " ".join(words) + ".")
    return out


def calls(text: str, hub_model: bool) -> list[tuple[tuple, str]]:
    model = "bert-base-uncased" if hub_model else "all-MiniLM-L6-v2"
    return [
        ((text, model, 2, 3, 0, False, False), "/attention"),
        ((text, model), "/tokenize"),
        ((text, "minilm-sentiment", 5, 0), "/sentiment"),
        ((text, "minilm-ner", "simple", 5, 0), "/ner"),
        (("When was the Transformer introduced?", CONTEXT + " " + text, "minilm-qa", 5, 0), "/qa"),
    ]


# The Explain tab's endpoints: many forward (and backward) passes each, one call at a time per server.
COSTLY_EVERY = 30  # one request in 30 of each user


def costly_calls(text: str) -> list[tuple[tuple, str]]:
    return [
        ((text, "minilm-sentiment", "integrated_gradients", "", 32), "/attribute"),
        ((text, "minilm-sentiment", "occlusion", "", 32), "/attribute"),
        ((text, "minilm-sentiment", "", 32), "/faithfulness"),
    ]


def endpoint_name(args: tuple, api_name: str) -> str:
    """The name latencies and errors are reported under: /attribute also names its method."""
    return f"{api_name}:{args[2]}" if api_name == "/attribute" else api_name


def pick(text: str, hub: bool, index: int, step: int, only: str | None, costly_every: int) -> tuple[tuple, str]:
    """A user's ``step``-th request: the five tabs in turn, and every ``costly_every``-th one an Explain
    endpoint (the three in turn). Users are offset by their index, so the costly calls are spread
    over the run instead of arriving together (and a short run still has some); ``only`` keeps one
    endpoint."""
    if only is not None:
        choices = [c for c in calls(text, hub) + costly_calls(text) if c[1] == only]
        return choices[step % len(choices)]
    shifted = step + index
    if costly_every and shifted % costly_every == costly_every - 1:
        costly = costly_calls(text)
        return costly[(index + shifted // costly_every) % len(costly)]
    plain = calls(text, hub)
    # the tabs' rotation goes on where it was, so no tab is the one a costly call always replaces
    done_costly = shifted // costly_every - index // costly_every if costly_every else 0
    return plain[(step - done_costly) % len(plain)]


def run(
    url: str,
    users: int,
    seconds: float,
    pool: list[str],
    stop_after: int | None = None,
    done: list | None = None,
    hub_users: bool = True,
    only: str | None = None,
    clients: list | None = None,
    costly_every: int = COSTLY_EVERY,
) -> dict:
    clients = clients or [api_client(url) for _ in range(users)]
    latencies: dict[str, list[float]] = {}
    errors: list[str] = []
    fallbacks = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    counter = itertools.count()

    def user(index: int) -> None:
        nonlocal fallbacks
        hub = hub_users and index % 10 == 9  # one user in ten asks for a model that cannot be loaded offline
        for step in itertools.count():
            if time.monotonic() > deadline:
                return
            number = next(counter)
            if stop_after is not None and number >= stop_after:
                return
            text = pool[(index * 31 + step) % len(pool)]
            args, api_name = pick(text, hub, index, step, only, costly_every)
            name = endpoint_name(args, api_name)
            began = time.perf_counter()
            try:
                result = clients[index].predict(*args, api_name=api_name)
                elapsed = time.perf_counter() - began
                if isinstance(result, dict) and "error" in result:  # the API answers errors as JSON
                    raise RuntimeError(result["error"])
                message = " ".join(result.get("warnings", [])) if isinstance(result, dict) else ""
                with lock:
                    latencies.setdefault(name, []).append(elapsed)
                    if done is not None:
                        done[0] += 1
                    if hub and "Showing the embedded" in message:
                        fallbacks += 1
            except Exception as error:  # counted: the report says how many and which
                with lock:
                    errors.append(f"{name}: {error!r}"[:300])

    wall = run_users(users, user)
    every = sorted(x for values in latencies.values() for x in values)
    explain = {name: values for name, values in latencies.items() if name.startswith(("/attribute", "/faithfulness"))}
    explain_errors = [error for error in errors if error.startswith(("/attribute", "/faithfulness"))]

    return {
        "users": users,
        "seconds": wall,
        "requests": len(every) + len(errors),
        "errors": len(errors),
        "error_samples": errors[:5],
        "hub_fallbacks": fallbacks,
        "throughput_per_s": len(every) / wall if wall else None,
        "p50_s": percentile(every, 0.5),
        "p95_s": percentile(every, 0.95),
        "max_s": every[-1] if every else None,
        "per_endpoint_p50_s": {name: statistics.median(values) for name, values in sorted(latencies.items())},
        "per_endpoint_max_s": {name: max(values) for name, values in sorted(latencies.items())},
        "costly_every": costly_every,
        "explain_requests": sum(len(values) for values in explain.values()),
        "explain_errors": len(explain_errors),
        "explain_error_samples": explain_errors[:3],
    }


def _percent(value: float | None) -> str:
    return "n/a (fewer than 500 requests)" if value is None else f"{value:+.1%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup-requests", type=int, default=1000, help="every text once through every endpoint")
    parser.add_argument("--no-hub", action="store_true", help="no user asks for the unloadable hub model")
    parser.add_argument("--only", help="one endpoint only, e.g. /attention (to find what grows)")
    parser.add_argument(
        "--costly-every",
        type=int,
        default=COSTLY_EVERY,
        help="one request in N of each user goes to /attribute (integrated gradients, occlusion) or /faithfulness; 0: none",
    )
    args = parser.parse_args()
    pool = texts(200)  # more than the analysis cache holds (64), so it keeps evicting
    app = RunningApp()
    try:
        # The same 30 users warm up and then keep going: each gradio session holds its own state,
        # so new users would measure session start-up, not the server running on.
        clients = [api_client(app.url) for _ in range(args.users)]
        options = {"hub_users": not args.no_hub, "only": args.only, "clients": clients, "costly_every": args.costly_every}
        warmup = run(app.url, args.users, 600, pool, stop_after=args.warmup_requests, **options)
        memory_before = app.rss_mb()
        timeline: list[tuple[int, int, int]] = []  # (seconds, requests answered, RSS MB)
        sampling = threading.Event()
        done = [0]

        def sample() -> None:  # RSS every 2 s, against the number of requests answered so far
            began = time.monotonic()
            while not sampling.wait(2):
                timeline.append((round(time.monotonic() - began), done[0], round(app.rss_mb()["VmRSS"])))

        sampler = threading.Thread(target=sample)
        sampler.start()
        soak = run(app.url, args.users, args.seconds, pool[::-1], done=done, **options)
        sampling.set()
        sampler.join()
        memory_after = app.rss_mb()
    finally:
        app.close()
    report = {
        "warmup": {
            "requests": warmup["requests"],
            "errors": warmup["errors"],
            "explain_requests": warmup["explain_requests"],
            "explain_errors": warmup["explain_errors"],
            "error_samples": warmup["error_samples"],
        },
        "soak": soak,
        "rss_mb_after_warmup": memory_before["VmRSS"],
        "rss_mb_at_end": memory_after["VmRSS"],
        "rss_growth": memory_after["VmRSS"] / memory_before["VmRSS"] - 1,
        "peak_rss_mb": memory_after["VmHWM"],
        "rss_timeline_s_requests_mb": timeline,
    }
    # the budget: growth across 500 requests, right after warm-up and at the end of the run
    at_500 = next((mb for _, count, mb in timeline if count >= 500), None)
    last = timeline[-1] if timeline else None
    before_last_500 = next((mb for _, count, mb in reversed(timeline) if last and count <= last[1] - 500), None)
    report["rss_growth_first_500"] = at_500 / memory_before["VmRSS"] - 1 if at_500 else None
    report["rss_growth_last_500"] = last[2] / before_last_500 - 1 if last and before_last_500 else None
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    print(
        f"\n{soak['users']} users for {soak['seconds']:.0f} s: {soak['requests']} requests, {soak['errors']} errors, "
        f"p50 {soak['p50_s']:.2f} s, p95 {soak['p95_s']:.2f} s, {soak['throughput_per_s']:.1f} requests/s; "
        f"{soak['explain_requests']} of them to /attribute or /faithfulness ({soak['explain_errors']} errors); "
        f"{soak['hub_fallbacks']} calls for an unloadable hub model fell back to the embedded one; "
        f"RSS {report['rss_mb_after_warmup']:.0f} → {report['rss_mb_at_end']:.0f} MB ({report['rss_growth']:+.1%}); "
        f"across the first 500 requests {_percent(report['rss_growth_first_500'])}, "
        f"the last 500 {_percent(report['rss_growth_last_500'])}."
    )


if __name__ == "__main__":
    main()
