"""Screening actions that need no page of their own: saving the checklist. (The screening page
itself gathers the referral page's parts, so it lives above the features, in
portal/pages/screening_views.py, on this blueprint.)"""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user

from portal.errors import DomainError
from portal.extensions import db
from portal.referrals import queries
from portal.referrals.actions import refusal_message
from portal.triage import bp, screening
from portal.triage.forms import ChecklistForm


@bp.post("/<int:referral_id>/checklist")
def checklist(referral_id: int):
    referral = queries.get_referral_or_404(referral_id, current_user, "act")
    form = ChecklistForm()
    back = redirect(url_for("triage.screening", referral_id=referral.id) + "#checklist-h")
    if not form.validate_on_submit():
        flash("The checklist was not saved: reload the page and try again.", "error")
        db.session.commit()  # the read's audit row
        return back
    try:
        screening.save_checklist(
            referral,
            form.checked.data or [],
            actor=current_user,
            expected_version=form.expected_version(),
        )
    except DomainError as refusal:
        flash(refusal_message(refusal), "error")
        db.session.commit()  # the read and the refusal's audit rows
        return back
    db.session.commit()
    flash("Checklist saved.", "success")
    return back
