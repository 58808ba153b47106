"""Where attachment bytes live: a directory outside static/, one random name per file."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import current_app


def _root() -> Path:
    root = Path(current_app.config["ATTACHMENT_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    return root


def write(data: bytes) -> str:
    """Store `data` under a new random name and return the name."""
    name = secrets.token_hex(32)
    (_root() / name).write_bytes(data)
    return name


def _path(name: str) -> Path:
    if len(name) != 64 or not all(c in "0123456789abcdef" for c in name):
        raise FileNotFoundError(name)
    return _root() / name


def read(name: str) -> bytes:
    return _path(name).read_bytes()


def delete(name: str) -> None:
    _path(name).unlink(missing_ok=True)
