"""Who may see and document a referral's treatment.

`can` is pure, over objects already loaded. The loaders answer 404 for what the user may not
reach, and audit the read or the refusal: through the referral's own loader (referral.act or
referral.document), and for a session also as session.view or session.document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import abort

from portal.audit.service import record, record_denied
from portal.extensions import db
from portal.referrals.models import Referral
from portal.referrals.permissions import can_act_as_clinic, can_document
from portal.referrals.queries import get_referral_or_404
from portal.referrals.states import IN_CARE, State, allowed_targets
from portal.roles import Role
from portal.treatment.models import SafetyAlert, TreatmentCourse, TreatmentSession

if TYPE_CHECKING:
    from portal.auth.models import User

# The referral's loader action behind each treatment action: the clinic's staff act on the
# referral, its clinicians document on it.
REFERRAL_ACTION = {"view": "act", "document": "document"}


def documents_treatment(user: User) -> bool:
    """Clinicians document and sign sessions and review safety alerts; coordinators and
    administrators see the record."""
    return user.role == Role.CLINICIAN


def can(
    user: User,
    obj: Referral | TreatmentCourse | TreatmentSession | SafetyAlert,
    action: str = "view",
) -> bool:
    """May `user` do `action` to `obj`?

    On a course, a session or a safety alert: 'view' is for the clinic's staff (referrers
    never see session documentation); 'document' (document, correct, sign and amend sessions,
    record scales, review alerts) for the clinic's clinicians.
    On the referral itself: 'document' a new session (its course accepted and not finished),
    or 'complete' the course (in treatment, with a session documented)."""
    if isinstance(obj, Referral):
        return _can_on_referral(user, obj, action)
    referral = obj.course.referral if isinstance(obj, TreatmentSession) else obj.referral
    if action == "view":
        return can_act_as_clinic(user, referral)
    if action == "document":
        return can_document(user, referral)
    return False


def _can_on_referral(user: User, referral: Referral, action: str) -> bool:
    course = referral.course
    if action == "document":
        return can_document(user, referral) and course is not None and referral.state in IN_CARE
    if action == "complete":
        return (
            can_document(user, referral)
            and State.COMPLETED in allowed_targets(referral.state, user.role)
            and bool(course and course.sessions)
        )
    return False


def get_course_or_404(referral_id: int, user: User, action: str = "document") -> TreatmentCourse:
    """The referral's treatment course, if `user` may `action` it ('view' or 'document')."""
    referral = get_referral_or_404(referral_id, user, REFERRAL_ACTION[action])
    if referral.course is None or not can(user, referral.course, action):
        abort(404)
    return referral.course


def get_session_or_404(session_id: int, user: User, action: str = "view") -> TreatmentSession:
    """A treatment session (and its REMS form), if `user` may `action` it ('view' or
    'document'), loaded through its referral's permission check."""
    session = db.session.get(TreatmentSession, session_id)
    if session is None:
        record_denied(f"session.{action}", "treatment_session", session_id, actor=user)
        abort(404)
    get_referral_or_404(session.course.referral_id, user, REFERRAL_ACTION[action])
    if not can(user, session, action):  # referrers never see session documentation
        record_denied(f"session.{action}", "treatment_session", session_id, actor=user)
        abort(404)
    record(f"session.{action}", "treatment_session", session.id, actor=user, read=True)
    return session


def get_safety_alert_or_404(alert_id: int, user: User, action: str = "document") -> SafetyAlert:
    """A safety alert, if `user` may `action` it: reviewing one is documenting treatment."""
    alert = db.session.get(SafetyAlert, alert_id)
    if alert is None:
        abort(404)
    get_referral_or_404(alert.referral_id, user, REFERRAL_ACTION[action])
    if not can(user, alert, action):
        abort(404)
    return alert
