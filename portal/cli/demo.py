"""`flask --app portal seed-demo`: the demo clinic, its people and referrals."""

from __future__ import annotations

import click

from portal.extensions import db
from portal.roles import Role


@click.command("seed-demo")
def seed_demo() -> None:
    """Create the demo clinic, practice, accounts and referrals (idempotent)."""
    # Imported here only: the demo data is never part of what the running portal loads.
    from portal.demo import DEMO_PASSWORD, seed

    created = seed()
    db.session.commit()
    click.echo("Demo data " + ("created." if created else "already present; nothing changed."))
    click.echo("Demo sign-ins (password for all: " + DEMO_PASSWORD + "):")
    for role in Role:
        click.echo(f"  {role:<12} {role}@demo.test")
    click.echo("  (referrer2@demo.test is a provider of another practice: sees none of the above)")
    click.echo(
        "Clinic staff set up two-step sign-in at their first sign-in: scan the QR code with an "
        "authenticator app (see README, 'Two-step sign-in in the demo')."
    )
