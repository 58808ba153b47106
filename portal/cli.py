"""`flask --app portal ...` commands."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.roles import Role

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
    for role in Role:
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
@click.option("--kind", default="treatment_summary", show_default=True)
def render_letter(referral_id: int, out: Path, kind: str) -> None:
    """Write REFERRAL_ID's current signed letter of KIND to a PDF file (else a marked draft)."""
    from portal.audit.service import record
    from portal.letters.models import LETTER_KINDS, Letter
    from portal.letters.service import TEMPLATES, render_blank_draft
    from portal.letters.storage import open_pdf
    from portal.referrals.models import Referral

    if kind not in LETTER_KINDS:
        raise click.ClickException(f"Unknown kind {kind}; one of {', '.join(LETTER_KINDS)}.")
    referral = db.session.get(Referral, referral_id)
    if referral is None or referral.patient is None:
        raise click.ClickException(f"Referral {referral_id} does not exist.")
    if kind in ("treatment_summary", "interim_progress") and not (
        referral.course and referral.course.sessions
    ):
        raise click.ClickException(f"Referral {referral_id} has no documented treatment.")
    signed = db.session.scalar(
        select(Letter)
        .where(Letter.referral_id == referral.id, Letter.kind == kind, Letter.status == "final")
        .order_by(Letter.sequence.desc(), Letter.version.desc())
        .limit(1)
    )
    if signed is not None:
        data, pages = open_pdf(signed), signed.page_count
        what = f"signed version {signed.version}"
    else:
        # Without a signed letter the PDF is a draft that says so: nobody's signature is printed.
        rendered = render_blank_draft(referral, kind)
        data, pages, what = rendered.data, rendered.pages, "DRAFT, unsigned"
    assert kind in TEMPLATES
    out.write_bytes(data)
    record("letter.render", "referral", referral.id, detail="cli")
    db.session.commit()
    click.echo(f"Wrote {out} ({what}; {pages} page(s), {len(data):,} bytes).")


@letters_group.command("generate-due")
@click.option("--workers", type=int, default=None, help="Processes (default: CPU cores).")
def generate_due_command(workers: int | None) -> None:
    """Draft every due interim, final, acceptance and decline letter and render the drafts
    across the CPU cores; running it twice makes nothing twice."""
    import os

    from tqdm import tqdm

    from portal.audit.service import record
    from portal.letters.batch import render_in_process, render_parallel, store_preview
    from portal.letters.due import create_due_drafts, drafts_to_render

    created = create_due_drafts()
    db.session.commit()
    ids = drafts_to_render()
    workers = max(1, min(workers or os.cpu_count() or 1, len(ids) or 1))
    results = render_in_process(ids) if workers == 1 else render_parallel(ids, workers)
    rendered = 0
    with tqdm(total=len(ids), unit="letter", desc="Rendering drafts", disable=not ids) as bar:
        for done, result in enumerate(results, start=1):
            rendered += store_preview(result)
            if done % 10 == 0:  # a crash loses at most ten renders; a rerun redoes them
                db.session.commit()
            bar.update(1)
    db.session.commit()
    record("letter.generate_due", "letter", None, detail=f"{len(created)} new, {rendered} rendered")
    db.session.commit()
    click.echo(
        f"{len(created)} new draft letter(s); {rendered} draft(s) rendered "
        f"with {workers} process(es)."
    )
