"""`flask --app portal worker`: the job queue's worker in the foreground (Ctrl-C stops it
after the jobs in hand). Several may run side by side, on one machine or several sharing
REDIS_URL and the database: each outbox row is sent by the one worker that claims it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click
from flask import current_app

if TYPE_CHECKING:
    from huey.consumer import Consumer


@click.command("worker")
@click.option("--workers", default=2, show_default=True, help="Jobs run at once (threads).")
@click.option(
    "--no-periodic", is_flag=True, help="Leave the minute sweep and hourly jobs to others."
)
def worker_command(workers: int, no_periodic: bool) -> None:
    """Run the job queue's worker: emails from the outbox, digests, reminders, letters."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    from portal.jobs import queue_kind
    from portal.observability.job_log import use_stderr

    use_stderr()  # one JSON line per job, beside huey's own log
    # huey logs each task's arguments (opaque row ids only) and its own lifecycle.
    where = (
        "Redis"
        if queue_kind() == "redis"
        else f"SQLite file {current_app.config['QUEUE_SQLITE_PATH']}"
    )
    click.echo(f"Worker: {workers} thread(s), queue in {where}. Ctrl-C stops it.")
    make_consumer(workers, periodic=not no_periodic).run()


def make_consumer(workers: int, *, periodic: bool) -> Consumer:
    """huey's consumer for this worker. The worker that runs the periodic jobs (one per
    deployment: scripts/serve gives the others --no-periodic) first clears the periodic jobs'
    locks: a worker killed while running one (out of memory, SIGKILL, a lost machine) leaves
    its lock behind, and that job would never run again. A job whose lock is cleared while
    another worker runs it may run twice at once, which each such job tolerates (a later run
    finds the work done)."""
    from portal.jobs import queue

    return queue().create_consumer(
        workers=workers,
        worker_type="thread",
        periodic=periodic,
        check_worker_health=True,
        flush_locks=periodic,
    )
