"""`flask --app portal keys generate` and `keys rotate`: the keys of encryption at rest."""

from __future__ import annotations

import click
from cryptography.fernet import Fernet

from portal.audit.service import record
from portal.crypto import DecryptionError, rotate_all
from portal.extensions import db


@click.group("keys")
def keys_group() -> None:
    """Encryption keys for data at rest."""


@keys_group.command("generate")
def keys_generate() -> None:
    """Print a new key to put first in PORTAL_DATA_KEYS."""
    click.echo(Fernet.generate_key().decode())


@keys_group.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt everything stored encrypted with the first key in PORTAL_DATA_KEYS."""
    try:
        done = rotate_all()
    except DecryptionError as error:
        db.session.rollback()
        raise click.ClickException(
            f"{error}. Nothing was changed: keep every old key in PORTAL_DATA_KEYS until "
            "rotation succeeds."
        ) from error
    summary = ", ".join(f"{count} {name}" for name, count in done.items())
    record("keys.rotate", detail=summary[:200])
    db.session.commit()
    click.echo(f"Re-encrypted with the newest key: {summary}.")
