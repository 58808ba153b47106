"""Registering and deactivating API clients (an admin's page or the command line)."""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from portal.audit.service import record
from portal.clinics.models import Clinic, Practice
from portal.errors import Invalid
from portal.extensions import db
from portal.fhir import scopes as smart
from portal.fhir.auth import check_jwks
from portal.fhir.models import FhirClient

if TYPE_CHECKING:
    from portal.auth.models import User

DEFAULT_SCOPES = (
    "system/ServiceRequest.cru system/Task.rus system/DocumentReference.rs system/Binary.r "
    "system/Observation.rs system/Patient.r system/Condition.r system/MedicationStatement.r "
    "system/QuestionnaireResponse.r system/Practitioner.r system/PractitionerRole.r "
    "system/Organization.r system/CommunicationRequest.rs system/Communication.crs "
    "system/Appointment.rs"
)


def read_jwks(text: str) -> dict[str, Any]:
    """A pasted or uploaded JWKS, checked: public RSA or EC keys only."""
    try:
        jwks = json.loads(text)
    except ValueError as error:
        raise Invalid("The key set is not JSON.", field="jwks") from error
    try:
        check_jwks(jwks)
    except ValueError as error:
        raise Invalid(str(error), field="jwks") from error
    return jwks


def register_client(  # noqa: PLR0913 - keyword-only, as the form and the command give them
    *,
    name: str,
    practice_id: int | None = None,
    clinic_id: int | None = None,
    jwks_text: str,
    scopes: str,
    actor: User | None,
) -> FhirClient:
    """A new client for a practice (it sees that practice's referrals) or for a whole clinic
    (every referral of that clinic), with its public keys and registered scopes."""
    name = name.strip()
    if not name:
        raise Invalid("Name the system (for example the EHR's name).", field="name")
    if bool(practice_id) == bool(clinic_id):
        raise Invalid("Choose the practice or the clinic the system acts for (one of them).",
                      field="practice_id")  # fmt: skip
    if practice_id and db.session.get(Practice, practice_id) is None:
        raise Invalid("Choose a practice.", field="practice_id")
    if clinic_id and db.session.get(Clinic, clinic_id) is None:
        raise Invalid("Choose a clinic.", field="clinic_id")
    parsed = smart.parse(scopes or DEFAULT_SCOPES)
    if not parsed:
        raise Invalid("Register at least one scope.", field="scopes")
    client = FhirClient(
        client_id=secrets.token_urlsafe(18),
        name=name[:200],
        practice_id=practice_id or None,
        clinic_id=clinic_id or None,
        jwks=read_jwks(jwks_text),
        scopes=smart.render(parsed),
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(client)
    db.session.flush()
    record("fhir_client.create", "fhir_client", client.id, actor=actor,
           detail=f"{client.client_id} for {client.acts_for}")  # fmt: skip
    return client


def set_active(client: FhirClient, active: bool, *, actor: User) -> None:
    """Deactivate (its tokens stop working at once) or reactivate a client."""
    client.is_active = active
    db.session.flush()
    action = "fhir_client.reactivate" if active else "fhir_client.deactivate"
    record(action, "fhir_client", client.id, actor=actor, detail=client.client_id)


def all_clients() -> list[FhirClient]:
    return list(db.session.scalars(select(FhirClient).order_by(FhirClient.id)))


def get_client_or_none(client_pk: int) -> FhirClient | None:
    return db.session.scalar(select(FhirClient).where(FhirClient.id == client_pk))
