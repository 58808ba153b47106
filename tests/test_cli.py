"""The command line: seed-demo, create-user and letters render."""

from __future__ import annotations

import re
import subprocess

import pyotp
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.auth.models import User
from portal.extensions import db
from portal.letters.models import Letter
from portal.referrals.models import Referral
from portal.treatment.models import TreatmentCourse


def _counts():
    return {
        m.__name__: db.session.scalar(select(func.count()).select_from(m))
        for m in (User, Referral, Letter)
    }


def test_seed_demo_is_idempotent(app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "ketamine-demo-2026" in first.output
    for role in ("referrer", "coordinator", "clinician", "admin"):
        assert f"{role}@demo.test" in first.output
    counts = _counts()
    assert 18 <= counts["Referral"] <= 22
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert "already present" in second.output
    assert _counts() == counts
    states = set(db.session.scalars(select(Referral.state)))
    assert {
        "submitted",
        "in_review",
        "needs_info",
        "accepted",
        "declined",
        "cancelled",
        "in_treatment",
        "completed",
    } <= states
    completed = db.session.scalars(
        select(TreatmentCourse).join(TreatmentCourse.referral).where(Referral.state == "completed")
    ).all()
    assert any(len(c.sessions) == 6 and c.referral.letters for c in completed)


def test_demo_password_signs_in(app, db):
    app.test_cli_runner().invoke(args=["seed-demo"])
    from tests.conftest import csrf_token

    client = app.test_client()
    response = client.post(
        "/login",
        data={
            "email": "coordinator@demo.test",
            "password": "ketamine-demo-2026",
            "csrf_token": csrf_token(client),
        },
    )
    # Demo staff have no authenticator yet: the first sign-in sets one up.
    assert response.location == "/two-step/setup"
    page = client.get("/two-step/setup").get_data(as_text=True)
    assert "Set up two-step sign-in" in page
    secret = re.search(r"data-secret>([A-Z2-7 ]+)<", page).group(1).replace(" ", "")
    response = client.post(
        "/two-step/setup",
        data={
            "code": pyotp.TOTP(secret).now(),
            "csrf_token": csrf_token(client, "/two-step/setup"),
        },
    )
    assert "Save your recovery codes" in response.get_data(as_text=True)
    assert "Referral queue" in client.get("/", follow_redirects=True).get_data(as_text=True)


def test_create_user_asks_for_the_password_twice(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "nurse@example.test",
            "--role",
            "clinician",
            "--name",
            "Nia Nurse",
        ],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "nurse@example.test"))
    assert user.role == "clinician"
    assert user.clinic_id == world.clinic.id
    mismatch = runner.invoke(
        args=["create-user", "--email", "x@example.test", "--role", "admin", "--name", "X"],
        input="one password here\nanother one\n" * 3,
    )
    assert mismatch.exit_code != 0
    bad_role = runner.invoke(
        args=["create-user", "--email", "y@example.test", "--role", "boss", "--name", "Y"], input=""
    )
    assert bad_role.exit_code == 2


def test_letters_render_writes_a_real_pdf(app, db, tmp_path):
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo"])
    letter = db.session.scalar(
        select(Letter).where(Letter.kind == "treatment_summary", Letter.status == "final")
    )
    out = tmp_path / "summary.pdf"
    result = runner.invoke(args=["letters", "render", str(letter.referral_id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    referral = letter.referral
    reader = PdfReader(out)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert referral.patient.full_name in text
    assert "PHQ-9" in text
    for session in referral.course.sessions:
        assert session.session_date.isoformat() in text
    assert f"Page 1 of {len(reader.pages)}" in text
    fonts = subprocess.run(
        ["pdffonts", str(out)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert fonts
    assert all(" yes yes " in line for line in fonts)
    # A course with no signed letter renders as a marked draft with nobody's signature.
    unsigned = db.session.scalars(select(Referral).where(Referral.state == "in_treatment")).first()
    draft_out = tmp_path / "draft.pdf"
    result = runner.invoke(args=["letters", "render", str(unsigned.id), "--out", str(draft_out)])
    assert result.exit_code == 0
    assert "DRAFT" in result.output
    draft_text = "\n".join(p.extract_text() for p in PdfReader(draft_out).pages)
    assert "DRAFT" in draft_text
    assert "Electronically signed" not in draft_text
    missing = runner.invoke(args=["letters", "render", "999999", "--out", str(out)])
    assert missing.exit_code != 0
    assert "does not exist" in missing.output
