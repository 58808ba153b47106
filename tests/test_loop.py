"""The whole referral loop through the web pages, as each role would click it."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from sqlalchemy import select

from portal.letters.models import Letter
from portal.referrals.models import Referral
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, intake_form

REFERRAL_FORM = intake_form(
    first_name="Quentin",
    last_name="Lovelace",
    date_of_birth="1979-02-14",
    sex="male",
    reason="Failed sertraline and venlafaxine at full dose.",
    **{f"phq9_{i}": "2" for i in range(1, 9)},
    phq9_9="0",
)


def _version(client, referral_id: int) -> str:
    page = client.get(f"/referrals/{referral_id}").get_data(as_text=True)
    return re.search(r'name="version" value="(\d+)"', page).group(1)


def _post(client, path, data, token_from):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from)})


def test_referral_loop_end_to_end(app, db, world, jobs):
    referrer, coordinator, clinician = world.referrer, world.coordinator, world.clinician
    client = app.test_client()

    # The referrer sends the referral; the portal scores the PHQ-9.
    login(client, referrer)
    response = _post(client, "/referrals/new", REFERRAL_FORM, "/referrals/new")
    assert response.status_code == 302
    referral = db.session.scalar(select(Referral))
    assert referral.letters == []  # the acknowledgement is the worker's, after the commit
    assert "acknowledge_task" in jobs.pending()
    jobs.run()
    page = client.get(response.location).get_data(as_text=True)
    assert "Quentin Lovelace" in page
    assert "Submitted" in page
    assert "16</span> moderately severe" in page  # 8 items x 2 = 16
    client.post("/logout", data={"csrf_token": csrf_token(client, "/referrals/")})

    # The coordinator finds it in the queue, opens it and accepts it.
    staff = app.test_client()
    login(staff, coordinator)
    queue = staff.get("/triage/").get_data(as_text=True)
    assert referral.number in queue
    assert "Quentin Lovelace" in queue
    path = f"/referrals/{referral.id}"
    _post(staff, f"/triage/{referral.id}/open", {"version": _version(staff, referral.id)}, path)
    assert "In review" in staff.get(path).get_data(as_text=True)
    accept_form = staff.get(f"/triage/{referral.id}/accept").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', accept_form).group(1)
    response = _post(
        staff,
        f"/triage/{referral.id}/accept",
        {
            "version": version,
            "modality": "iv_ketamine",
            "clinician_id": str(clinician.id),
            "planned_sessions": "6",
            "reason": "Welcome; we will call the patient.",
        },
        f"/triage/{referral.id}/accept",
    )
    assert response.status_code == 302
    assert "Accepted" in staff.get(path).get_data(as_text=True)

    # The clinician documents three sessions with a PHQ-9 each, then completes the course.
    doc = app.test_client()
    login(doc, clinician)
    dates = ["2026-10-05", "2026-10-07", "2026-10-09"]
    scores = [[2, 1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 0, 0, 0, 0, 0], [1, 0, 0, 1, 0, 0, 1, 0, 0]]
    for day, answers in zip(dates, scores, strict=True):
        form_path = f"/treatment/referrals/{referral.id}/sessions/new"
        page = doc.get(form_path).get_data(as_text=True)
        version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
        response = _post(
            doc,
            form_path,
            {
                "version": version,
                "session_date": day,
                "modality": "iv_ketamine",
                "weight_kg": "70",
                "dose_mg_per_kg": "0.5",
                "infusion_minutes": "40",
                "infusion_started_at": "09:00",
                "lot_number": "KET-2211",
                "bp_pre_systolic": "124",
                "bp_pre_diastolic": "80",
                "bp_post_systolic": "142",
                "bp_post_diastolic": "88",
                "notes": "",
                **{f"phq9_{i}": str(a) for i, a in enumerate(answers, start=1)},
            },
            form_path,
        )
        assert response.status_code == 302, response.get_data(as_text=True)
    page = doc.get(path).get_data(as_text=True)
    assert "In treatment" in page
    assert "3 of 6 sessions done" in page
    _post(
        doc,
        f"/treatment/referrals/{referral.id}/complete",
        {"version": _version(doc, referral.id)},
        path,
    )
    assert "Completed" in doc.get(path).get_data(as_text=True)

    # The clinician drafts, saves and signs the treatment summary (password asked again).
    response = _post(
        doc, f"/letters/referrals/{referral.id}/new", {"kind": "treatment_summary"}, path
    )
    assert response.status_code == 302
    edit_path = response.location
    narrative = {"narrative": "Good response to the induction series.", "action": "save"}
    assert _post(doc, edit_path, narrative, edit_path).status_code == 302
    letter = db.session.scalar(select(Letter).where(Letter.kind == "treatment_summary"))
    sign_path = f"/letters/{letter.id}/sign"
    assert _post(doc, sign_path, {"password": PASSWORD}, edit_path).status_code == 302
    db.session.expire_all()
    letter = db.session.get(Letter, letter.id)
    assert letter.status == "final"
    assert len(letter.sha256) == 64

    # The referrer sees the letter and the whole timeline, and downloads the PDF.
    page = client.get(path, follow_redirects=True)
    login(client, referrer)
    page = client.get(path).get_data(as_text=True)
    for seen in (
        "Submitted",
        "In review",
        "Accepted",
        "In treatment",
        "Completed",
        "Session documented",
        "Letter issued",
        "Treatment summary",
        "Welcome; we will call the patient.",
    ):
        assert seen in page
    download = client.get(f"/letters/{letter.id}/download")
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(download.data)).pages)
    assert "Quentin Lovelace" in text
    assert "PHQ-9" in text
    for day in dates:
        assert day in text
    assert "Page 1 of 2" in text
    # Baseline 16 -> latest 3: -13 points, response and remission.
    assert "-13 points" in text
    # The clinic sees when the referrer first opened it.
    db.session.expire_all()
    assert db.session.get(Letter, letter.id).first_downloaded_by_id == referrer.id
    staff_page = staff.get(path).get_data(as_text=True)
    table = staff_page.split('id="letters-h"')[1].split("</table>")[0]
    summary_row = next(row for row in table.split("<tr>") if "Treatment summary" in row)
    assert "not yet" not in summary_row
    assert f"{referrer.display_name} on" in summary_row
    # The acknowledgement of receipt, made by the worker when the referral was sent; not opened.
    ack_row = next(row for row in table.split("<tr>") if "Acknowledgement of receipt" in row)
    assert "not yet" in ack_row
