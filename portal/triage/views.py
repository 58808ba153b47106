"""The coordinators' queue and their decisions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.extensions import db
from portal.forms import choices
from portal.referrals import queries
from portal.referrals.actions import apply_referral_form, apply_state_form
from portal.referrals.service import StaleEdit
from portal.referrals.states import InvalidTransition, State
from portal.triage import service
from portal.triage.forms import AcceptForm, DecisionForm, OpenForm

bp = Blueprint("triage", __name__, url_prefix="/triage")

DECISIONS = {
    "needs_info": (State.NEEDS_INFO, "Your question was sent to the referrer."),
    "declined": (State.DECLINED, "Referral {number} is declined; the referrer sees the reason."),
}


@bp.before_request
def clinic_staff_only():
    if not current_user.is_authenticated or not current_user.is_clinic_staff:
        abort(404)


@bp.get("/")
def queue():
    state = request.args.get("state", "open")
    if state in {s.value for s in queries.QUEUE_STATES}:
        states = [state]
    elif state == "all":
        states = None
    else:
        state, states = "open", queries.OPEN_STATES
    referrals = queries.clinic_queue(current_user, states)
    return render_template(
        "triage/queue.html", referrals=referrals, state=state, states=queries.QUEUE_STATES
    )


def _back(referral):
    return redirect(url_for("referrals.detail", referral_id=referral.id))


@bp.post("/<int:referral_id>/open")
def open_referral(referral_id: int):
    referral = queries.get_referral_or_404(referral_id, current_user, "act")
    return apply_referral_form(
        referral,
        OpenForm(),
        lambda version: service.open_for_review(
            referral, actor=current_user, expected_version=version
        ),
        "Referral {number} is in review and assigned to you.",
    )


@bp.route("/<int:referral_id>/accept", methods=["GET", "POST"])
def accept(referral_id: int):
    referral = queries.get_referral_or_404(referral_id, current_user, "act")
    form = AcceptForm(data={"version": referral.version} if request.method == "GET" else None)
    clinicians = service.clinic_clinicians(referral.clinic_id)
    form.clinician_id.choices = choices(
        [(0, "Choose a clinician")] + [(c.id, c.display_name) for c in clinicians]
    )
    if request.method == "GET" and referral.requested_modality != "clinic_choice":
        form.modality.data = referral.requested_modality
    if form.validate_on_submit():
        clinician = next((c for c in clinicians if c.id == form.clinician_id.data), None)
        try:
            service.accept_referral(
                referral,
                actor=current_user,
                expected_version=form.expected_version(),
                modality=form.modality.data,
                clinician=clinician,
                planned_sessions=form.planned_sessions.data,
                note=form.reason.data or "",
            )
        except (StaleEdit, InvalidTransition) as error:
            db.session.rollback()
            flash(str(error), "error")
            return _back(referral)
        db.session.commit()
        flash(f"Referral {referral.number} is accepted.", "success")
        return _back(referral)
    return render_template("triage/accept.html", referral=referral, form=form), (
        422 if form.errors else 200
    )


@bp.post("/<int:referral_id>/decide/<decision>")
def decide(referral_id: int, decision: str):
    referral = queries.get_referral_or_404(referral_id, current_user, "act")
    if decision not in DECISIONS:
        abort(404)
    target, success = DECISIONS[decision]
    return apply_state_form(referral, target, DecisionForm(), success)
