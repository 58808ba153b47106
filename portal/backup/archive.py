"""Make a backup directory, verify it, and restore it into an empty database.

A backup directory holds, each part encrypted with PORTAL_DATA_KEYS (portal.backup.parts):
  database.pgdump.enc   `pg_dump -Fc` of the database (letters' PDFs are in it)
  attachments.tar.enc   every file of ATTACHMENT_DIR (already encrypted one by one besides)
  audit-checkpoint.enc  the signed checkpoint of the audit chain, kept outside the database
and manifest.json (each part's size and sha256; no patient data) with manifest.seal, a Fernet
token of the manifest's exact bytes: without a data key nobody can alter a part and fix up
its sha256 in the manifest. The checkpoint is copied before the dump starts, so the dumped
chain always reaches it; attachments are copied after the dump, so every file the dumped
rows name is there (files are never changed once written).
"""

from __future__ import annotations

import json
import os
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from portal.audit import checkpoint
from portal.backup import parts, pg
from portal.crypto import DecryptionError, decrypt, encrypt
from portal.db import utcnow

FORMAT = "portal-backup/1"
MANIFEST, SEAL = "manifest.json", "manifest.seal"
DATABASE, ATTACHMENTS, CHECKPOINT = "database", "attachments", "audit-checkpoint"
FILES = {
    DATABASE: "database.pgdump.enc",
    ATTACHMENTS: "attachments.tar.enc",
    CHECKPOINT: "audit-checkpoint.enc",
}
STORAGE_NAME = re.compile(r"^[0-9a-f]{64}$")


class BackupError(RuntimeError):
    """The backup cannot be made, is altered or incomplete, or the target is not empty."""


@dataclass
class RestoreResult:
    manifest: dict
    attachments: int = 0
    checkpoint_path: Path | None = None
    notes: list[str] = field(default_factory=list)


def attachment_dir() -> Path:
    return Path(current_app.config["ATTACHMENT_DIR"])


def _stored_files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if STORAGE_NAME.match(p.name) and p.is_file())


def _holds_anything(directory: Path) -> bool:
    if not directory.exists():
        return False
    with os.scandir(directory) as entries:
        return any(True for _ in entries)


# --- create ----------------------------------------------------------------------------------


def create(directory: Path, database_url: str) -> dict:
    """Write a backup of `database_url` and the files beside it into `directory` (new or
    empty); returns the manifest. A failure removes what it had written."""
    if _holds_anything(directory):
        raise BackupError(f"{directory} is not empty: give a new directory for each backup")
    if not pg.is_postgresql(database_url):
        raise BackupError("backups need PostgreSQL: DATABASE_URL is not a PostgreSQL URL")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    written: list[Path] = []
    try:
        manifest = _write_parts(directory, database_url, written)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    body = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    (directory / SEAL).write_bytes(encrypt(body))
    (directory / MANIFEST).write_bytes(body)  # last: without it the backup is incomplete
    return manifest


def _write_parts(directory: Path, database_url: str, written: list[Path]) -> dict:
    entries = []
    checkpoint_seq = None
    stored = checkpoint.path()
    if stored.exists():  # first, so that the dumped chain reaches it
        point = checkpoint.read()  # an altered checkpoint fails the backup: it is evidence
        checkpoint_seq = point.seq if point else None
        written.append(directory / FILES[CHECKPOINT])
        entries.append(_entry(CHECKPOINT, parts.write_bytes(written[-1], stored.read_bytes())))
    written.append(directory / FILES[DATABASE])
    writer = parts.PartWriter(written[-1])
    with writer:
        pg.dump(database_url, writer)
    entries.append(_entry(DATABASE, writer))
    written.append(directory / FILES[ATTACHMENTS])
    writer = parts.PartWriter(written[-1])
    files = _stored_files(attachment_dir())
    with writer, tarfile.open(fileobj=writer, mode="w|") as tar:
        for path in files:
            tar.add(path, arcname=path.name, recursive=False)
    entries.append(_entry(ATTACHMENTS, writer))
    return {
        "format": FORMAT,
        "created_at": utcnow().isoformat(),
        "database": {
            "server_version": pg.server_version(database_url),
            "pg_dump": pg.tool_version("pg_dump"),
        },
        "attachment_files": len(files),
        "audit_checkpoint_seq": checkpoint_seq,
        "parts": entries,
    }


def _entry(name: str, writer: parts.PartWriter) -> dict:
    return {"name": name, "file": writer.path.name, "size": writer.size, "sha256": writer.sha256}


# --- verify ----------------------------------------------------------------------------------


