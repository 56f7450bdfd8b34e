"""The load benchmarks' own machinery (benchmarks/run.py): clients that share one TLS context, and
the "30 users, mix with QA" row's burst, run small against the real app (numbers are never asserted)."""

from __future__ import annotations

import ssl

from benchmarks import run


def test_clients_share_one_verifying_tls_context(app_url):
    first, second = run.api_client(app_url), run.api_client(app_url)
    assert first.ssl_verify is second.ssl_verify  # built once: gradio_client would build two per call
    assert isinstance(first.ssl_verify, ssl.SSLContext)
    assert first.ssl_verify.verify_mode == ssl.CERT_REQUIRED and first.ssl_verify.check_hostname


def test_mix_burst_sends_every_endpoint_qa_included(app_url):
    report = run.bench_mix(app_url, users=2, rounds=5)
    assert report["requests"] == 10 and report["errors"] == 0, report["error_samples"]
    assert set(report["per_endpoint_p50_s"]) == {"/attention", "/tokenize", "/sentiment", "/ner", "/qa"}
    assert report["qa_p50_s"] is not None and report["p95_s"] >= report["p50_s"]
