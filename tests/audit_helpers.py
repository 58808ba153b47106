"""What someone with direct database access (but not the audit key) would do to the trail."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import select, text

from portal.audit.models import AuditEvent
from portal.audit.service import record
from portal.extensions import db


@contextmanager
def triggers_off():
    """A connection whose transaction switches the append-only triggers off (PostgreSQL:
    every user trigger on the table, TRUNCATE's too; SQLite: drops them), runs what the
    caller does with it, puts the triggers back, and commits."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
            saved = []
        else:
            saved = conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            ).all()
            for name, _sql in saved:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
        yield conn
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
        for _name, sql in saved:
            conn.execute(text(sql))
    db.session.expire_all()


def tamper(*statements: str, **params) -> None:
    with triggers_off() as conn:
        for statement in statements:
            conn.execute(text(statement), params)


def some_events(actor, n: int) -> list[int]:
    """n audit events, committed (and so linked); their ids in chain order."""
    for i in range(n):
        record("test.event", "referral", i + 1, actor=actor)
    db.session.commit()
    return list(db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.seq)))
