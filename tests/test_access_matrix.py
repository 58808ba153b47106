"""Route x role matrix, built from app.url_map: every route, every kind of user.

A route added without an entry here fails test_every_route_is_in_the_matrix, so nothing can
escape the deny-by-default rules. Users who may not see an object get 404, never 403.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.accounts.service import create_invitation
from portal.audit.models import AuditEvent
from portal.extensions import db as _db
from portal.fhir.models import FhirClient
from portal.notifications.models import Notification, OutboxMessage
from tests.conftest import csrf_token, force_login
from tests.db_snapshot import SharedSetup
from tests.factories import (
    accepted_referral,
    document_sessions,
    draft_letter,
    password_reset_link,
    pending_account_request,
    phq9_with_item9,
    scheduling_objects,
    stored_attachment,
    stored_letter,
)
from tests.fhir.helpers import Ehr

USERS = [
    "anonymous",
    "referrer",
    "colleague",
    "other_referrer",
    "coordinator",
    "clinician",
    "admin",
    "other_staff",
]
STAFF = {"coordinator", "clinician", "admin"}
SEES_REFERRAL = {"referrer", "colleague"} | STAFF  # the colleague's practice shares
CHANGES_REFERRAL = {"referrer"} | STAFF  # ...but only the referrer and the clinic act

REFERRERS = {"referrer", "colleague", "other_referrer"}
SIGNED_IN = set(USERS) - {"anonymous"}
R = {"referral_id": "R"}
# (endpoint, method) -> (url args, who may reach it); every method a route accepts.
MATRIX: dict[tuple[str, str], tuple[dict, set[str]]] = {
    ("auth.home", "GET"): ({}, set(USERS)),
    ("auth.login", "GET"): ({}, set(USERS)),
    ("auth.login", "POST"): ({}, set(USERS)),
    ("auth.logout", "POST"): ({}, set(USERS) - {"anonymous"}),
    ("static", "GET"): ({"filename": "css/portal.css"}, set(USERS)),
    ("referrals.dashboard", "GET"): ({}, REFERRERS),
    ("referrals.dashboard", "POST"): ({}, REFERRERS),
    ("referrals.new", "GET"): ({}, REFERRERS),
    ("referrals.new", "POST"): ({}, REFERRERS),
    ("referrals.detail", "GET"): (R, SEES_REFERRAL),
    ("referrals.patient", "GET"): ({"patient_id": "P"}, SEES_REFERRAL),
    ("referrals.cancel", "POST"): (R, CHANGES_REFERRAL),
    ("referrals.answer", "POST"): (R, {"referrer"}),
    ("referrals.edit", "GET"): (R, {"referrer"}),
    ("referrals.edit", "POST"): (R, {"referrer"}),
    ("messages.post", "POST"): (R, CHANGES_REFERRAL),
    ("attachments.upload", "POST"): (R, CHANGES_REFERRAL),
    ("attachments.download", "GET"): ({"attachment_id": "A"}, SEES_REFERRAL),
    ("attachments.view", "GET"): ({"attachment_id": "A"}, SEES_REFERRAL),
    ("attachments.remove", "POST"): ({**R, "attachment_id": "A"}, {"referrer"}),
    ("accounts.profile", "GET"): ({}, set(USERS) - {"anonymous"}),
    ("accounts.profile", "POST"): ({}, set(USERS) - {"anonymous"}),
    ("accounts.invitations", "GET"): ({}, {"coordinator", "admin", "other_staff"}),
    ("accounts.invitations", "POST"): ({}, {"coordinator", "admin", "other_staff"}),
    ("accounts.revoke_invitation", "POST"): ({"invitation_id": "I"}, {"coordinator", "admin"}),
    ("accounts.accept_invitation", "GET"): ({"token": "T"}, set(USERS)),
    ("accounts.accept_invitation", "POST"): ({"token": "T"}, set(USERS)),
    ("accounts.request_account", "GET"): ({}, set(USERS)),
    ("accounts.request_account", "POST"): ({}, set(USERS)),
    ("accounts.decide_request", "POST"): ({"request_id": "Q", "decision": "refuse"}, {"admin"}),
    ("triage.queue", "GET"): ({}, STAFF | {"other_staff"}),
    ("triage.search", "POST"): ({}, STAFF | {"other_staff"}),
    ("triage.assign_selected", "POST"): ({}, STAFF | {"other_staff"}),
    ("triage.open_referral", "POST"): (R, STAFF),
    ("triage.accept", "GET"): (R, STAFF),
    ("triage.accept", "POST"): (R, STAFF),
    ("triage.decide", "POST"): ({**R, "decision": "needs_info"}, STAFF),
    ("treatment.courses", "GET"): ({}, STAFF | {"other_staff"}),
    ("treatment.new_session", "GET"): (R, {"clinician"}),
    ("treatment.new_session", "POST"): (R, {"clinician"}),
    ("treatment.complete", "POST"): (R, {"clinician"}),
    ("letters.download", "GET"): ({"letter_id": "L"}, SEES_REFERRAL),
    # Letters: drafts are the clinic's clinicians' only; verification is public.
    ("letters.new", "POST"): (R, {"clinician"}),
    ("letters.edit", "GET"): ({"letter_id": "LD"}, {"clinician"}),
    ("letters.edit", "POST"): ({"letter_id": "LD"}, {"clinician"}),
    ("letters.preview_pdf", "GET"): ({"letter_id": "LD"}, {"clinician"}),
    ("letters.sign", "POST"): ({"letter_id": "LD"}, {"clinician"}),
    ("letters.correct", "POST"): ({"letter_id": "L"}, {"clinician"}),
    ("letters.unopened", "GET"): ({}, STAFF | {"other_staff"}),
    ("verify.lookup", "GET"): ({}, set(USERS)),
    ("verify.letter", "GET"): ({"code": "VC"}, set(USERS)),
    ("letterhead.settings", "GET"): ({}, {"admin"}),
    ("letterhead.settings", "POST"): ({}, {"admin"}),
    ("admin.audit_log", "GET"): ({}, {"admin"}),
    # Session documentation: never for referrers.
    ("treatment.course", "GET"): (R, STAFF),
    ("treatment.end_early", "POST"): (R, {"clinician"}),
    ("treatment.new_scale", "GET"): ({**R, "scale": "GAD-7"}, {"clinician"}),
    ("treatment.new_scale", "POST"): ({**R, "scale": "GAD-7"}, {"clinician"}),
    ("treatment.session", "GET"): ({"session_id": "S"}, STAFF),
    ("treatment.sign", "POST"): ({"session_id": "S"}, {"clinician"}),
    ("treatment.edit_session", "GET"): ({"session_id": "S"}, {"clinician"}),
    ("treatment.edit_session", "POST"): ({"session_id": "S"}, {"clinician"}),
    ("treatment.addendum", "POST"): ({"session_id": "S"}, {"clinician"}),
    ("treatment.rems_list", "GET"): ({}, STAFF | {"other_staff"}),
    ("treatment.rems_pdf", "GET"): ({"session_id": "S"}, STAFF),
    ("treatment.rems_submitted", "POST"): ({"session_id": "S"}, STAFF),
    ("treatment.rems_enrolment", "POST"): (R, STAFF),
    ("treatment.review_alert", "POST"): ({"alert_id": "AL"}, {"clinician"}),
    # Coordinators: screening, scheduling, settings, the public .ics feed.
    ("triage.screening", "GET"): (R, STAFF),
    ("triage.checklist", "POST"): (R, STAFF),
    ("triage.add_note", "POST"): (R, STAFF),
    ("triage.assign", "POST"): (R, STAFF),
    ("triage.acknowledge_flag", "POST"): (R, STAFF),
    ("authorizations.referral_authorization", "GET"): (R, STAFF),
    ("authorizations.referral_authorization", "POST"): (R, STAFF),
    ("authorizations.summary_pdf", "GET"): (R, STAFF),
    ("scheduling.referral_schedule", "GET"): (R, STAFF),
    ("scheduling.propose", "GET"): (R, STAFF),
    ("scheduling.book", "POST"): (R, STAFF),
    ("scheduling.add_visit", "POST"): (R, STAFF),
    ("scheduling.reminders", "POST"): (R, STAFF),
    ("scheduling.move", "POST"): ({"appointment_id": "AP"}, STAFF),
    ("scheduling.cancel", "POST"): ({"appointment_id": "AP"}, STAFF),
    ("scheduling.no_show", "POST"): ({"appointment_id": "AP"}, STAFF),
    ("scheduling.preparation", "POST"): ({"appointment_id": "AP"}, STAFF),
    ("scheduling.day", "GET"): ({}, STAFF | {"other_staff"}),
    ("scheduling.day_print", "GET"): ({}, STAFF | {"other_staff"}),
    ("scheduling.week", "GET"): ({}, STAFF | {"other_staff"}),
    ("scheduling.save_clinician_hours", "POST"): ({"clinician_id": "CL"}, {"admin"}),
    ("scheduling.settings", "GET"): ({}, {"admin"}),
    ("scheduling.save_settings", "POST"): ({}, {"admin"}),
    ("scheduling.add_closed_date", "POST"): ({}, {"admin"}),
    ("scheduling.delete_closed_date", "POST"): ({"closed_id": "C"}, {"admin"}),
    ("scheduling.calendar_link", "POST"): ({}, {"admin"}),
    ("scheduling.protocols", "GET"): ({}, {"admin"}),
    ("scheduling.edit_protocol", "GET"): ({"protocol_id": "PT"}, {"admin"}),
    ("scheduling.edit_protocol", "POST"): ({"protocol_id": "PT"}, {"admin"}),
    ("calendar.feed", "GET"): ({"token": "K"}, set(USERS)),
    # Account security: the second step answers signed-in users with a redirect home.
    ("mfa.verify", "GET"): ({}, SIGNED_IN),
    ("mfa.verify", "POST"): ({}, SIGNED_IN),
    ("mfa.enrol", "GET"): ({}, SIGNED_IN),
    ("mfa.enrol", "POST"): ({}, SIGNED_IN),
    ("mfa.qr", "GET"): ({}, SIGNED_IN),
    ("account.security", "GET"): ({}, SIGNED_IN),
    ("account.password", "GET"): ({}, SIGNED_IN),
    ("account.password", "POST"): ({}, SIGNED_IN),
    ("account.reauth", "GET"): ({}, SIGNED_IN),
    ("account.reauth", "POST"): ({}, SIGNED_IN),
    ("account.recovery_codes", "GET"): ({}, SIGNED_IN),
    ("account.recovery_codes", "POST"): ({}, SIGNED_IN),
    ("account.session_status", "GET"): ({}, SIGNED_IN),
    ("account.session_extend", "POST"): ({}, SIGNED_IN),
    ("admin.audit_csv", "GET"): ({}, {"admin"}),
    ("admin.accounts", "GET"): ({}, {"admin"}),
    ("admin.sign_in_attempts", "GET"): ({}, {"admin"}),
    ("admin.account_action", "GET"): ({"user_id": "U", "action": "unlock"}, {"admin"}),
    ("admin.account_action", "POST"): ({"user_id": "U", "action": "unlock"}, {"admin"}),
    ("admin.referrer_mfa", "GET"): ({}, {"admin"}),
    ("admin.referrer_mfa", "POST"): ({}, {"admin"}),
    # Measures: the clinic's for coordinators and admins (of any clinic: each sees its own);
    # a practice's report only of a practice that referred to the clinic; My outcomes for
    # referring providers.
    ("measures.clinic", "GET"): ({}, {"coordinator", "admin", "other_staff"}),
    ("measures.export", "GET"): ({"key": "funnel"}, {"coordinator", "admin", "other_staff"}),
    ("measures.report", "GET"): ({"practice": "PR", "quarter": "QT"}, {"coordinator", "admin"}),
    ("measures.mine", "GET"): ({}, REFERRERS),
    ("measures.mine_csv", "GET"): ({}, REFERRERS),
    ("fhir_admin.clients", "GET"): ({}, {"admin"}),
    ("fhir_admin.clients", "POST"): ({}, {"admin"}),
    ("fhir_admin.set_active", "POST"): ({"client_pk": "FC", "action": "deactivate"}, {"admin"}),
    # The FHIR API: bearer tokens only, never the pages' session (API_STATUS below).
    ("fhir.metadata", "GET"): ({}, set(USERS)),
    ("fhir.smart_configuration", "GET"): ({}, set(USERS)),
    ("fhir.code_system", "GET"): ({"name": "scale"}, set(USERS)),
    ("fhir.questionnaire", "GET"): ({}, set(USERS)),
    ("fhir.token", "POST"): ({}, set(USERS)),
    ("fhir.transaction", "POST"): ({}, set(USERS)),
    ("fhir.read", "GET"): ({"kind": "Task", "resource_id": "R"}, set(USERS)),
    ("fhir.update_task", "PUT"): ({"resource_id": "R"}, set(USERS)),
    ("fhir.answer_question", "POST"): ({}, set(USERS)),
    ("fhir.search", "GET"): ({"kind": "Task"}, set(USERS)),
    ("fhir.subscription_create", "POST"): ({}, set(USERS)),
    ("fhir.subscription_read", "GET"): ({"subscription_id": "R"}, set(USERS)),
    ("fhir.subscription_search", "GET"): ({}, set(USERS)),
    ("fhir.subscription_delete", "DELETE"): ({"subscription_id": "R"}, set(USERS)),
    **{
        ("fhir.unknown", m): ({"rest": "a/b/c"}, set(USERS))
        for m in ("GET", "POST", "PUT", "PATCH", "DELETE")
    },  # fmt: skip
    ("auth.forgot_password", "GET"): ({}, set(USERS)),
    ("auth.forgot_password", "POST"): ({}, set(USERS)),
    ("auth.reset_password", "GET"): ({"token": "RT"}, set(USERS)),
    ("auth.reset_password", "POST"): ({"token": "RT"}, set(USERS)),
    # Notifications: each person's own; the deliveries are the admins'; the development
    # mailbox exists in development only (404 here, for everyone).
    ("notifications.index", "GET"): ({}, SIGNED_IN),
    ("notifications.open_notification", "GET"): ({"notification_id": "N"}, {"referrer"}),
    ("notifications.read_all", "POST"): ({}, SIGNED_IN),
    ("notifications.edit_preferences", "GET"): ({}, SIGNED_IN),
    ("notifications.edit_preferences", "POST"): ({}, SIGNED_IN),
    ("deliveries.index", "GET"): ({}, {"admin"}),
    ("deliveries.act", "POST"): ({"outbox_id": "OB", "action": "dismiss"}, {"admin"}),
    ("deliveries.sent_mail", "GET"): ({}, set()),
    ("deliveries.sent_message", "GET"): ({"outbox_id": "OB"}, set()),
}
# What every caller of the FHIR API gets without a bearer token, signed in to the pages or not.
API_STATUS = {
    ("fhir.token", "POST"): 400,  # no client assertion
    **{
        key: 401
        for key in MATRIX
        if key[0].startswith("fhir.")
        and key[0]
        not in (
            "fhir.metadata",
            "fhir.smart_configuration",
            "fhir.code_system",
            "fhir.questionnaire",
        )
        and key != ("fhir.token", "POST")
    },  # fmt: skip
}


def test_every_route_is_in_the_matrix(app):
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == set(MATRIX), "add new routes to MATRIX with who may reach them"


def _make_objects(world) -> dict:
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 2)
    letter = stored_letter(referral, world.clinician)
    draft = draft_letter(referral, world.clinician)
    attachment = stored_attachment(referral, world.referrer)
    invitation, token = create_invitation(
        "invitee@example.test", "", world.practice.id, actor=world.coordinator
    )
    request = pending_account_request()
    alert = phq9_with_item9(referral, world.clinician)
    extra = scheduling_objects(referral, world)
    fhir_client = Ehr().register(world.practice.id)
    note = _db.session.scalar(
        select(Notification).where(Notification.user_id == world.referrer.id).limit(1)
    )
    failed = _db.session.scalar(select(OutboxMessage).limit(1))
    failed.status = "failed"
    reset_token = password_reset_link(world.referrer)
    _db.session.commit()
    return {
        **extra,
        "R": referral.id,
        "P": referral.patient_id,
        "L": letter.id,
        "LD": draft.id,
        "VC": letter.verify_code,
        "A": attachment.id,
        "I": invitation.id,
        "T": token,
        "Q": request.id,
        "S": referral.course.sessions[0].id,
        "AL": alert.id,
        "U": world.referrer.id,
        "PR": world.practice.id,
        "QT": "2026-Q4",
        "FC": _db.session.scalar(select(FhirClient.id).where(FhirClient.client_id == fhir_client)),
        "N": note.id,
        "OB": failed.id,
        "RT": reset_token,
    }


# The World and the objects above, made once per run through the services (about 200
# statements) and restored into the emptied database before every other test (tests.db_snapshot):
# each test still starts from exactly what they made, the same rows and the same ids.
_SHARED = SharedSetup(_make_objects)


@pytest.fixture
def shared_setup(db):
    return _SHARED()


@pytest.fixture
def world(shared_setup):
    """This module's (and test_every_route's) world: tests.conftest's, made once and restored."""
    return shared_setup[0]


