"""`flask --app portal audit ...`: link, verify and checkpoint the audit trail's keyed chain."""

from __future__ import annotations

import click

from portal.audit import chain, checkpoint, keys, verification
from portal.audit.service import record
from portal.extensions import db


@click.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("chain")
def audit_chain() -> None:
    """Link the audit events not in the chain yet (cron, for a portal with no traffic)."""
    try:
        linked = chain.chain_pending(wait=True)
    except chain.ChainBroken as error:
        raise click.ClickException(f"Audit trail BROKEN: {error}. Nothing was linked.") from error
    click.echo(f"{linked} audit events linked.")


def _verified(all_: bool, *, trust_checkpoint: bool = True) -> verification.ChainReport:
    broken = None
    try:
        chain.chain_pending(wait=True)
    except chain.ChainBroken as error:
        broken = error  # reported, then the links are checked all the same
        click.echo(f"Audit trail BROKEN: {error}.", err=True)
    report = verification.verify(db.session, all=all_, use_checkpoint=trust_checkpoint)
    if broken is not None and report.ok:
        raise SystemExit(1)
    if not report.ok:
        where = f" at event {report.broken_id}" if report.broken_id else ""
        click.echo(
            f"Audit trail BROKEN{where}: {report.reason}. "
            f"{report.checked} events checked before it are intact.",
            err=True,
        )
        raise SystemExit(1)
    return report


def _write_checkpoint(report: verification.ChainReport, *, reset: bool = False):
    head = db.session.execute(
        db.select(chain.AuditEvent.row_hash, chain.AuditEvent.id).where(
            chain.AuditEvent.seq == report.last_seq
        )
    ).first()
    mac, event_id = (head.row_hash, head.id) if head else ("", None)
    return checkpoint.write(report.last_seq, mac, event_id, reset=reset)


@audit_group.command("verify")
@click.option("--all", "all_", is_flag=True, help="From the first event, not the checkpoint.")
def audit_verify(all_: bool) -> None:
    """Check the chain since the latest checkpoint (all of it with --all); exit 1 at the
    first broken link, a gap, or a chain shorter than the checkpoint. An intact chain gets a
    new checkpoint at its head."""
    report = _verified(all_)
    since = (
        f" since the checkpoint at event {report.start}"
        if report.start > 1
        else " from the first event"
    )
    point = _write_checkpoint(report)
    click.echo(
        f"Audit trail intact: {report.checked} events checked{since}; "
        f"the chain has {report.last_seq} events; checkpoint at {point.seq}."
    )


@audit_group.command("checkpoint")
@click.option(
    "--reset",
    is_flag=True,
    help="Replace the checkpoint even if it is further along (after restoring a backup).",
)
def audit_checkpoint(reset: bool) -> None:
    """Sign a checkpoint of the chain's head, outside the database, after verifying the
    events since the last one (--reset: verify from the first event without the old
    checkpoint, then replace it whatever it says; the reset is itself audited)."""
    report = _verified(all_=reset, trust_checkpoint=not reset)
    point = _write_checkpoint(report, reset=reset)
    if reset:
        record("audit.checkpoint_reset", detail=f"checkpoint at {point.seq}")
        db.session.commit()
    click.echo(f"Checkpoint written: {point.seq} events, at {point.made_at}, key {point.key_id}.")


@audit_group.command("new-key")
@click.option("--id", "key_id", default=None, help="The key's id (1-16 letters, digits, - _).")
def audit_new_key(key_id: str | None) -> None:
    """Print a new `id:secret` to put first in AUDIT_KEYS (keep the old ones after it)."""
    click.echo(keys.generate(key_id))
