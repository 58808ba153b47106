"""`flask --app portal create-user`: an account made from the command line."""

from __future__ import annotations

import click
from sqlalchemy import select

from portal.auth.service import create_user
from portal.clinics.models import Clinic, Practice
from portal.errors import DomainError
from portal.extensions import db
from portal.roles import Role

CLI_ROLES = [r.value for r in Role]


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
    except DomainError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created {role} account {user.email} (id {user.id}).")
