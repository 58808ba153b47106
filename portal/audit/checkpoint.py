"""Signed checkpoints of the audit chain's head, kept outside the database.

A checkpoint says "the chain had `seq` links, the last one with MAC `mac`", signed with the
current audit key (HMAC), in a file under instance/ by default (AUDIT_CHECKPOINT_PATH can put
it on another volume). Someone who can write to the database cannot move it back: deleting
the newest rows, every row, or TRUNCATE leaves the chain shorter than the checkpoint, which
`audit verify` reports. The sequencer writes one every AUDIT_CHECKPOINT_SECONDS, and
`flask --app portal audit checkpoint` and a successful `audit verify` write one at once.
A checkpoint never moves backwards unless an administrator says so (`--reset`, after
restoring a backup).
"""

from __future__ import annotations

import fcntl
import hmac
import json
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import current_app

from portal.audit import keys
from portal.db import utcnow


class CheckpointError(RuntimeError):
    """The checkpoint file is unreadable, or its signature does not match (altered)."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    mac: str
    event_id: int | None
    made_at: str
    key_id: str
    signature: str = ""

    def payload(self) -> bytes:
        fields = asdict(self)
        fields.pop("signature")
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def path() -> Path:
    configured = current_app.config.get("AUDIT_CHECKPOINT_PATH")
    return (
        Path(configured)
        if configured
        else Path(current_app.instance_path) / "audit-checkpoint.json"
    )


def read() -> Checkpoint | None:
    """The latest checkpoint, None when there is none yet; CheckpointError if altered."""
    file = path()
    try:
        raw = file.read_text()
    except FileNotFoundError:
        return None
    try:
        point = Checkpoint(**json.loads(raw))
    except (ValueError, TypeError) as error:
        raise CheckpointError(f"the checkpoint {file} cannot be read") from error
    try:
        expected = keys.current().mac(point.key_id, point.payload())
    except keys.AuditKeyError as error:
        raise CheckpointError(f"the checkpoint was signed with an unknown key: {error}") from error
    if not _equal(expected, point.signature):
        raise CheckpointError(f"the checkpoint {file} does not match its signature (altered)")
    return point


def _equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


@contextmanager
def _locked(file: Path):
    file.parent.mkdir(parents=True, exist_ok=True)
    with open(file.with_name(file.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write(seq: int, mac: str, event_id: int | None, *, reset: bool = False) -> Checkpoint:
    """Sign and store a checkpoint, unless the stored one is further along (then that one is
    kept and returned); `reset` replaces it whatever it says."""
    audit_keys = keys.current()
    unsigned = Checkpoint(
        seq=seq,
        mac=mac,
        event_id=event_id,
        made_at=utcnow().isoformat(),
        key_id=audit_keys.current_id,
    )
    point = Checkpoint(
        **{
            **asdict(unsigned),
            "signature": audit_keys.mac(unsigned.key_id, unsigned.payload()),
        }
    )
    file = path()
    with _locked(file):
        if not reset:
            stored = read()  # an altered checkpoint is evidence: only --reset replaces it
            if stored is not None and stored.seq >= seq:
                return stored
        draft = file.with_name(f".{file.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(json.dumps(asdict(point), sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(draft, file)
    return point


def remove() -> None:
    """Forget the checkpoint (the test suite, when it empties the database)."""
    path().unlink(missing_ok=True)
