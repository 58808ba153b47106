"""Letters: drafted, previewed, signed with the password asked again, corrected as version 2,
downloaded, verified; each read back from the PDF."""

from __future__ import annotations

import hashlib
import io
import subprocess
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.db import utcnow
from portal.extensions import db as _db
from portal.letters.models import Letter
from portal.letters.storage import open_pdf
from portal.referrals.service import change_state
from portal.referrals.states import State
from portal.treatment.service import complete_course
from tests.conftest import force_login, post_form
from tests.factories import PASSWORD, accepted_referral, create_referral, document_sessions
from tests.letter_helpers import draft_and_sign, flat, pdf_text

NARRATIVE = "The induction series went well and the patient tolerated every session."
RECS = "Maintenance every three weeks for three months.\n\nRepeat a PHQ-9 at the next visit."


@pytest.fixture
def completed(world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    falling = [
        [2, 2, 2, 1, 1, 1, 0, 0, 0],
        [1, 1, 1, 1, 0, 0, 0, 0, 0],
        [0, 1, 0, 0, 0, 0, 0, 0, 0],
    ]
    document_sessions(referral, world.clinician, 3, phq9=falling)
    complete_course(
        referral.course,
        actor=world.clinician,
        expected_version=referral.version,
        ended_on=date.today(),
    )
    _db.session.commit()
    return referral


def _clinician(app, world):
    client = app.test_client()
    force_login(client, world.clinician)
    return client


def test_summary_letter_carries_every_section(app, world, completed):
    client = _clinician(app, world)
    letter_id = draft_and_sign(client, completed.id, "treatment_summary", NARRATIVE, RECS)
    letter = _db.session.get(Letter, letter_id)
    assert letter.status == "final"
    assert letter.sha256 == hashlib.sha256(open_pdf(letter)).hexdigest()

    referrer = app.test_client()
    force_login(referrer, world.referrer)
    response = referrer.get(f"/letters/{letter_id}/download")
    assert response.status_code == 200
    assert response.data == open_pdf(letter)  # the stored PDF, unchanged
    text = pdf_text(response.data)
    pages = len(PdfReader(io.BytesIO(response.data)).pages)
    clinic = world.clinic
    sessions = completed.course.sessions
    for expected in (
        # letterhead and address block
        clinic.name,
        clinic.phone,
        "Maya Chen, MD",
        world.practice.name,
        # patient block
        "Re: Alexis Testpatient",
        "1980-05-17",
        completed.number,
        # the clinician's text
        NARRATIVE,
        "Maintenance every three weeks for three months.",
        "Repeat a PHQ-9 at the next visit.",
        # session table
        "Highest BP after",
        *(s.session_date.isoformat() for s in sessions),
        "35 mg",
        "120/80",
        "138/88",
        # scales, charts, response and remission
        "PHQ-9 total over the course",
        "Response",
        "Remission",
        "16 (moderately severe)",
        "1 (minimal)",
        "-15 points",
        "(-94%)",
        # adverse events, signature, footer
        "No adverse events were recorded.",
        f"{world.clinician.full_name}, MD",
        "Electronically signed",
        "CONFIDENTIAL",
        f"Page 1 of {pages}",
        f"Page {pages} of {pages}",
        letter.verify_code,
    ):
        assert flat(expected) in flat(text), expected
    assert "DRAFT" not in text


def test_preview_is_marked_draft_and_signing_needs_the_password(app, world, completed):
    client = _clinician(app, world)
    detail = f"/referrals/{completed.id}"
    started = post_form(
        client,
        f"/letters/referrals/{completed.id}/new",
        {"kind": "treatment_summary"},
        token_from=detail,
    )
    edit = started.location
    letter = _db.session.scalar(select(Letter).where(Letter.kind == "treatment_summary"))
    saved = post_form(client, edit, {"narrative": NARRATIVE, "action": "preview"})
    assert saved.location.endswith(f"/letters/{letter.id}/preview")
    preview = client.get(saved.location)
    assert preview.headers["Content-Type"] == "application/pdf"
    text = pdf_text(preview.data)
    assert "DRAFT" in text
    assert "Electronically signed" not in text
    assert NARRATIVE in flat(text) or flat(NARRATIVE) in flat(text)

    # The referrer sees no draft, on the page or by its address.
    referrer = app.test_client()
    force_login(referrer, world.referrer)
    assert referrer.get(f"/letters/{letter.id}/download").status_code == 404
    assert referrer.get(f"/letters/{letter.id}/preview").status_code == 404
    assert (
        "Treatment summary"
        not in referrer.get(detail)
        .get_data(as_text=True)
        .split('id="letters-h"')[1]
        .split("</section>")[0]
    )

    wrong = post_form(client, f"/letters/{letter.id}/sign", {"password": "not-it"}, token_from=edit)
    assert wrong.status_code == 302
    page = client.get(edit).get_data(as_text=True)
    assert "That password is not right: the letter is not signed." in page
    _db.session.expire_all()
    assert _db.session.get(Letter, letter.id).status == "draft"
    assert (
        post_form(
            client, f"/letters/{letter.id}/sign", {"password": PASSWORD}, token_from=edit
        ).status_code
        == 302
    )
    _db.session.expire_all()
    assert _db.session.get(Letter, letter.id).status == "final"
    # A signed letter cannot be edited any more.
    assert client.get(edit).status_code == 302


def test_correction_supersedes_version_1_on_its_face_and_in_the_list(app, world, completed):
    client = _clinician(app, world)
    first_id = draft_and_sign(client, completed.id, "treatment_summary", "Fist draft typo.")
    first = _db.session.get(Letter, first_id)
    original, original_sha = first.pdf, first.sha256
    corrected = post_form(
        client, f"/letters/{first_id}/correct", {}, token_from=f"/referrals/{completed.id}"
    )
    edit = corrected.location
    assert "Version 1 stays the current letter" in client.get(edit).get_data(as_text=True)
    post_form(client, edit, {"narrative": "First draft, corrected.", "action": "save"})
    second = _db.session.scalar(select(Letter).where(Letter.version == 2))
    post_form(client, f"/letters/{second.id}/sign", {"password": PASSWORD}, token_from=edit)
    _db.session.expire_all()
    first, second = _db.session.get(Letter, first_id), _db.session.get(Letter, second.id)
    assert (first.status, second.status) == ("superseded", "final")
    assert (first.pdf, first.sha256) == (original, original_sha)  # stored bytes untouched

    referrer = app.test_client()
    force_login(referrer, world.referrer)
    old = referrer.get(f"/letters/{first_id}/download")
    old_text = pdf_text(old.data)
    assert "SUPERSEDED" in old_text
    assert "replaced by version 2" in old_text
    assert "Fist draft typo." in old_text
    new_text = pdf_text(referrer.get(f"/letters/{second.id}/download").data)
    assert "First draft, corrected." in new_text
    assert "SUPERSEDED" not in new_text
    assert "version 2" in new_text
    listing = referrer.get(f"/referrals/{completed.id}").get_data(as_text=True)
    assert "superseded" in listing.split('id="letters-h"')[1]


def test_verification_page_shows_the_letter_but_no_patient(app, world, completed):
    client = _clinician(app, world)
    first_id = draft_and_sign(client, completed.id, "treatment_summary", NARRATIVE)
    first = _db.session.get(Letter, first_id)
    anyone = app.test_client()
    page = anyone.get(f"/verify/{first.verify_code.lower().replace('-', '')}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for shown in (world.clinic.name, "Treatment summary", first.sha256, "Genuine and current"):
        assert shown in html
    for hidden in ("Alexis", "Testpatient", "1980-05-17", completed.number, "Maya Chen"):
        assert hidden not in html
    # After a correction, the same code says the letter is superseded.
    corrected = post_form(client, f"/letters/{first_id}/correct", {}, token_from="/")
    post_form(client, corrected.location, {"narrative": "Corrected.", "action": "save"})
    second = _db.session.scalar(select(Letter).where(Letter.version == 2))
    post_form(client, f"/letters/{second.id}/sign", {"password": PASSWORD}, token_from="/")
    html = anyone.get(f"/verify/{first.verify_code}").get_data(as_text=True)
    assert "Genuine but SUPERSEDED" in html
    assert "with version 2" in html
    assert anyone.get("/verify/ABCDE-23456").status_code == 404
    assert anyone.get("/verify/?code=not a code").status_code == 404
    assert anyone.get(f"/verify/?code={first.verify_code}").status_code == 302


def test_another_provider_gets_404_on_a_letter(app, world, completed):
    client = _clinician(app, world)
    letter_id = draft_and_sign(client, completed.id, "treatment_summary", NARRATIVE)
    other = app.test_client()
    force_login(other, world.other_referrer)
    response = other.get(f"/letters/{letter_id}/download")
    assert response.status_code == 404
    assert b"%PDF" not in response.data
    staff_elsewhere = app.test_client()
    force_login(staff_elsewhere, world.other_staff)
    assert staff_elsewhere.get(f"/letters/{letter_id}/download").status_code == 404


def test_decline_letter_starts_from_the_reason_and_lists_alternatives(app, world):
    referral = create_referral(world.referrer)
    change_state(
        referral, State.IN_REVIEW, actor=world.coordinator, expected_version=referral.version
    )
    change_state(
        referral,
        State.DECLINED,
        actor=world.coordinator,
        expected_version=referral.version,
        reason="Uncontrolled hypertension at screening.",
    )
    _db.session.commit()
    client = _clinician(app, world)
    started = post_form(
        client,
        f"/letters/referrals/{referral.id}/new",
        {"kind": "decline"},
        token_from=f"/referrals/{referral.id}",
    )
    page = client.get(started.location).get_data(as_text=True)
    assert "Uncontrolled hypertension at screening." in page  # prefilled, editable
    assert "Suggested alternatives" in page
    data = {
        "narrative": "Uncontrolled hypertension at screening.",
        "recommendations": "TMS at a centre near the patient.",
        "action": "save",
    }
    post_form(client, started.location, data)
    letter = _db.session.scalar(select(Letter).where(Letter.kind == "decline"))
    post_form(client, f"/letters/{letter.id}/sign", {"password": PASSWORD}, token_from="/")
    _db.session.expire_all()
    text = pdf_text(open_pdf(_db.session.get(Letter, letter.id)))
    for expected in (
        "Decline",
        "Reasons",
        "Uncontrolled hypertension",
        "Suggested alternatives",
        "TMS at a centre near the patient.",
    ):
        assert expected in text


def test_acceptance_letter_shows_the_planned_course_and_dates_when_given(app, world):
    from portal.letters.service import render_letter, start_draft

    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    letter = start_draft(referral, "acceptance", actor=world.clinician)
    text = pdf_text(render_letter(letter).data)
    assert "IV ketamine infusion" in text
    assert "Planned sessions" in text
    assert "We will contact the patient to book the 6 sessions" in text
    day = date(2026, 12, 1)
    dated = pdf_text(render_letter(letter, planned_dates=[day, day + timedelta(days=3)]).data)
    assert "Tuesday, December 1, 2026" in dated
    assert "Friday, December 4, 2026" in dated


def test_acknowledgement_is_made_once_and_issued_by_the_clinic(app, world):
    from portal.letters.service import acknowledge_referral

    referral = create_referral(world.referrer, reason="Needs a second opinion.")
    letter = acknowledge_referral(referral)
    assert acknowledge_referral(referral) is None
    _db.session.commit()
    text = pdf_text(open_pdf(letter))
    for expected in (
        "Acknowledgement of receipt",
        "Needs a second opinion.",
        "The intake team",
        letter.verify_code,
        "Page 1 of 1",
    ):
        assert expected in text


def test_clinic_sees_letters_not_opened_after_n_days(app, world, completed):
    client = _clinician(app, world)
    letter_id = draft_and_sign(client, completed.id, "treatment_summary", NARRATIVE)
    letter = _db.session.get(Letter, letter_id)
    letter.created_at = utcnow() - timedelta(days=6)
    _db.session.commit()
    coordinator = app.test_client()
    force_login(coordinator, world.coordinator)
    page = coordinator.get("/letters/unopened").get_data(as_text=True)
    assert "Letters not opened after 5 days" in page
    assert completed.number in page
    assert "6 days" in page
    assert completed.number not in coordinator.get("/letters/unopened?days=7").get_data(
        as_text=True
    )
    referrer = app.test_client()
    force_login(referrer, world.referrer)
    referrer.get(f"/letters/{letter_id}/download").close()
    page = coordinator.get("/letters/unopened").get_data(as_text=True)
    assert completed.number not in page
    assert "Every letter signed more than 5 days ago has been opened" in page
    detail = coordinator.get(f"/referrals/{completed.id}").get_data(as_text=True)
    assert f"{world.referrer.display_name} on" in detail


def test_letters_are_tagged_titled_and_embed_subset_fonts(app, world, completed, tmp_path):
    client = _clinician(app, world)
    letter_id = draft_and_sign(client, completed.id, "treatment_summary", NARRATIVE)
    data = open_pdf(_db.session.get(Letter, letter_id))
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert root["/MarkInfo"]["/Marked"]
    assert root["/Lang"] == "en"
    assert reader.metadata.title == f"Treatment summary - referral {completed.number}"
    path = tmp_path / "letter.pdf"
    path.write_bytes(data)
    fonts = subprocess.run(["pdffonts", path], capture_output=True, text=True, check=True)
    rows = fonts.stdout.splitlines()[2:]
    assert rows
    assert all(" yes yes " in row for row in rows), fonts.stdout


def test_each_draft_action_is_audited_once_under_its_own_name(app, world, completed):
    from portal.audit.models import AuditEvent
    from tests.factories import draft_letter

    draft = draft_letter(completed, world.clinician)
    _db.session.commit()
    client = app.test_client()
    force_login(client, world.clinician)
    edit = f"/letters/{draft.id}/edit"
    assert client.get(edit).status_code == 200
    post_form(client, edit, {"narrative": NARRATIVE, "recommendations": RECS}, token_from=edit)
    assert client.get(f"/letters/{draft.id}/preview").status_code == 200

    def actions():
        return _db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "letter", AuditEvent.object_id == draft.id)
            .order_by(AuditEvent.id)
        ).all()

    # Opening the page twice (before and after saving) is two reads; one save, one preview.
    assert actions() == ["letter.view", "letter.view", "letter.update", "letter.preview"]
