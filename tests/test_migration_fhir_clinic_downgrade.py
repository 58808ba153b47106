"""Downgrading fhir1c2d3e4f5a6 (clinic-wide FHIR clients) on a database that holds one with
tokens, used assertion ids, a subscription and its deliveries: the clinic-wide client and all
that references it go, a practice's client and its rows stay, and the upgrade comes back.
Runs on the suite's database (SQLite, and PostgreSQL with TEST_DATABASE_URL), put back at the
head afterwards."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from portal.extensions import db
from portal.fhir.models import (
    FhirAccessToken,
    FhirAssertionId,
    FhirClient,
    FhirHookDelivery,
    FhirSubscription,
)
from tests.factories import create_referral
from tests.fhir.helpers import ALL_SCOPES, Ehr, bearer, token

BEFORE = "measures1a2b3c4d"
SCOPES = f"{ALL_SCOPES} system/Subscription.crds"
HOOK = {
    "resourceType": "Subscription",
    "status": "requested",
    "reason": "Follow the referrals",
    "criteria": "Task",
    "channel": {"type": "rest-hook", "endpoint": "https://ehr.example/hook"},
}


def _counts() -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            model.__tablename__: conn.execute(
                select(func.count()).select_from(model.__table__)
            ).scalar_one()
            for model in (
                FhirClient,
                FhirAccessToken,
                FhirAssertionId,
                FhirSubscription,
                FhirHookDelivery,
            )
        }


def test_downgrade_removes_clinic_wide_clients_with_what_references_them(app, db, world):
    client = app.test_client()
    world.referrer.npi = "1234567893"
    clinic_wide, practice = Ehr(), Ehr()
    clinic_wide.register(clinic_id=world.clinic.id, scopes=SCOPES)
    practice.register(world.practice.id, scopes=SCOPES)
    for system in (clinic_wide, practice):
        access = token(client, system, SCOPES)
        response = client.post("/fhir/r4/Subscription", json=HOOK, headers=bearer(access))
        assert response.status_code == 201, response.get_data(as_text=True)
    create_referral(world.referrer)
    db.session.commit()
    assert _counts() == {
        "fhir_client": 2,
        "fhir_access_token": 2,
        "fhir_assertion_id": 2,
        "fhir_subscription": 2,
        "fhir_hook_delivery": 2,
    }
    practice_id = world.practice.id
    db.session.remove()
    try:
        downgrade(revision=BEFORE)
        assert _counts() == {
            "fhir_client": 1,
            "fhir_access_token": 1,
            "fhir_assertion_id": 1,
            "fhir_subscription": 1,
            "fhir_hook_delivery": 1,
        }
        with db.engine.connect() as conn:
            kept = conn.execute(text("SELECT client_id, practice_id FROM fhir_client")).one()
        assert tuple(kept) == (practice.client_id, practice_id)
    finally:
        upgrade()
        db.engine.dispose()  # no pooled connection keeps plans of the dropped column
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() != BEFORE
