"""Audit events. They name objects by type and id only: never a PHI value."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    actor_role: Mapped[str] = mapped_column(String(20), default="")
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[int | None] = mapped_column(Integer)
    ip: Mapped[str] = mapped_column(String(64), default="")
    outcome: Mapped[str] = mapped_column(String(20), default="ok")  # ok | denied | failed
    detail: Mapped[str] = mapped_column(String(200), default="")
    # The hash chain: each event stores the previous event's hash and its own, computed over
    # its canonical content (portal.audit.chain); the database refuses UPDATE and DELETE.
    prev_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")
    row_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")


class AuditChainHead(Base):
    """One row that every transaction writing audit events updates first: the row lock
    (PostgreSQL) or write lock (SQLite) orders concurrent writers, so the chain never forks."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    appended: Mapped[int] = mapped_column(Integer, default=0)
