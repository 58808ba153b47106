"""A worker killed while running a locked periodic job leaves the lock behind; the worker that
runs the periodic jobs clears such locks when it starts, so the job runs again."""

from __future__ import annotations

from portal.cli.worker import make_consumer
from portal.jobs import queue

LOCKS = ["audit-chain", "hourly-notifications", "letters-generate-due"]


def _stale_locks() -> None:
    """What a killed worker leaves: the locks taken, never released."""
    for name in LOCKS:
        queue().lock_task(name).acquire()
        assert queue().is_locked(name)


def test_the_periodic_worker_clears_locks_left_by_a_killed_worker(app):
    _stale_locks()
    make_consumer(1, periodic=True)
    assert [name for name in LOCKS if queue().is_locked(name)] == []


def test_a_queue_only_worker_leaves_the_locks_to_their_holder(app):
    _stale_locks()
    try:
        make_consumer(1, periodic=False)
        assert [name for name in LOCKS if queue().is_locked(name)] == LOCKS
    finally:
        queue().flush_locks(*LOCKS)
