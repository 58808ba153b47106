"""A copy of every table's rows, taken once after an expensive setup and written back into the
emptied database at the start of each later test that shares that setup.

The rows are copied as the database stores them (PostgreSQL: COPY in binary; SQLite: the
driver's raw values), so encrypted columns, MACs and hashes come back byte for byte, and
PostgreSQL's sequences are put back where they stood, so the ids are the ones the setup made.
A test still starts from a database holding exactly what the setup made, as if it had made it
again: only the slow way there (hundreds of statements through the services) is skipped."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine, text

from portal.extensions import db as _db


@dataclass
class Snapshot:
    tables: dict[str, object] = field(default_factory=dict)  # name -> COPY bytes or rows
    sequences: dict[str, tuple[int, bool]] = field(default_factory=dict)

    @classmethod
    def take(cls, engine: Engine) -> Snapshot:
        snapshot = cls()
        names = [t.name for t in _db.metadata.sorted_tables]
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                cursor = conn.connection.dbapi_connection.cursor()
                for name in names:
                    with cursor.copy(f'COPY "{name}" TO STDOUT (FORMAT binary)') as copy:
                        snapshot.tables[name] = b"".join(bytes(chunk) for chunk in copy)
                sequences = conn.execute(
                    text(
                        "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"
                    )
                ).scalars()
                for sequence in list(sequences):
                    last, called = conn.execute(
                        text(f'SELECT last_value, is_called FROM "{sequence}"')  # noqa: S608
                    ).one()
                    snapshot.sequences[sequence] = (last, called)
            else:
                for name in names:
                    snapshot.tables[name] = conn.exec_driver_sql(
                        f'SELECT * FROM "{name}"'  # noqa: S608 - our own table names
                    ).all()
            conn.rollback()
        return snapshot

    def restore(self, engine: Engine) -> None:
        """Into the emptied database (the `db` fixture empties it after every test)."""
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Triggers and foreign keys set aside for this transaction, as the cleanup does:
                # the rows are the ones the services wrote, already checked once.
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                cursor = conn.connection.dbapi_connection.cursor()
                for name, data in self.tables.items():
                    with cursor.copy(f'COPY "{name}" FROM STDIN (FORMAT binary)') as copy:
                        copy.write(data)
                if self.sequences:
                    conn.exec_driver_sql(
                        "SELECT "
                        + ", ".join(
                            f"setval('\"{name}\"', {int(last)}, {'true' if called else 'false'})"
                            for name, (last, called) in self.sequences.items()
                        )
                    )
            else:
                for name, rows in self.tables.items():
                    if rows:
                        marks = ", ".join("?" * len(rows[0]))
                        conn.exec_driver_sql(
                            f'INSERT INTO "{name}" VALUES ({marks})',  # noqa: S608
                            [tuple(row) for row in rows],
                        )


class SharedSetup:
    """A World and what `make(world)` returns, made once per run through the services and
    restored from a Snapshot before every later test; the World's rows are loaded afresh."""

    # Rows carry times (a reset link's 30-minute expiry, today's visits): a snapshot older
    # than this, or taken on another day, is made again rather than restored.
    FRESH_SECONDS = 600

    def __init__(self, make) -> None:
        self.make = make
        self.saved: tuple[Snapshot, dict[str, tuple[type, int]], dict] | None = None
        self.taken: tuple[float, date] | None = None

    def _stale(self) -> bool:
        if self.taken is None:
            return True
        at, day = self.taken
        return time.monotonic() - at > self.FRESH_SECONDS or date.today() != day

    def __call__(self):
        from tests.factories import World

        if self.saved is None or self._stale():
            self.taken = (time.monotonic(), date.today())
            made = World()
            _db.session.commit()
            found = self.make(made)
            ids = {name: (type(row), row.id) for name, row in vars(made).items()}
            self.saved = (Snapshot.take(_db.engine), ids, found)
            return made, dict(found)
        snapshot, ids, found = self.saved
        snapshot.restore(_db.engine)
        restored = World.__new__(World)
        for name, (model, row_id) in ids.items():
            setattr(restored, name, _db.session.get(model, row_id))
        return restored, dict(found)