def verify(directory: Path, *, decrypt_all: bool = False) -> dict:
    """The manifest, once its seal and every part's size and sha256 match (and, with
    `decrypt_all`, every record of every part decrypts); BackupError otherwise."""
    try:
        body = (directory / MANIFEST).read_bytes()
    except FileNotFoundError as error:
        raise BackupError(
            f"{directory} has no {MANIFEST}: not a backup, or one that did not finish"
        ) from error
    try:
        sealed = decrypt((directory / SEAL).read_bytes())
    except (FileNotFoundError, DecryptionError) as error:
        raise BackupError(
            f"{MANIFEST} has no valid seal: altered, or made with a data key that "
            "PORTAL_DATA_KEYS does not hold"
        ) from error
    if sealed != body:
        raise BackupError(f"{MANIFEST} does not match its seal: the manifest was altered")
    manifest = json.loads(body)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    for entry in manifest["parts"]:
        _verify_part(directory, entry)
        if decrypt_all:
            try:
                parts.drain(directory / entry["file"])
            except parts.PartError as error:
                raise BackupError(f"part {entry['name']}: {error}") from error
    if DATABASE not in {entry["name"] for entry in manifest["parts"]}:
        raise BackupError("the manifest names no database part")
    return manifest


def _verify_part(directory: Path, entry: dict) -> None:
    path = directory / entry["file"]
    if path.name != entry["file"] or entry["file"] not in FILES.values():
        raise BackupError(f"the manifest names an unknown file {entry['file']!r}")
    if not path.is_file():
        raise BackupError(f"part {entry['name']} is missing ({entry['file']})")
    if path.stat().st_size != entry["size"] or parts.sha256_of(path) != entry["sha256"]:
        raise BackupError(
            f"part {entry['name']} ({entry['file']}) does not match the sha256 in the "
            "manifest: it was altered or damaged"
        )


# --- restore ---------------------------------------------------------------------------------


def restore(
    directory: Path,
    target_url: str,
    *,
    attachments_to: Path,
    checkpoint_to: Path,
    force: bool = False,
) -> RestoreResult:
    """Verify the backup, then restore it: the database into `target_url`, the attachment
    files into `attachments_to`, the audit checkpoint to `checkpoint_to`. Refuses a target
    that holds anything unless `force` (which drops it first)."""
    manifest = verify(directory)
    if not pg.is_postgresql(target_url):
        raise BackupError("restore needs a PostgreSQL target URL")
    entries = {entry["name"]: entry for entry in manifest["parts"]}
    _refuse_non_empty(target_url, attachments_to, checkpoint_to, force=force)
    result = RestoreResult(manifest)
    if force and pg.user_tables(target_url):
        pg.empty_public_schema(target_url)
        result.notes.append(f"dropped everything in {pg.display(target_url)} first (--force)")
    try:
        with parts.open_part(directory / entries[DATABASE]["file"]) as source:
            pg.restore(target_url, source)
        if ATTACHMENTS in entries:
            result.attachments = _restore_files(
                directory / entries[ATTACHMENTS]["file"], attachments_to
            )
        if CHECKPOINT in entries:
            _write_private(checkpoint_to, parts.read_all(directory / entries[CHECKPOINT]["file"]))
            result.checkpoint_path = checkpoint_to
    except parts.PartError as error:
        raise BackupError(f"the backup could not be decrypted: {error}") from error
    return result


def _refuse_non_empty(url: str, files: Path, point: Path, *, force: bool) -> None:
    if force:
        return
    tables = pg.user_tables(url)
    if tables:
        raise BackupError(
            f"the target database {pg.display(url)} is not empty ({tables} tables): restore "
            "into a new database (scripts/pg_database.py create ADMIN_URL NAME), or add "
            "--force to drop everything in it first"
        )
    if _stored_files(files):
        raise BackupError(
            f"the attachment directory {files} already holds files: give an empty one "
            "(--attachments-dir), or add --force to restore over it"
        )
    if point.exists():
        raise BackupError(
            f"an audit checkpoint already exists at {point}: give another path "
            "(--audit-checkpoint), or add --force to replace it"
        )


def _restore_files(part: Path, root: Path) -> int:
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    count = 0
    with parts.open_part(part) as source, tarfile.open(fileobj=source, mode="r|") as tar:
        for member in tar:
            if not (member.isfile() and STORAGE_NAME.match(member.name)):
                raise BackupError(f"the attachments part holds an unexpected entry {member.name!r}")
            handle = tar.extractfile(member)
            assert handle is not None
            draft = root / f".{member.name}.restoring"
            with open(draft, "wb") as out:
                while block := handle.read(1024 * 1024):
                    out.write(block)
            os.replace(draft, root / member.name)
            count += 1
    return count


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.restoring")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.replace(draft, path)
