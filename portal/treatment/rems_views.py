"""REMS pages: forms not yet submitted, the monitoring form PDF, the submission date, and the
patient's REMS enrolment."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.clock import clinic_today
from portal.errors import DomainError
from portal.extensions import db
from portal.referrals.queries import get_referral_or_404
from portal.treatment import bp, rems, signing
from portal.treatment.forms import RemsEnrolmentForm, RemsSubmittedForm
from portal.treatment.permissions import get_session_or_404


@bp.get("/rems")
def rems_list():
    forms = rems.pending_forms(current_user, clinic_today())
    db.session.commit()  # the list's audit row
    return render_template("treatment/rems_list.html", forms=forms, form=RemsSubmittedForm())


@bp.get("/sessions/<int:session_id>/rems-form.pdf")
def rems_pdf(session_id: int):
    session = get_session_or_404(session_id, current_user)
    try:
        pdf = rems.render_form(session, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        db.session.commit()  # the read and the refusal's audit rows
        return redirect(url_for("treatment.session", session_id=session.id))
    db.session.commit()
    return Response(
        pdf.data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="rems-form-session-{session.id}.pdf"'},
    )


@bp.post("/sessions/<int:session_id>/rems-submitted")
def rems_submitted(session_id: int):
    session = get_session_or_404(session_id, current_user)
    form = RemsSubmittedForm()
    if not form.validate_on_submit():
        flash("Enter the submission date as YYYY-MM-DD.", "error")
    else:
        try:
            rems.record_submission(session, form.submitted_on.data, actor=current_user)
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(
                f"The REMS form of the {session.session_date.isoformat()} session is recorded "
                f"as submitted on {form.submitted_on.data.isoformat()}.",
                "success",
            )
    db.session.commit()  # the submission, or the read and the refusal, with their audit rows
    return redirect(url_for("treatment.rems_list"))


@bp.post("/referrals/<int:referral_id>/rems-enrolment")
def rems_enrolment(referral_id: int):
    referral = get_referral_or_404(referral_id, current_user, "act")
    form = RemsEnrolmentForm()
    if not form.validate_on_submit():
        flash("Enter the REMS enrolment date as YYYY-MM-DD.", "error")
    else:
        try:
            signing.record_rems_enrolment(
                referral.patient, form.enrolled_on.data, actor=current_user
            )
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash("The patient's SPRAVATO REMS enrolment is recorded.", "success")
    db.session.commit()  # the enrolment, or the read and the refusal, with their audit rows
    return redirect(url_for("treatment.course", referral_id=referral.id))