@pytest.fixture
def objects(shared_setup):
    return shared_setup[1]


def _cases() -> list:
    """One test per (route, user) where the request may change what the next user would meet
    (an allowed POST, PUT, PATCH or DELETE); otherwise one test for a route's users together,
    on the same objects: reads change nothing, and refusals change nothing either."""
    cases = []
    for endpoint, method in sorted(MATRIX):
        allowed = MATRIX[endpoint, method][1]
        if method == "GET" or (endpoint, method) in API_STATUS:
            cases.append(pytest.param(endpoint, method, tuple(USERS), id=f"{endpoint}-{method}"))
            continue
        for user in USERS:
            if user in allowed:
                cases.append(
                    pytest.param(endpoint, method, (user,), id=f"{endpoint}-{method}-{user}")
                )
        refused = tuple(user for user in USERS if user not in allowed)
        if refused:
            cases.append(pytest.param(endpoint, method, refused, id=f"{endpoint}-{method}-refused"))
    return cases


@pytest.mark.parametrize(("endpoint", "method", "user_names"), _cases())
def test_route_by_role(app, world, objects, endpoint, method, user_names):
    for user_name in user_names:
        _check_route(app, world, objects, endpoint, method, user_name)


def _check_route(app, world, objects, endpoint, method, user_name):
    args, allowed = MATRIX[endpoint, method]
    client = app.test_client()
    if user_name != "anonymous":
        force_login(client, getattr(world, user_name))
    data = {"csrf_token": csrf_token(client, "/")}
    with app.test_request_context():
        from flask import url_for

        url = url_for(endpoint, **{k: objects.get(v, v) for k, v in args.items()})
    response = client.open(url, method=method, data=data if method == "POST" else None)
    response.close()
    status = (user_name, response.status_code)
    if (endpoint, method) in API_STATUS:
        assert status == (user_name, API_STATUS[endpoint, method])
        return
    if user_name in allowed:
        # Allowed users reach the route: a page, a redirect, or a form refused as incomplete.
        assert response.status_code in (200, 302, 422), status
        if user_name != "anonymous" and response.status_code == 302 and endpoint != "auth.logout":
            assert "/login" not in response.location, user_name
    elif user_name == "anonymous":
        assert status == (user_name, 302)
        assert "/login" in response.location
    else:
        assert status == (user_name, 404)


def test_denied_reads_are_audited(app, world, objects):
    client = app.test_client()
    force_login(client, world.other_referrer)
    for url in (
        f"/referrals/{objects['R']}",
        f"/referrals/patients/{objects['P']}",
        f"/letters/{objects['L']}/download",
        f"/attachments/{objects['A']}",
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert "Alexis" not in response.get_data(as_text=True)
    _db.session.expire_all()
    denied = _db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.outcome == "denied", AuditEvent.actor_id == world.other_referrer.id
        )
    ).all()
    assert {(e.object_type, e.object_id) for e in denied} == {
        ("referral", objects["R"]),
        ("patient", objects["P"]),
        ("letter", objects["L"]),
    }  # the attachment's refusal is audited against its referral, already in the set
    assert all(e.ip == "127.0.0.1" for e in denied)
