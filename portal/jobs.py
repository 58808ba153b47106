"""The job queue: huey. One queue object for the whole portal; its storage is chosen when the
app is configured: Redis when REDIS_URL is set (production: several workers on several
machines share it), else an SQLite file under the instance folder (`make run` on a fresh
machine, nothing else to start). Tasks run inside the app that configured the queue.

Tasks are declared, with `task()` and `periodic_task()` below, by the features that own the
work (portal/notifications/tasks.py, portal/letters/tasks.py); `flask --app portal worker`
(portal/cli/worker.py) consumes them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import wraps
from importlib import import_module
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from datetime import datetime

    from flask import Flask
    from huey import Huey
    from huey.api import TaskWrapper
    from huey.storage import BaseStorage

log = logging.getLogger(__name__)

# The queue is made at its first use (an enqueue, the worker, the readiness probe, /metrics),
# not at import: importing huey imports the client of every storage it knows (redis, psycopg),
# which a process that queues nothing (a CLI command, a web process before its first job) need
# not pay for. Tasks are declared before it exists (Job) and bound to it when it is made.
_app: Flask | None = None
_queue: Huey | None = None
_jobs: list[Job] = []
_hooks: list[Callable[[Huey], None]] = []
_making = threading.RLock()  # re-entrant: a hook or bind() may declare or ask for more


def queue() -> Huey:
    """The portal's one job queue (huey), made at first use with every task declared so far
    and pointed at the storage of the app configured last."""
    global _queue
    if _queue is None:
        with _making:
            if _queue is None:
                from huey import Huey
                from huey.storage import BlackHoleStorage

                # Until create_app configures it, the queue keeps nothing.
                made = Huey("portal", results=False, utc=True, storage_class=BlackHoleStorage)
                if _app is not None:
                    made.storage = _storage(_app)
                for job in _jobs:
                    job.bind(made)
                for hook in _hooks:
                    hook(made)
                _queue = made
    return _queue


def __getattr__(name: str) -> Any:
    # `from portal.jobs import huey` (the tests): the queue, made if it was not yet.
    if name == "huey":
        return queue()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def when_made(hook: Callable[[Huey], None]) -> None:
    """Call `hook(queue)` once the queue is made (now, if it is): signal handlers and the like."""
    with _making:
        _hooks.append(hook)
        made = _queue
    if made is not None:
        hook(made)


def init_app(app: Flask) -> None:
    """Tasks will run in this app's context, and the queue use this app's storage (from now
    if it is made, else when it is)."""
    global _app
    _app = app
    if _queue is not None:
        _queue.storage = _storage(app)


def _storage(app: Flask) -> BaseStorage:
    """Redis when REDIS_URL is set (production: several workers on several machines share it),
    else an SQLite file under the instance folder, or memory (tests that run no worker)."""
    from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

    name = app.config["QUEUE_NAME"]
    if app.config.get("REDIS_URL"):
        return RedisStorage(name=name, url=app.config["REDIS_URL"])
    if not app.config.get("QUEUE_SQLITE_PATH"):
        return MemoryStorage(name=name)
    return SqliteStorage(name=name, filename=app.config["QUEUE_SQLITE_PATH"])


def queue_kind() -> str:
    from huey.storage import RedisStorage

    return "redis" if isinstance(queue().storage, RedisStorage) else "sqlite"


class Job:
    """A task of the queue, declared at import (`@task()`, `@periodic_task(...)`) and bound to
    huey (its TaskWrapper) when the queue is made. Calling it enqueues, as huey's task does;
    huey's name for it is the function's module and name, as if declared on huey itself."""

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        name: str | None,
        crontab: dict[str, str] | None,
        lock: str | None,
        options: dict[str, Any],
    ) -> None:
        self.function, self.name, self.crontab, self.lock = function, name, crontab, lock
        self.options = options
        self._task: TaskWrapper | None = None
        with _making:
            _jobs.append(self)
            made = _queue
        if made is not None:  # declared after the queue was made (a module imported late)
            self.bind(made)

    def bind(self, huey: Huey) -> None:
        function = self.function
        if self.lock:  # one worker at a time runs it; a later run finds the work done
            function = huey.lock_task(self.lock)(function)
        if self.crontab is None:
            self._task = huey.task(name=self.name, **self.options)(function)
        else:
            from huey import crontab

            every = crontab(**self.crontab)
            self._task = huey.periodic_task(every, name=self.name, **self.options)(function)

    @property
    def task(self) -> TaskWrapper:
        """huey's task (the queue made if it was not yet)."""
        queue()
        if self._task is None:
            raise RuntimeError(f"{self.function.__name__} is not bound to the job queue")
        return self._task

    def __call__(self, *args: Any) -> Any:
        """Enqueue the task with `args`."""
        return self.task(*args)

    def schedule(self, args: tuple[Any, ...], *, eta: datetime) -> Any:
        """Enqueue the task with `args`, to run at `eta`."""
        return self.task.schedule(args, eta=eta)

    def call_local(self, *args: Any) -> Any:
        """Run the task's body here and now, not through the queue."""
        return self.task.call_local(*args)


def task(*, name: str | None = None, **options: Any) -> Callable[[Callable[..., Any]], Job]:
    """Declare a task; `options` are huey.task's (retries, retry_delay, ...)."""
    return lambda function: Job(function, name=name, crontab=None, lock=None, options=options)


def periodic_task(
    *, lock: str | None = None, name: str | None = None, **when: str
) -> Callable[[Callable[..., Any]], Job]:
    """Declare a task the worker runs when huey's `crontab(**when)` says (minute="*/5"), under
    the lock `lock` if given (one worker at a time)."""
    return lambda function: Job(function, name=name, crontab=when, lock=lock, options={})


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
) -> tuple[Job, Job]:
    """The jobs of an outbox table `model` whose rows a worker delivers: a task that delivers
    one row and, on a temporary failure (the row back at `pending`), schedules itself again at
    the row's `next_attempt_at`; a sweep every minute for rows due (retries, enqueues lost);
    and each new row handed to the queue once its transaction commits.

    `service` is the module (imported when a job runs) with `deliver(row_id)` and
    `deliver_due()`. Queued jobs carry huey's name of their task, "`module`.`task_name`":
    `module` is the declaring module's `__name__`, and neither ever changes."""

    def _service() -> Any:
        return import_module(service)

    def deliver(row_id: int) -> str | None:
        from portal.extensions import db

        status = _service().deliver(row_id)
        if status == pending:  # a temporary failure: try again after the back-off
            row = db.session.get(model, row_id)
            one_row.schedule((row_id,), eta=row.next_attempt_at)
        return status

    def sweep() -> dict[str, int]:
        return _service().deliver_due()

    for function, name in ((deliver, task_name), (sweep, sweep_name)):
        function.__module__, function.__name__, function.__qualname__ = module, name, name
    one_row = task(name=task_name)(in_app(deliver))
    periodic = periodic_task(name=sweep_name, minute="*")(in_app(sweep))

    @event.listens_for(Session, "after_flush")
    def _enqueue_new_rows(session: Session, _context: Any) -> None:
        for obj in session.new:
            if isinstance(obj, model):
                after_commit(one_row, obj.id, session=session)

    return one_row, periodic
