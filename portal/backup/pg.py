"""pg_dump and pg_restore of a database URL, the password passed in the environment (never on
a command line that `ps` shows), and what the target of a restore already holds."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import BinaryIO

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

BLOCK = 1024 * 1024
_LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
}


class PgError(RuntimeError):
    """pg_dump or pg_restore is missing, failed, or the database cannot be used."""


def is_postgresql(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def libpq_env(url: str) -> dict[str, str]:
    """The environment pg_dump and pg_restore read the connection from."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise PgError(f"not a PostgreSQL URL ({parsed.get_backend_name()}): backups need one")
    env = dict(os.environ)
    for name, value in (
        ("PGHOST", parsed.host),
        ("PGPORT", parsed.port),
        ("PGUSER", parsed.username),
        ("PGPASSWORD", parsed.password),
        ("PGDATABASE", parsed.database),
    ):
        if value is not None:
            env[name] = str(value)
    for option, value in parsed.query.items():  # ?sslmode=require&sslrootcert=... and so on
        if option in _LIBPQ_OPTIONS and isinstance(value, str):
            env[_LIBPQ_OPTIONS[option]] = value
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    return env


def display(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise PgError(
            f"{name} is not installed: `bash scripts/system-deps.sh --test` installs "
            "postgresql-client (its major version must be at least the server's)"
        )
    return path


def tool_version(name: str) -> str:
    out = subprocess.run(  # noqa: S603 - our own tool path, a fixed argument
        [_tool(name), "--version"], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def driver_url(url: str) -> URL:
    """The URL SQLAlchemy connects with: a bare postgresql:// (libpq's, as pg_dump takes it)
    names psycopg 3, the driver this project installs, not SQLAlchemy's default psycopg2."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


@contextmanager
def _engine(url: str) -> Iterator:
    timeout = {"connect_timeout": 10}
    engine = create_engine(driver_url(url), poolclass=NullPool, connect_args=timeout)
    try:
        yield engine
    finally:
        engine.dispose()


def server_version(url: str) -> str:
    with _engine(url) as engine, engine.connect() as conn:
        return str(conn.execute(text("SHOW server_version")).scalar())


def user_tables(url: str) -> int:
    """How many tables the database holds outside PostgreSQL's own schemas."""
    with _engine(url) as engine, engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_tables "
                    "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
                )
            ).scalar()
        )


def empty_public_schema(url: str) -> None:
    """Drop everything in the target's public schema (restore --force)."""
    with _engine(url) as engine, engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


def _major(version: str) -> int:
    match = re.search(r"(\d+)\.\d", version)
    return int(match.group(1)) if match else 0


def check_client_matches(url: str, tool: str) -> None:
    """pg_dump must be at least the server's major version (older ones refuse or lose data)."""
    client, server = _major(tool_version(tool)), _major(server_version(url))
    if client < server:
        raise PgError(
            f"{tool} {client} is older than the PostgreSQL {server} server: install "
            f"postgresql-client-{server}"
        )


def _failure(tool: str, process: subprocess.Popen, errors: BinaryIO) -> PgError:
    errors.seek(0)
    said = without_row_data(tool, errors.read().decode(errors="replace"))
    return PgError(f"{tool} failed: {said or 'exit ' + str(process.returncode)}")


# A quoted name after one of these words is a database object's (or the server's), kept;
# every other quoted string in a message may be a value from a row, replaced by "…".
_NAMES = frozenset(
    {"table", "relation", "constraint", "column", "schema", "index", "type", "function"}
    | {"role", "user", "database", "extension", "sequence", "trigger", "view", "at"}
)
_QUOTED = re.compile(r'(\b\w+\s+)?"([^"]*)"')


def without_row_data(tool: str, said: str, keep: int = 10) -> str:
    """The last `keep` lines of `tool`'s stderr that are its own (`pg_restore: error: ...`),
    quoted values other than object names blanked. The server's CONTEXT, DETAIL and "Command
    was" lines (and `pg_restore: detail:`) echo a failed row's contents, and are dropped:
    `CONTEXT:  COPY patient, line 3, column dob: "1980-01-02"`, `Key (id)=(1) already exists`."""
    own = [
        _QUOTED.sub(_name_or_blank, line.strip())
        for line in said.splitlines()
        if line.startswith(tuple(f"{tool}: {level}:" for level in ("error", "warning", "fatal")))
    ]
    return "\n".join(own[-keep:])


def _name_or_blank(match: re.Match) -> str:
    word = match.group(1) or ""
    if word.strip().lower() in _NAMES:
        return match.group(0)
    return f'{word}"…"'


def dump(url: str, out: BinaryIO) -> None:
    """`pg_dump -Fc` of the database, streamed into `out`."""
    check_client_matches(url, "pg_dump")
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(  # noqa: S603 - fixed arguments, our own tool path
            [_tool("pg_dump"), "--format=custom", "--no-password"],
            stdout=subprocess.PIPE,
            stderr=errors,
            env=libpq_env(url),
        ) as process,
    ):
        assert process.stdout is not None
        while block := process.stdout.read(BLOCK):
            out.write(block)
        if process.wait() != 0:
            raise _failure("pg_dump", process, errors)


def restore(url: str, source: BinaryIO) -> None:
    """pg_restore from a custom-format stream into the database, in one transaction: on any
    error nothing is left half restored."""
    check_client_matches(url, "pg_restore")
    env = libpq_env(url)
    command = [_tool("pg_restore"), "--no-password", "--no-owner", "--no-privileges"]
    command += ["--exit-on-error", "--single-transaction", "--dbname", env["PGDATABASE"]]
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(command, stdin=subprocess.PIPE, stderr=errors, env=env) as process,  # noqa: S603
    ):
        assert process.stdin is not None
        try:
            while block := source.read(BLOCK):
                process.stdin.write(block)
        except BrokenPipeError:
            pass  # pg_restore stopped early: its error is read below
        except BaseException:
            process.kill()  # the source failed (an altered part): the transaction rolls back
            raise
        with suppress(BrokenPipeError):
            process.stdin.close()
        if process.wait() != 0:
            raise _failure("pg_restore", process, errors)
