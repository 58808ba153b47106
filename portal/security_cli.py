"""`flask --app portal audit verify` and `flask --app portal keys rotate`."""

from __future__ import annotations

import click

from portal.extensions import db


@click.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Check the hash chain of the whole audit trail; exit 1 at the first broken link."""
    from portal.audit.chain import verify

    report = verify(db.session)
    if report.ok:
        extra = f" ({report.legacy} from before the chain began)" if report.legacy else ""
        click.echo(f"Audit trail intact: {report.checked} events checked{extra}.")
        return
    click.echo(
        f"Audit trail BROKEN at event {report.broken_id}: {report.reason}. "
        f"{report.checked - 1} events before it are intact.",
        err=True,
    )
    raise SystemExit(1)


@click.group("keys")
def keys_group() -> None:
    """Encryption keys for data at rest."""


@keys_group.command("generate")
def keys_generate() -> None:
    """Print a new key to put first in PORTAL_DATA_KEYS."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode())


@keys_group.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt everything stored encrypted with the first key in PORTAL_DATA_KEYS."""
    from portal.audit.service import record
    from portal.crypto import DecryptionError, rotate_all

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
