"""`flask --app portal backup create|verify|restore|check`: backups and the restore drill."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click
from flask import current_app

from portal.audit import checkpoint
from portal.backup import archive, check, parts, pg

DIRECTORY = click.Path(file_okay=False, path_type=Path)
RESTORE_ENV = "RESTORE_DATABASE_URL"


@click.group("backup")
def backup_group() -> None:
    """Back up the database and its files, restore them, check a restored portal."""


def _url(given: str | None, variable: str, option: str) -> str:
    """A database URL from the command line or, better (argv is visible to every user of the
    machine in `ps`), from the environment variable `variable`."""
    if given:
        return given
    if value := os.environ.get(variable, "").strip():
        return value
    raise click.UsageError(f"Set {variable} to the database URL (or give {option} URL).")


def _fail(error: Exception) -> click.ClickException:
    return click.ClickException(f"{error}.")


@backup_group.command("create")
@click.argument("directory", type=DIRECTORY)
def backup_create(directory: Path) -> None:
    """Write a backup into DIRECTORY (new or empty): the database dump, the attachment files
    and the audit checkpoint, each encrypted with the first key of PORTAL_DATA_KEYS."""
    started = time.perf_counter()
    try:
        manifest = archive.create(directory, current_app.config["SQLALCHEMY_DATABASE_URI"])
    except (archive.BackupError, pg.PgError, checkpoint.CheckpointError, OSError) as error:
        raise _fail(error) from error
    size = sum(entry["size"] for entry in manifest["parts"])
    click.echo(
        f"Backup written to {directory}: {len(manifest['parts'])} parts, {size} bytes, "
        f"{manifest['attachment_files']} attachment files, audit checkpoint at "
        f"{manifest['audit_checkpoint_seq'] or 'none'}; {time.perf_counter() - started:.1f} s."
    )


@backup_group.command("verify")
@click.argument("directory", type=DIRECTORY)
def backup_verify(directory: Path) -> None:
    """Check a backup without restoring it: the manifest's seal, every part's sha256, and
    that every part decrypts with PORTAL_DATA_KEYS (run it on the off-site copy too)."""
    try:
        manifest = archive.verify(directory, decrypt_all=True)
    except (archive.BackupError, parts.PartError) as error:
        raise _fail(error) from error
    click.echo(
        f"Backup of {manifest['created_at']} intact: {len(manifest['parts'])} parts match "
        "their sha256 and decrypt."
    )


@backup_group.command("restore")
@click.argument("directory", type=DIRECTORY)
@click.option(
    "--into",
    "target",
    default=None,
    help="The PostgreSQL URL to restore into (a password here shows in `ps`: prefer the "
    "environment, --into-env).",
)
@click.option(
    "--into-env",
    "target_env",
    default=RESTORE_ENV,
    show_default=True,
    help="The environment variable holding that URL, read when --into is not given.",
)
@click.option(
    "--attachments-dir",
    type=DIRECTORY,
    default=None,
    help="Where the attachment files go (default: ATTACHMENT_DIR).",
)
@click.option(
    "--audit-checkpoint",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where the audit checkpoint goes (default: AUDIT_CHECKPOINT_PATH).",
)
@click.option("--force", is_flag=True, help="Drop whatever the target holds first.")
def backup_restore(
    directory: Path,
    target: str | None,
    target_env: str,
    attachments_dir: Path | None,
    audit_checkpoint: Path | None,
    force: bool,
) -> None:
    """Verify the backup in DIRECTORY, then restore it into the database --into (which must
    be empty unless --force), with its attachment files and audit checkpoint."""
    target = _url(target, target_env, "--into")
    started = time.perf_counter()
    try:
        result = archive.restore(
            directory,
            target,
            attachments_to=attachments_dir or archive.attachment_dir(),
            checkpoint_to=audit_checkpoint or checkpoint.path(),
            force=force,
        )
    except (archive.BackupError, pg.PgError, OSError) as error:
        raise click.ClickException(f"{error}. Restore refused.") from error
    for note in result.notes:
        click.echo(note)
    click.echo(
        f"Restored the backup of {result.manifest['created_at']} into {pg.display(target)}: "
        f"{result.attachments} attachment files, audit checkpoint "
        f"{'at ' + str(result.checkpoint_path) if result.checkpoint_path else 'none'}; "
        f"{time.perf_counter() - started:.1f} s. Next: `flask --app portal backup check`."
    )


@backup_group.command("check")
@click.option(
    "--database",
    default=None,
    help="A database URL (default: DATABASE_URL; a password here shows in `ps`: prefer "
    "--database-env).",
)
@click.option(
    "--database-env",
    default=None,
    help="The environment variable holding that database URL.",
)
@click.option(
    "--attachments-dir",
    type=DIRECTORY,
    default=None,
    help="The attachment files (default: ATTACHMENT_DIR).",
)
@click.option(
    "--audit-checkpoint",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The audit checkpoint to compare with (default: AUDIT_CHECKPOINT_PATH).",
)
def backup_check(
    database: str | None,
    database_env: str | None,
    attachments_dir: Path | None,
    audit_checkpoint: Path | None,
) -> None:
    """Check that the portal's data is whole: the audit chain (keyed HMACs, from the first
    event, through the checkpoint), every letter's sha256, every attachment decrypts and
    matches its sha256. Exit 1 on any failure."""
    if database_env:
        database = _url(database, database_env, "--database")
    started = time.perf_counter()
    with check.session_for(database) as session:
        report = check.run(
            session,
            attachments_dir=attachments_dir or archive.attachment_dir(),
            checkpoint_path=audit_checkpoint,
        )
    for finding in report.findings:
        click.echo(finding.line(), err=not finding.ok)
    elapsed = time.perf_counter() - started
    if not report.ok:
        click.echo(f"Backup check FAILED ({elapsed:.1f} s).", err=True)
        raise SystemExit(1)
    click.echo(f"Backup check passed ({elapsed:.1f} s).")
