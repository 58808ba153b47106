"""`flask --app portal audit verify`: the audit trail's hash chain, checked end to end."""

from __future__ import annotations

import click

from portal.audit.chain import verify
from portal.extensions import db


@click.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Check the hash chain of the whole audit trail; exit 1 at the first broken link."""
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
