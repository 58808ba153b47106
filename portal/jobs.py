"""The job queue: huey. One queue object for the whole portal; its storage is chosen when the
app is configured: Redis when REDIS_URL is set (production: several workers on several
machines share it), else an SQLite file under the instance folder (`make run` on a fresh
machine, nothing else to start). Tasks run inside the app that configured the queue.

Tasks are declared by the features that own the work (portal/notifications/tasks.py,
portal/letters/tasks.py); `flask --app portal worker` (portal/cli/worker.py) consumes them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from importlib import import_module
from typing import TYPE_CHECKING, Any

from huey import Huey
from huey.storage import BlackHoleStorage, MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy import event
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

# Until create_app configures it, the queue keeps nothing (nothing is written at import).
huey = Huey("portal", results=False, utc=True, storage_class=BlackHoleStorage)
_app: Flask | None = None


def init_app(app: Flask) -> None:
    """Point the queue at this app's storage; tasks will run in this app's context."""
    global _app
    _app = app
    redis_url = app.config.get("REDIS_URL")
    if redis_url:
        huey.storage = RedisStorage(name=app.config["QUEUE_NAME"], url=redis_url)
    elif not app.config.get("QUEUE_SQLITE_PATH"):
        huey.storage = MemoryStorage(name=app.config["QUEUE_NAME"])  # tests that run no worker
    else:
        huey.storage = SqliteStorage(
            name=app.config["QUEUE_NAME"], filename=app.config["QUEUE_SQLITE_PATH"]
        )
    app.extensions["huey"] = huey


def queue_kind() -> str:
    return "redis" if isinstance(huey.storage, RedisStorage) else "sqlite"


def in_app(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run a task's body inside the configured app's context, its session closed after."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _app is None:
            raise RuntimeError("the job queue runs inside an app: use `flask --app portal worker`")
        from portal.extensions import db

        with _app.app_context():
            try:
                return function(*args, **kwargs)
            finally:
                db.session.remove()

    return wrapper


def after_commit(task: Callable[..., Any], *args: Any, session: Session | None = None) -> None:
    """Enqueue `task(*args)` once the transaction of `session` (default: the app's) commits;
    never if it rolls back. Work that must not be lost is also found by a periodic sweep (the
    queue may be down)."""
    if session is None:
        from portal.extensions import db

        session = db.session()
    session.info.setdefault(_AFTER_COMMIT, []).append((task, args))


_AFTER_COMMIT = "jobs_after_commit"


@event.listens_for(Session, "after_commit")
def _enqueue_committed(session: Session) -> None:
    for task, args in session.info.pop(_AFTER_COMMIT, []):
        enqueue_quietly(task, *args)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


def enqueue_quietly(task: Callable[..., Any], *args: Any) -> bool:
    """Enqueue a task; if the queue cannot be reached, say so in the log and go on: the
    periodic sweep finds the work in the database anyway."""
    try:
        task(*args)
    except Exception as error:  # noqa: BLE001 - the queue being down must not fail a request
        log.warning("job queue unreachable (%s); the sweep will pick the work up", type(error))
        return False
    return True


# --- Outbox deliveries: one factory for every "deliver a row, back off, sweep" pair ---------


def delivery_jobs(  # noqa: PLR0913 - keyword-only settings of one factory
    *,
    module: str,
    model: type,
    task_name: str,
    sweep_name: str,
    service: str,
    pending: str = "pending",
) -> tuple[Any, Any]:
    """The jobs of an outbox table `model` whose rows a worker delivers: a task that delivers
    one row and, on a temporary failure (the row back at `pending`), schedules itself again at
    the row's `next_attempt_at`; a sweep every minute for rows due (retries, enqueues lost);
    and each new row handed to the queue once its transaction commits.

    `service` is the module (imported when a job runs) with `deliver(row_id)` and
    `deliver_due()`. Queued jobs carry huey's name of their task, "`module`.`task_name`":
    `module` is the declaring module's `__name__`, and neither ever changes."""
    from huey import crontab

    def _service() -> Any:
        return import_module(service)

    def deliver(row_id: int) -> str | None:
        from portal.extensions import db

        status = _service().deliver(row_id)
        if status == pending:  # a temporary failure: try again after the back-off
            row = db.session.get(model, row_id)
            task.schedule((row_id,), eta=row.next_attempt_at)
        return status

    def sweep() -> dict[str, int]:
        return _service().deliver_due()

    for function, name in ((deliver, task_name), (sweep, sweep_name)):
        function.__module__, function.__name__, function.__qualname__ = module, name, name
    task = huey.task(name=task_name)(in_app(deliver))
    periodic = huey.periodic_task(crontab(minute="*"), name=sweep_name)(in_app(sweep))

    @event.listens_for(Session, "after_flush")
    def _enqueue_new_rows(session: Session, _context: Any) -> None:
        for obj in session.new:
            if isinstance(obj, model):
                after_commit(task, obj.id, session=session)

    return task, periodic
