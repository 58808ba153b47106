"""One JSON log line per job the worker runs (huey's signals), its duration in the metrics,
and the queue's depth and oldest wait for /metrics and /readyz. The line names the task and
its id, never its arguments (row ids only, but nothing to gain from them in a log)."""

from __future__ import annotations

import contextlib
import logging
import time
from typing import TYPE_CHECKING

from portal.jobs import queue, when_made
from portal.observability.request_log import json_logger, line

if TYPE_CHECKING:
    from huey import Huey

log = logging.getLogger("portal.jobs.log")
_ENQUEUED = "observability:enqueued:"  # + task id: when it entered the queue (epoch seconds)
_started: dict[str, float] = {}
_connected = False


def connect() -> None:
    """Once per process (create_app runs many times in the tests)."""
    global _connected
    json_logger(log.name, stderr=False)  # the worker's command adds stderr (use_stderr)
    if _connected:
        return
    _connected = True
    when_made(_listen)  # the queue is made at its first use (portal.jobs)


def _listen(huey: Huey) -> None:
    from huey import signals

    huey.signal(signals.SIGNAL_ENQUEUED)(_enqueued)
    huey.signal(signals.SIGNAL_EXECUTING)(_executing)
    huey.signal(signals.SIGNAL_COMPLETE, signals.SIGNAL_ERROR)(_finished)
    huey.signal(signals.SIGNAL_REVOKED, signals.SIGNAL_EXPIRED, signals.SIGNAL_CANCELED)(_forget)


def use_stderr() -> None:
    """The worker process writes its job lines to stderr (the web process does not run jobs)."""
    json_logger(log.name)


def _enqueued(signal: str, task) -> None:
    # The queue's own enqueue says so if it is down; only the age metric loses a sample.
    with contextlib.suppress(Exception):
        queue().storage.put_data(_ENQUEUED + task.id, repr(time.time()).encode())


def _forget(signal: str, task, *args) -> None:
    with contextlib.suppress(Exception):
        queue().storage.delete_data(_ENQUEUED + task.id)


def _executing(signal: str, task) -> None:
    _started[task.id] = time.perf_counter()
    _forget(signal, task)


def _finished(signal: str, task, exc: BaseException | None = None) -> None:
    started = _started.pop(task.id, None)
    seconds = time.perf_counter() - started if started is not None else 0.0
    from huey.signals import SIGNAL_COMPLETE  # loaded: huey sends this signal

    from portal.observability.metrics import JOB_SECONDS

    outcome = "complete" if signal == SIGNAL_COMPLETE else "error"
    JOB_SECONDS.labels(task.name, outcome).observe(seconds)
    fields = {"error": type(exc).__name__} if exc is not None else {}
    log.info(
        line(
            kind="job",
            job_id=task.id,
            task=task.name,
            outcome=outcome,
            duration_ms=round(seconds * 1000, 1),
            retries_left=task.retries,
            **fields,
        )
    )


def queue_state() -> tuple[int, float]:
    """(jobs waiting, seconds the next one to run has waited)."""
    huey = queue()
    depth = huey.pending_count()
    if not depth:
        return 0, 0.0
    oldest = 0.0
    items = huey.storage.enqueued_items(1)
    if items:
        try:
            task = huey.deserialize_task(items[0])
        except Exception:  # noqa: BLE001 - a task this process does not know: age unknown
            return depth, 0.0
        stamp = huey.storage.peek_data(_ENQUEUED + task.id)
        if isinstance(stamp, bytes):
            oldest = max(0.0, time.time() - float(stamp.decode()))
    return depth, oldest


class QueueCollector:
    """The job queue's depth and the age of its oldest waiting job, read at each scrape."""

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        depth, oldest = queue_state()
        yield GaugeMetricFamily("portal_job_queue_depth", "Jobs waiting in the queue.", value=depth)
        yield GaugeMetricFamily(
            "portal_job_queue_oldest_seconds",
            "Seconds the oldest waiting job has waited (0 when none waits).",
            value=oldest,
        )
