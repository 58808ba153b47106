"""Rating scales recorded on their own date (or with a session), and safety alert reviews."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.errors import DomainError
from portal.extensions import db
from portal.forms import choices
from portal.referrals.actions import refusal_message
from portal.scales.scoring import SCALES
from portal.treatment import alerts, bp, service
from portal.treatment.permissions import get_course_or_404, get_safety_alert_or_404
from portal.treatment.scale_forms import ReviewAlertForm, scale_form


@bp.route("/referrals/<int:referral_id>/scales/<scale>", methods=["GET", "POST"])
def new_scale(referral_id: int, scale: str):
    if scale not in SCALES:
        abort(404)
    course = get_course_or_404(referral_id, current_user)
    referral = course.referral
    form = scale_form(scale)(
        data={"version": referral.version} if request.method == "GET" else None
    )
    sessions = {s.id: s for s in course.sessions if not s.is_signed}
    form.session_id.choices = choices(
        [(0, "None: taken on its own date")]
        + [
            (s.id, f"Session {n} on {s.session_date.isoformat()}")
            for n, s in enumerate(course.sessions, 1)
            if not s.is_signed
        ]
    )
    form.session_id.signed_ids = frozenset(s.id for s in course.sessions if s.is_signed)
    if form.validate_on_submit():
        try:
            assessment = service.record_scale(
                referral,
                scale,
                form.answers(),
                taken_on=form.taken_on.data,
                actor=current_user,
                expected_version=form.expected_version(),
                session=sessions.get(form.session_id.data),
            )
        except DomainError as error:
            flash(refusal_message(error), "error")
        else:
            db.session.commit()
            flash(f"{scale} recorded: {assessment.total}, {assessment.band}.", "success")
            return redirect(url_for("treatment.course", referral_id=referral.id))
    if form.errors:
        flash(f"The {scale} was not saved: please correct the fields marked below.", "error")
    db.session.commit()  # the read (and any refusal) audit rows
    return render_template(
        "treatment/scale_form.html", form=form, scale=SCALES[scale], referral=referral
    ), 422 if form.errors else 200


@bp.post("/alerts/<int:alert_id>/review")
def review_alert(alert_id: int):
    alert = get_safety_alert_or_404(alert_id, current_user)
    referral = alert.referral
    form = ReviewAlertForm()
    if not form.validate_on_submit():
        flash("Write what was done before recording the review.", "error")
    else:
        try:
            alerts.review_alert(alert, form.note.data, actor=current_user)
        except DomainError as error:
            flash(refusal_message(error), "error")
        else:
            flash("The safety alert is recorded as reviewed.", "success")
    db.session.commit()  # the review, or the read and the refusal, with their audit rows
    if referral.course is None:
        return redirect(url_for("referrals.detail", referral_id=referral.id))
    return redirect(url_for("treatment.course", referral_id=referral.id))
