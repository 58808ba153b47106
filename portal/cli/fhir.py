"""`flask --app portal fhir-client create`: register an EHR's system for the FHIR API."""

from __future__ import annotations

from pathlib import Path

import click

from portal.errors import Invalid
from portal.extensions import db
from portal.fhir.clients import DEFAULT_SCOPES, register_client


@click.group("fhir-client")
def fhir_client_group() -> None:
    """FHIR API clients (SMART Backend Services)."""


@fhir_client_group.command("create")
@click.option("--name", required=True, help="The system's name, e.g. the EHR's.")
@click.option("--practice", "practice_id", type=int, help="Practice id: a practice's EHR.")
@click.option("--clinic", "clinic_id", type=int,
              help="Clinic id: a clinic-wide system (every referral of the clinic).")  # fmt: skip
@click.option("--jwks", "jwks_path", type=click.Path(exists=True, dir_okay=False), required=True,
              help="The system's public JSON Web Key Set.")  # fmt: skip
@click.option("--scopes", default=DEFAULT_SCOPES, show_default=True)
def create_client(
    name: str, practice_id: int | None, clinic_id: int | None, jwks_path: str, scopes: str
) -> None:
    """Register a client for a practice (--practice) or a whole clinic (--clinic); prints its
    client id as the last line."""
    if (practice_id is None) == (clinic_id is None):
        raise click.UsageError("Give --practice PRACTICE_ID or --clinic CLINIC_ID (one of them).")
    try:
        client = register_client(
            name=name,
            practice_id=practice_id,
            clinic_id=clinic_id,
            jwks_text=Path(jwks_path).read_text(encoding="utf-8"),
            scopes=scopes,
            actor=None,
        )
    except Invalid as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Registered {client.name} for {client.acts_for}, scopes: {client.scopes}")
    click.echo(client.client_id)
