"""Re-authentication before signing a letter and before admin actions on accounts."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import time_machine
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.letters.models import Letter
from tests.conftest import login
from tests.factories import (
    PASSWORD,
    TOTP_SECRET,
    accepted_referral,
    document_sessions,
    draft_letter,
)
from tests.security_helpers import post, reauth


def _signable(world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 2)
    db.session.commit()
    return referral


def _draft(world):
    referral = _signable(world)
    letter = draft_letter(referral, world.clinician)
    db.session.commit()
    return letter


def test_signing_a_letter_needs_a_recent_password_and_code(app, world):
    letter = _draft(world)
    client = app.test_client()
    login(client, world.clinician)
    edit, sign = f"/letters/{letter.id}/edit", f"/letters/{letter.id}/sign"
    with time_machine.travel(utcnow() + timedelta(minutes=6), tick=False):
        response = post(client, sign, {"password": PASSWORD}, token_from=edit)
        assert response.location == f"/account/confirm?next={edit}"
        page = client.get(response.location).get_data(as_text=True)
        assert "Confirm it is you" in page
        assert "Code from your authenticator app" in page
        # The password alone is not enough where an authenticator is set up.
        assert reauth(client, response.location).status_code == 422
        code = pyotp.TOTP(TOTP_SECRET).now()
        assert reauth(client, response.location, code=code).location == edit
        signed = post(client, sign, {"password": PASSWORD}, token_from=edit)
    assert signed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Letter, letter.id).status == "final"


def test_a_stale_post_is_sent_to_confirm_and_nothing_is_signed(app, world):
    letter = _draft(world)
    client = app.test_client()
    login(client, world.clinician)
    edit, sign = f"/letters/{letter.id}/edit", f"/letters/{letter.id}/sign"
    with time_machine.travel(utcnow() + timedelta(minutes=6), tick=False):
        response = post(client, sign, {"password": PASSWORD}, token_from="/")
        assert response.location == f"/account/confirm?next={edit}"
        assert "then send the form again" in client.get(response.location).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Letter, letter.id).status == "draft"


def test_admin_actions_ask_to_confirm_and_are_audited(app, world):
    admin = app.test_client()
    login(admin, world.admin)
    page = admin.get("/admin/accounts").get_data(as_text=True)
    assert world.referrer.email in page
    assert "elsewhere@example.test" not in page  # another clinic's staff
    assert admin.get(f"/admin/accounts/{world.other_staff.id}/deactivate").status_code == 404
    url = f"/admin/accounts/{world.clinician.id}/reset-mfa"
    confirm = admin.get(url).get_data(as_text=True)
    assert "Reset two-step sign-in: Samuel Ortiz" in confirm
    assert "Cancel" in confirm
    assert post(admin, url, {}).location == "/admin/accounts"
    db.session.expire_all()
    assert not db.session.get(User, world.clinician.id).has_mfa
    for action in ("deactivate", "reactivate"):
        post(admin, f"/admin/accounts/{world.referrer.id}/{action}", {})
    own = post(admin, f"/admin/accounts/{world.admin.id}/deactivate", {})
    assert own.location == "/admin/accounts"
    assert "cannot do that to your own account" in admin.get(own.location).get_data(as_text=True)
    actions = db.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.actor_id == world.admin.id, AuditEvent.action.startswith("account."))
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["account.mfa_reset", "account.deactivate", "account.reactivate"]


RESEND_RE = re.compile(r'<form method="post" action="([^"]+)" data-autosubmit>(.*?)</form>', re.S)
HIDDEN_RE = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def _confirm_page_fields(page: str) -> dict:
    return dict(HIDDEN_RE.findall(page))


def test_signing_a_session_keeps_the_reason_through_confirming_and_signs(app, world):
    """Defect: after the password-and-code step the session came back unsigned, the reason
    box empty. Now the reason is carried (never the password) and the session is signed."""
    from portal.treatment.models import TreatmentSession

    referral = _signable(world)
    session = referral.course.sessions[0]
    session.bp_pre_systolic, session.bp_pre_diastolic = 150, 95
    db.session.commit()
    client = app.test_client()
    login(client, world.clinician)
    page_path = f"/treatment/sessions/{session.id}"
    reason = "Repeat reading 138/88 after rest; benefit outweighs risk."
    with time_machine.travel(utcnow() + timedelta(minutes=6), tick=False):
        page = client.get(page_path).get_data(as_text=True)
        assert 'name="bp_reason"' in page
        version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
        response = post(client, f"{page_path}/sign", {"version": version, "bp_reason": reason})
        confirm = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "Confirm it is you" in confirm
        assert "once you confirm, <strong>Sign the session</strong> is sent" in confirm
        kept = _confirm_page_fields(confirm)
        assert kept["carry-bp_reason"] == reason
        assert kept["resend_to"] == f"{page_path}/sign"
        assert PASSWORD not in confirm
        db.session.expire_all()
        assert db.session.get(TreatmentSession, session.id).signed_at is None
        # A wrong code: the page comes back still holding the reason.
        wrong = post(
            client,
            f"/account/confirm?next={page_path}",
            {**kept, "password": PASSWORD, "code": "000000"},
            token_from=page_path,
        )
        assert wrong.status_code == 422
        assert _confirm_page_fields(wrong.get_data(as_text=True))["carry-bp_reason"] == reason
        code = pyotp.TOTP(TOTP_SECRET).now()
        confirmed = post(
            client,
            f"/account/confirm?next={page_path}",
            {**kept, "password": PASSWORD, "code": code},
            token_from=page_path,
        )
        assert confirmed.status_code == 200
        action, body = RESEND_RE.search(confirmed.get_data(as_text=True)).groups()
        assert action == f"{page_path}/sign"
        assert ">Sign the session</button>" in body
        fields = _confirm_page_fields(body)
        assert fields["bp_reason"] == reason
        assert "password" not in fields
        signed = client.post(action, data=fields)
    assert signed.location == page_path
    db.session.expire_all()
    row = db.session.get(TreatmentSession, session.id)
    assert row.signed_at is not None
    assert row.bp_acknowledgement == reason
