"""`backup check`: is a (restored) database whole? The audit chain verified with its keyed
HMACs from the first event and through the checkpoint (portal.audit.verification.verify), every
letter's PDF against its stored sha256, every attachment decrypted and checked against its
sha256. Reads only; writes nothing, not even an audit event (the trail is what is checked)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from portal.attachments import storage as attachment_storage
from portal.attachments.models import Attachment
from portal.audit import verification
from portal.backup import pg
from portal.backup.archive import STORAGE_NAME
from portal.crypto import DecryptionError
from portal.extensions import db
from portal.letters import storage as letter_storage
from portal.letters.models import Letter

MAX_LISTED = 10  # failing ids shown; the count is always whole


@dataclass
class Finding:
    name: str
    checked: int = 0
    failed: list[str] = field(default_factory=list)
    summary: str = ""

    @property
    def ok(self) -> bool:
        return not self.failed

    def line(self) -> str:
        if self.ok:
            return f"{self.name}: OK, {self.summary}"
        shown = "; ".join(self.failed[:MAX_LISTED])
        more = (
            f" (and {len(self.failed) - MAX_LISTED} more)" if len(self.failed) > MAX_LISTED else ""
        )
        return f"{self.name}: FAILED, {len(self.failed)} of {self.checked}: {shown}{more}"


@dataclass
class CheckReport:
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)


@contextmanager
def session_for(url: str | None) -> Iterator[Session]:
    """The app's session, or one of its own on another database (`--database`)."""
    if not url:
        yield db.session
        return
    engine = create_engine(pg.driver_url(url), poolclass=NullPool)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


@contextmanager
def _checkpoint_at(path: Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    previous = current_app.config.get("AUDIT_CHECKPOINT_PATH")
    current_app.config["AUDIT_CHECKPOINT_PATH"] = str(path)
    try:
        yield
    finally:
        current_app.config["AUDIT_CHECKPOINT_PATH"] = previous


def run(session: Session, *, attachments_dir: Path, checkpoint_path: Path | None) -> CheckReport:
    with _checkpoint_at(checkpoint_path):
        audit = check_audit(session)
    return CheckReport([audit, check_letters(session), check_attachments(session, attachments_dir)])


def check_audit(session: Session) -> Finding:
    finding = Finding("audit chain")
    report = verification.verify(session, all=True, use_checkpoint=True)
    finding.checked = report.checked
    if not report.ok:
        where = f"at event {report.broken_id}" if report.broken_id else "chain"
        finding.failed.append(f"{where}: {report.reason}")
        return finding
    through = (
        f", through the checkpoint at {report.checkpoint_seq}"
        if report.checkpoint_seq
        else " (no checkpoint to compare with)"
    )
    pending = f"; {report.pending} events not linked yet" if report.pending else ""
    finding.summary = f"{report.checked} events intact from the first{through}{pending}"
    return finding


def check_letters(session: Session) -> Finding:
    """Every letter with a stored sha256: its PDF decrypts and hashes to it."""
    finding = Finding("letters")
    rows = session.execute(
        select(Letter.id, Letter.pdf, Letter.sha256)
        .where(Letter.sha256.is_not(None))
        .order_by(Letter.id),
        execution_options={"yield_per": 50},
    )
    try:
        for row in rows:
            finding.checked += 1
            problem = _letter_problem(row.pdf, row.sha256)
            if problem:
                finding.failed.append(f"letter {row.id} {problem}")
    finally:
        rows.close()
    finding.summary = f"{finding.checked} PDFs match their stored sha256"
    return finding


def _letter_problem(stored: bytes | None, sha256: str) -> str:
    if stored is None:
        return "has no PDF"
    try:
        data = letter_storage.open_stored(stored)
    except DecryptionError:
        return "does not decrypt"
    return "" if hashlib.sha256(data).hexdigest() == sha256 else "does not match its sha256"


def check_attachments(session: Session, root: Path) -> Finding:
    """Every attachment row: its file exists, decrypts, and hashes to the stored sha256."""
    finding = Finding("attachments")
    rows = session.execute(
        select(Attachment.id, Attachment.storage_name, Attachment.sha256).order_by(Attachment.id),
        execution_options={"yield_per": 500},
    )
    try:
        for row in rows:
            finding.checked += 1
            problem = _attachment_problem(root, row.storage_name, row.sha256)
            if problem:
                finding.failed.append(f"attachment {row.id} {problem}")
    finally:
        rows.close()
    finding.summary = f"{finding.checked} files decrypt and match their sha256 (in {root})"
    return finding


def _attachment_problem(root: Path, name: str, sha256: str) -> str:
    if not STORAGE_NAME.match(name):
        return "has an invalid storage name"
    try:
        stored = (root / name).read_bytes()
    except FileNotFoundError:
        return "is missing its file"
    try:
        data = attachment_storage.open_stored(stored)
    except DecryptionError:
        return "does not decrypt"
    return "" if hashlib.sha256(data).hexdigest() == sha256 else "does not match its sha256"
