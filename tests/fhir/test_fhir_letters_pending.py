"""A letter signed while the job workers render its PDF: the FHIR API leaves it out until the
PDF is stored (no DocumentReference without its attachment, no Binary), then serves it."""

from __future__ import annotations

import pytest

from portal.extensions import db
from tests.conftest import force_login
from tests.factories import accepted_referral, document_sessions, draft_letter
from tests.fhir.helpers import assert_valid, bearer, token
from tests.letter_signing import sign


@pytest.fixture
def signed_waiting(app, world, jobs, monkeypatch):
    """(The jobs fixture empties the queue first: before the signature enqueues its job.)"""
    monkeypatch.setitem(app.config, "LETTERS_RENDER_IN_WORKER", True)
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 2)
    letter = draft_letter(referral, world.clinician)
    db.session.commit()
    clinician = app.test_client()
    force_login(clinician, world.clinician)
    sign(clinician, letter.id)
    return referral, letter.id


def _get(client, access, path):
    response = client.get(f"/fhir/r4/{path}", headers=bearer(access))
    if response.mimetype == "application/fhir+json":
        assert_valid(response.get_json())
    return response


def test_a_letter_appears_in_fhir_once_its_pdf_is_stored(client, ehr, signed_waiting, jobs):
    referral, letter_id = signed_waiting
    access = token(client, ehr)
    search = f"DocumentReference?related=ServiceRequest/{referral.id}"
    assert _get(client, access, search).get_json().get("total") == 0
    assert _get(client, access, f"DocumentReference/{letter_id}").status_code == 404
    assert _get(client, access, f"Binary/{letter_id}").status_code == 404
    task = _get(client, access, f"Task/{referral.id}").get_json()
    assert f"DocumentReference/{letter_id}" not in str(task.get("output", []))

    jobs.run()
    db.session.expire_all()
    found = _get(client, access, search).get_json()
    assert [e["resource"]["id"] for e in found["entry"]] == [str(letter_id)]
    assert _get(client, access, f"DocumentReference/{letter_id}").status_code == 200
    assert _get(client, access, f"Binary/{letter_id}").status_code == 200
    task = _get(client, access, f"Task/{referral.id}").get_json()
    assert f"DocumentReference/{letter_id}" in str(task["output"])
