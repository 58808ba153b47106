"""The portal's Prometheus metrics (prometheus-client). Under gunicorn every worker process
writes its samples to files under PROMETHEUS_MULTIPROC_DIR (set before the first import,
see gunicorn.conf.py) and /metrics adds them up; without it, one process, its own registry.
Labels never carry a value a user typed: route templates, methods, status codes, task names."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

REQUEST_SECONDS = Histogram(
    "portal_request_seconds",
    "Time to answer a request, by route template, method and status.",
    ["route", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
JOB_SECONDS = Histogram(
    "portal_job_seconds",
    "Time a job of the queue took, by task and outcome (complete, error).",
    ["task", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
LETTER_RENDER_SECONDS = Histogram(
    "portal_letter_render_seconds",
    "Time WeasyPrint took to render one PDF (letters, summaries, reports).",
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16),
)
SIGNIN_FAILURES = Counter(
    "portal_signin_failures",
    "Sign-ins refused at the password step (unknown email, wrong password, locked).",
)


def exposition(*read_now) -> tuple[bytes, str]:
    """The text every scrape gets: every process's samples, and the collectors given (read
    at this scrape)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Everything())
    for collector in read_now:
        registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Everything:
    """The default registry's metrics (this process's) inside a per-scrape registry."""

    def collect(self):
        return REGISTRY.collect()
