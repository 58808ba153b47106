"""`flask --app portal worker`: the job queue's worker in the foreground (Ctrl-C stops it
after the jobs in hand). Several may run side by side, on one machine or several sharing
REDIS_URL and the database: each outbox row is sent by the one worker that claims it."""

from __future__ import annotations

import logging

import click
from flask import current_app


@click.command("worker")
@click.option("--workers", default=2, show_default=True, help="Jobs run at once (threads).")
@click.option(
    "--no-periodic", is_flag=True, help="Leave the minute sweep and hourly jobs to others."
)
def worker_command(workers: int, no_periodic: bool) -> None:
    """Run the job queue's worker: emails from the outbox, digests, reminders, letters."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    from portal.jobs import queue, queue_kind
    from portal.observability.job_log import use_stderr

    use_stderr()  # one JSON line per job, beside huey's own log
    # huey logs each task's arguments (opaque row ids only) and its own lifecycle.
    where = (
        "Redis"
        if queue_kind() == "redis"
        else f"SQLite file {current_app.config['QUEUE_SQLITE_PATH']}"
    )
    click.echo(f"Worker: {workers} thread(s), queue in {where}. Ctrl-C stops it.")
    consumer = queue().create_consumer(
        workers=workers, worker_type="thread", periodic=not no_periodic, check_worker_health=True
    )
    consumer.run()
