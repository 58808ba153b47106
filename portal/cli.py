"""`flask --app portal ...` commands."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select

from portal.auth.models import Role
from portal.extensions import db

CLI_ROLES = [r.value for r in Role]


def register_cli(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_user_command)
    app.cli.add_command(letters_group)
    from portal.security_cli import audit_group, keys_group

    app.cli.add_command(audit_group)
    app.cli.add_command(keys_group)


@click.command("seed-demo")
def seed_demo() -> None:
    """Create the demo clinic, practice, accounts and referrals (idempotent)."""
    from portal.demo import DEMO_PASSWORD, seed

    created = seed()
    db.session.commit()
    click.echo("Demo data " + ("created." if created else "already present; nothing changed."))
    click.echo("Demo sign-ins (password for all: " + DEMO_PASSWORD + "):")
    for role in ("referrer", "coordinator", "clinician", "admin"):
        click.echo(f"  {role:<12} {role}@demo.test")
    click.echo("  (referrer2@demo.test is a provider of another practice: sees none of the above)")
    click.echo(
        "Clinic staff set up two-step sign-in at their first sign-in: scan the QR code with an "
        "authenticator app (see README, 'Two-step sign-in in the demo')."
    )


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(CLI_ROLES))
@click.option("--name", "full_name", required=True)
@click.option("--credentials", default="")
@click.password_option("--password", prompt="Password", confirmation_prompt=True)
def create_user_command(
    email: str, role: str, full_name: str, credentials: str, password: str
) -> None:
    """Create an account; asks for the password twice."""
    from portal.auth.service import AccountError, create_user
    from portal.clinics.models import Clinic, Practice

    clinic_id = practice_id = None
    if role == Role.REFERRER:
        practice_id = db.session.scalar(select(Practice.id).order_by(Practice.id).limit(1))
        if practice_id is None:
            raise click.ClickException("No practice exists yet; create one first.")
    else:
        clinic_id = db.session.scalar(select(Clinic.id).order_by(Clinic.id).limit(1))
        if clinic_id is None:
            raise click.ClickException("No clinic exists yet; create one first.")
    try:
        user = create_user(
            email=email,
            password=password,
            full_name=full_name,
            role=role,
            credentials=credentials,
            clinic_id=clinic_id,
            practice_id=practice_id,
        )
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created {role} account {user.email} (id {user.id}).")


@click.group("letters")
def letters_group() -> None:
    """Letters to referring providers."""


@letters_group.command("render")
@click.argument("referral_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def render_letter(referral_id: int, out: Path) -> None:
    """Write REFERRAL_ID's treatment summary to a PDF file."""
    from portal.audit.service import record
    from portal.letters.service import SUMMARY, render_summary
    from portal.referrals.models import Referral

    referral = db.session.get(Referral, referral_id)
    if referral is None or referral.course is None or not referral.course.sessions:
        raise click.ClickException(f"Referral {referral_id} has no documented treatment.")
    signed = [l for l in referral.letters if l.kind == SUMMARY and l.status == "final"]  # noqa: E741
    latest = signed[-1] if signed else None
    # Without a signed letter the PDF is a draft that says so: nobody's signature is printed.
    signer = latest.signed_by if latest else None
    narrative = latest.narrative if latest else "Draft: the clinician has not written the summary."
    rendered = render_summary(
        referral,
        narrative=narrative,
        signer=signer,
        version=latest.version if latest else 1,
        signed_at=latest.created_at if latest else None,
    )
    out.write_bytes(rendered.data)
    record("letter.render", "referral", referral.id, detail="cli")
    db.session.commit()
    kind = f"signed version {latest.version}" if latest else "DRAFT, unsigned"
    click.echo(f"Wrote {out} ({kind}; {rendered.pages} page(s), {len(rendered.data):,} bytes).")
