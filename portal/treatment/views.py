"""Clinicians' pages: the clinic's courses, documenting sessions, completing a course."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.extensions import db
from portal.referrals import queries as referral_queries
from portal.referrals.actions import apply_referral_form
from portal.referrals.service import StaleEdit
from portal.referrals.states import InvalidTransition
from portal.treatment import queries, service
from portal.treatment.forms import CompleteForm, SessionForm
from portal.treatment.models import TreatmentCourse

bp = Blueprint("treatment", __name__, url_prefix="/treatment")


@bp.before_request
def clinic_staff_only():
    if not current_user.is_authenticated or not current_user.is_clinic_staff:
        abort(404)


@bp.get("/")
def courses():
    active = queries.active_courses(current_user)
    return render_template("treatment/courses.html", courses=active)


def _course_for(referral_id: int) -> TreatmentCourse:
    referral = referral_queries.get_referral_or_404(referral_id, current_user, "document")
    if referral.course is None:
        abort(404)
    return referral.course


@bp.route("/referrals/<int:referral_id>/sessions/new", methods=["GET", "POST"])
def new_session(referral_id: int):
    course = _course_for(referral_id)
    referral = course.referral
    form = SessionForm(
        data={"version": referral.version, "modality": course.modality}
        if request.method == "GET"
        else None
    )
    if form.validate_on_submit():
        answers = form.phq9_answers()
        data = service.SessionRecord(
            session_date=form.session_date.data,
            modality=form.modality.data,
            dose_mg=form.dose_mg.data,
            bp_pre=(form.bp_pre_systolic.data, form.bp_pre_diastolic.data),
            bp_post=(form.bp_post_systolic.data, form.bp_post_diastolic.data),
            phq9_answers=answers if None not in answers else None,
            notes=form.notes.data or "",
        )
        try:
            service.record_session(
                course, data, actor=current_user, expected_version=form.expected_version()
            )
        except (StaleEdit, InvalidTransition, ValueError) as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect(url_for("referrals.detail", referral_id=referral.id))
        db.session.commit()
        flash(
            f"Session {len(course.sessions)} of {course.planned_sessions} is documented.", "success"
        )
        return redirect(url_for("referrals.detail", referral_id=referral.id))
    if form.errors:
        flash("The session was not saved: please correct the fields marked below.", "error")
    return render_template(
        "treatment/session_form.html", form=form, course=course, referral=referral
    ), 422 if form.errors else 200


@bp.post("/referrals/<int:referral_id>/complete")
def complete(referral_id: int):
    course = _course_for(referral_id)
    return apply_referral_form(
        course.referral,
        CompleteForm(),
        lambda version: service.complete_course(
            course, actor=current_user, expected_version=version, ended_on=date.today()
        ),
        "The course of referral {number} is completed. Write the treatment summary letter next.",
    )
