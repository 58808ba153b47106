"""Fixtures: the app on a real database built by the real migrations, a client, login helpers."""

from __future__ import annotations

import os
import re

import pytest
from flask.globals import _cv_app
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import inspect, text

from portal import create_app
from portal.audit import checkpoint as audit_checkpoint
from portal.extensions import db as _db
from portal.extensions import limiter
from tests.notification_helpers import jobs, mailbox  # noqa: F401 - queue; real SMTP server

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production: its own `g`, its own
    database session. Without this, the test's app context would be reused and `g` (CSRF
    token, Flask-Login's cached user) would leak from one request or client to the next."""

    def open(self, *args, **kwargs):
        token = _cv_app.set(None)
        try:
            response = super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)
        # A large multipart body is spooled to a temporary file that the test client never
        # closes (a real server owns its socket instead): close it here.
        body = response.request.environ.get("wsgi.input")
        if body is not None and hasattr(body, "close"):
            body.close()
        return response


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal-test.sqlite3'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = _database_url(tmp_path_factory)
    os.environ["TEST_DATABASE_URL"] = url
    from config import TestingConfig

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        ATTACHMENT_DIR = str(tmp_path_factory.mktemp("attachments"))
        AUDIT_CHECKPOINT_PATH = str(tmp_path_factory.mktemp("audit") / "audit-checkpoint.json")

    application = create_app(Config)
    application.test_client_class = IsolatedClient
    with application.app_context():
        try:
            with _db.engine.connect() as conn:
                conn.execute(text("select 1"))
        except Exception as error:  # noqa: BLE001 - any failure to connect ends the run
            pytest.exit(
                f"test database unreachable ({error.__class__.__name__}); refusing to skip",
                returncode=3,
            )
        if _db.engine.dialect.name == "postgresql":
            # A test database need not wait for each commit to reach the disk: the suite
            # commits thousands of times, and this makes the PostgreSQL pass a third faster.
            with _db.engine.begin() as conn:
                name = conn.execute(text("SELECT current_database()")).scalar_one()
                conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
            _db.engine.dispose()  # new connections take the setting
        _drop_everything()
        upgrade()  # the schema comes from the real migrations
        yield application
        _db.session.remove()
        _db.engine.dispose()  # close pooled connections before the interpreter frees them


def _drop_everything() -> None:
    _db.metadata.drop_all(_db.engine)
    with _db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(autouse=True)
def _one_job_queue():
    """The job queue is one module-level object that create_app points at its app's storage:
    a test that builds another app (production settings, say) must not leave it there."""
    from portal import jobs as queue

    storage, bound = queue.huey.storage, queue._app
    yield
    queue.huey.storage, queue._app = storage, bound


@pytest.fixture
def db(app):
    """The database, emptied after each test (and the audit checkpoint with it); the rate
    limiter starts afresh too."""
    limiter.reset()
    yield _db
    _db.session.rollback()
    _db.session.remove()
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    audit_checkpoint.remove()  # the emptied audit trail starts a new chain
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # One round trip: DELETE (a TRUNCATE of every table costs about a second per test
            # on a busy machine, a whole-suite slowdown of many minutes) with the append-only
            # triggers and foreign keys set aside for this transaction only (the suite's role
            # is a superuser), and every sequence back to 1 as TRUNCATE ... RESTART IDENTITY did.
            conn.exec_driver_sql(_pg_cleanup_sql(conn, tables))
        else:
            # The sanctioned way past SQLite's append-only triggers: drop them around the
            # cleanup and put the very same definitions back.
            triggers = conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            ).all()
            for name, _sql in triggers:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))  # noqa: S608 - our own table names
            for _name, sql in triggers:
                conn.execute(text(sql))
    assert set(tables) <= set(inspect(_db.engine).get_table_names())


_PG_CLEANUP: dict[tuple[str, ...], str] = {}


def _pg_cleanup_sql(conn, tables: list[str]) -> str:
    key = tuple(tables)
    if key not in _PG_CLEANUP:
        sequences = conn.execute(
            text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
        ).scalars()
        # Our own table and sequence names, from the metadata and the catalogue.
        deletes = "".join(f'DELETE FROM "{t}";' for t in tables)  # noqa: S608
        restarts = "".join(f'ALTER SEQUENCE "{s}" RESTART;' for s in sequences)
        _PG_CLEANUP[key] = "SET LOCAL session_replication_role = replica;" + deletes + restarts
    return _PG_CLEANUP[key]


@pytest.fixture
def client(app, db):
    return app.test_client()


def csrf_token(client, path: str = "/login") -> str:
    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, user, password: str | None = None):
    """Sign in through the real pages; where the account has an authenticator (factory
    staff do), the second step is answered with a fresh code. Returns the last response."""
    from tests.factories import PASSWORD, fresh_totp_code

    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": user.email, "password": password or PASSWORD, "csrf_token": token}
    )
    if response.status_code == 302 and response.location.endswith("/two-step/code"):
        token = csrf_token(client, "/two-step/code")
        response = client.post(
            "/two-step/code", data={"code": fresh_totp_code(user), "csrf_token": token}
        )
    return response


def force_login(client, user) -> None:
    """Sign in without the password round trip, for tests about what comes after: a live
    server-side session (second step counted as done) whose token the cookie carries."""
    from portal.auth.sessions import SESSION_KEY, create_record

    _row, token = create_record(user, mfa=user.totp_secret_enc is not None)
    _db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
        session[SESSION_KEY] = token


def signed_in(app, user=None) -> FlaskClient:
    """A client of its own, signed in as `user` (force_login), or anonymous without one."""
    client = app.test_client()
    if user is not None:
        force_login(client, user)
    return client


def page_text(html: str) -> str:
    """A page's visible text, tags removed and whitespace folded, as a reader sees it."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def post_form(client, path: str, data: dict, *, token_from: str | None = None, **kwargs):
    """POST with the CSRF token a real page would carry."""
    token = csrf_token(client, token_from or path)
    return client.post(path, data={**data, "csrf_token": token}, **kwargs)


@pytest.fixture
def world(db):
    from tests.factories import World

    w = World()
    db.session.commit()
    return w


# --- tests that only make sense on PostgreSQL (the backup drill: pg_dump, pg_restore) --------
# They run on the PostgreSQL pass of CI (.ci/run runs both passes), where an unreachable server
# already fails the run (the `app` fixture). On the SQLite pass they are deselected, never
# skipped, and the summary says how many and where they run.
_PG_ONLY_DESELECTED: list[str] = []


def pytest_collection_modifyitems(config, items):
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        return
    kept = [item for item in items if item.get_closest_marker("postgresql_only") is None]
    gone = [item for item in items if item.get_closest_marker("postgresql_only") is not None]
    if gone:
        config.hook.pytest_deselected(items=gone)
        items[:] = kept
        _PG_ONLY_DESELECTED.extend(item.nodeid for item in gone)


def pytest_terminal_summary(terminalreporter):
    if _PG_ONLY_DESELECTED:
        terminalreporter.write_line(
            f"{len(_PG_ONLY_DESELECTED)} PostgreSQL-only tests deselected on SQLite; they run "
            "on the PostgreSQL pass (TEST_DATABASE_URL=postgresql+psycopg://...): "
            + ", ".join(sorted({n.split("::")[0] for n in _PG_ONLY_DESELECTED}))
        )
