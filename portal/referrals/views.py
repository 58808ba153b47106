"""The referring provider's pages, and the referral page both sides share."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from portal.extensions import db
from portal.referrals import bp, queries
from portal.referrals.actions import apply_state_form
from portal.referrals.forms import CancelForm
from portal.referrals.states import State


def _move(referral_id: int, target: State, form, success: str):
    referral = queries.get_referral_or_404(referral_id, current_user, "act")
    return apply_state_form(referral, target, form, success)


@bp.post("/<int:referral_id>/cancel")
def cancel(referral_id: int):
    return _move(
        referral_id,
        State.CANCELLED,
        CancelForm(),
        "Referral {number} is cancelled; the other side sees why.",
    )


@bp.get("/patients/<int:patient_id>")
def patient(patient_id: int):
    patient, referrals = queries.get_patient_or_404(patient_id, current_user)
    db.session.commit()  # the read's audit row
    return render_template("referrals/patient.html", patient=patient, referrals=referrals)
