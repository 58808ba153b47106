"""Audit events. They name objects by type and id only: never a PHI value."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        # The events the sequencer has still to link: a small index, whatever the trail's size.
        Index(
            "ix_audit_event_unchained",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
        Index("uq_audit_event_seq", "seq", unique=True),
    )

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
    # The keyed chain (portal.audit.chain), filled in once by the sequencer after the insert
    # commits: the event's place in the chain, the key's id, the previous link's MAC and its
    # own. The database refuses any other UPDATE, and every DELETE (and TRUNCATE).
    seq: Mapped[int | None] = mapped_column(Integer)
    key_id: Mapped[str] = mapped_column(String(16), default="", server_default="")
    prev_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")
    row_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")


class AuditChainHead(Base):
    """The chain's head: how many events are linked and the last link's MAC. Only the
    sequencer locks it, for the moment it takes to link a batch; requests never do."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    appended: Mapped[int] = mapped_column(Integer, default=0)
    head_mac: Mapped[str] = mapped_column(String(64), default="", server_default="")
