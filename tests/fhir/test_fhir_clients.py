"""Registering an EHR's system: the admin's FHIR clients page and the command line."""

from __future__ import annotations

import json

import jwt
from sqlalchemy import select

from portal.extensions import db
from portal.fhir.models import FhirClient
from tests.conftest import force_login, page_text, post_form
from tests.fhir.helpers import Ehr


def test_the_admin_registers_a_system_with_its_public_keys(app, world):
    admin = app.test_client()
    force_login(admin, world.admin)
    page = admin.get("/admin/fhir-clients/")
    assert page.status_code == 200
    assert "No system is registered yet." in page_text(page.get_data(as_text=True))
    ehr = Ehr("EC")
    response = post_form(
        admin,
        "/admin/fhir-clients/",
        {
            "name": "Riverbend EHR",
            "practice_id": str(world.practice.id),
            "scopes": "system/Task.read system/ServiceRequest.cru",
            "jwks": json.dumps(ehr.jwks),
        },
        follow_redirects=True,
    )
    text = page_text(response.get_data(as_text=True))
    client = db.session.scalar(select(FhirClient))
    assert f"Registered Riverbend EHR. Its client id: {client.client_id}" in text
    assert "system/ServiceRequest.cru" in text
    assert "system/Task.rs" in text  # v1 read, stored in v2 syntax
    assert client.practice_id == world.practice.id


def test_a_private_key_or_bad_json_is_refused_with_what_was_typed_kept(app, world):
    admin = app.test_client()
    force_login(admin, world.admin)
    ehr = Ehr()
    private = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(ehr.private_key))
    response = post_form(
        admin,
        "/admin/fhir-clients/",
        {
            "name": "Leaky EHR",
            "practice_id": str(world.practice.id),
            "scopes": "system/Task.rs",
            "jwks": json.dumps({"keys": [private]}),
        },  # fmt: skip
    )
    assert response.status_code == 422
    text = page_text(response.get_data(as_text=True))
    assert "holds a private key; register public keys only" in text
    assert 'value="Leaky EHR"' in response.get_data(as_text=True)
    response = post_form(
        admin,
        "/admin/fhir-clients/",
        {
            "name": "X",
            "practice_id": str(world.practice.id),
            "scopes": "patient/*.read",
            "jwks": json.dumps(ehr.jwks),
        },  # fmt: skip
    )
    assert "Not a SMART system scope: patient/*.read" in page_text(response.get_data(as_text=True))
    assert db.session.scalar(select(FhirClient)) is None


def test_deactivating_a_client(app, world):
    ehr = Ehr()
    ehr.register(world.practice.id)
    admin = app.test_client()
    force_login(admin, world.admin)
    row = db.session.scalar(select(FhirClient))
    post_form(
        admin, f"/admin/fhir-clients/{row.id}/deactivate", {}, token_from="/admin/fhir-clients/"
    )
    db.session.refresh(row)
    assert row.is_active is False


def test_the_command_prints_the_client_id_last(app, world, tmp_path):
    keys = tmp_path / "jwks.json"
    keys.write_text(json.dumps(Ehr().jwks))
    result = app.test_cli_runner().invoke(
        args=[
            "fhir-client",
            "create",
            "--name",
            "Riverbend EHR",
            "--practice",
            str(world.practice.id),
            "--jwks",
            str(keys),
        ]  # fmt: skip
    )
    assert result.exit_code == 0, result.output
    client_id = result.output.strip().splitlines()[-1]
    row = db.session.scalar(select(FhirClient).where(FhirClient.client_id == client_id))
    assert row.name == "Riverbend EHR"
    bad = app.test_cli_runner().invoke(
        args=["fhir-client", "create", "--name", "X", "--practice", "999999", "--jwks", str(keys)]
    )
    assert bad.exit_code != 0
    assert "Choose a practice." in bad.output
