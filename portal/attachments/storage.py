"""Where attachment bytes live: a directory outside static/, one random name per file,
encrypted at rest with portal.crypto (the key comes from PORTAL_DATA_KEYS)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from portal.crypto import decrypt, encrypt, is_encrypted, reencrypt, rotation_step
from portal.extensions import db


def _root() -> Path:
    root = Path(current_app.config["ATTACHMENT_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    return root


def _path(name: str) -> Path:
    if len(name) != 64 or not all(c in "0123456789abcdef" for c in name):
        raise FileNotFoundError(name)
    return _root() / name


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def write(data: bytes) -> str:
    """Store `data` encrypted under a new random name and return the name."""
    name = secrets.token_hex(32)
    _write_atomically(_path(name), encrypt(data))
    return name


def read(name: str) -> bytes:
    """The plain bytes; a file stored before encryption existed is read as it is."""
    return open_stored(_path(name).read_bytes())


def open_stored(stored: bytes) -> bytes:
    """The plain bytes of a stored file's content (encrypted, or from before encryption)."""
    return decrypt(stored) if is_encrypted(stored) else stored


def delete(name: str) -> None:
    _path(name).unlink(missing_ok=True)


@rotation_step("attachment files")
def rotate_attachment_files() -> int:
    """Re-encrypt every attachment file with the newest key, in two phases: every new file is
    written beside the old one first, and only if all of them could be made are they renamed
    over the old ones, so a missing key changes nothing."""
    from portal.attachments.models import Attachment

    names = list(db.session.scalars(select(Attachment.storage_name).order_by(Attachment.id)))
    staged: list[tuple[Path, Path]] = []
    try:
        for name in names:
            path = _path(name)
            if not path.exists():
                continue
            stored = path.read_bytes()
            fresh = reencrypt(stored) if is_encrypted(stored) else encrypt(stored)
            temporary = path.with_suffix(".rotating")
            temporary.write_bytes(fresh)
            staged.append((temporary, path))
    except Exception:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise
    for temporary, path in staged:
        os.replace(temporary, path)
    return len(staged)
