"""Clinicians' pages: the clinic's courses, a course's record, documenting and signing sessions,
completing or ending a course. REMS and scale pages are in rems_views and scale_views."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.auth.reauth import needs_reauth, reauth_then_resend
from portal.authorizations import service as authorizations
from portal.clock import clinic_today
from portal.errors import DomainError
from portal.extensions import db
from portal.referrals.actions import apply_referral_form, refusal_message
from portal.scheduling.permissions import get_appointment_or_404
from portal.scheduling.queries import appointment_of
from portal.scheduling.service import referral_appointments
from portal.treatment import alerts, bp, outcomes, queries, service, signing
from portal.treatment.forms import (
    AddendumForm,
    CompleteForm,
    EndEarlyForm,
    RemsEnrolmentForm,
    SessionForm,
    SignForm,
)
from portal.treatment.permissions import (
    can,
    documents_treatment,
    get_course_or_404,
    get_session_or_404,
)
from portal.treatment.safety import bp_prompt
from portal.treatment.session_values import session_form_data


@bp.get("/")
def courses():
    active = queries.active_courses(current_user)
    mine = alerts.alerts_for_clinician(current_user) if documents_treatment(current_user) else []
    db.session.commit()  # the lists' audit rows
    return render_template("treatment/courses.html", courses=active, alerts=mine)


@bp.get("/referrals/<int:referral_id>/course")
def course(referral_id: int):
    course = get_course_or_404(referral_id, current_user, "view")
    referral = course.referral
    queries.load_session_details(course)
    db.session.commit()  # the read's audit row
    return render_template(
        "treatment/course.html",
        course=course,
        referral=referral,
        outcome=outcomes.course_outcome(referral),
        open_alerts=alerts.open_alerts(referral),
        can_document=can(current_user, course, "document"),
        enrolment_form=RemsEnrolmentForm(),
        authorization_warnings=authorizations.referral_warnings(referral, clinic_today()),
        patient_phone=(referral.intake or {}).get("patient", {}).get("phone", ""),
        upcoming=[a for a in referral_appointments(referral) if a.is_booked][:3],
        today=clinic_today(),
    )


def _appointment_asked(referral_id: int):
    """The booked visit a session starts from (?appointment=), or None; another referral's or
    one no longer booked answers 404."""
    raw = request.args.get("appointment", "")
    if not raw:
        return None
    appointment = get_appointment_or_404(int(raw) if raw.isdigit() else 0, current_user, "act")
    if appointment.referral_id != referral_id or not appointment.is_booked:
        abort(404)
    return appointment


@bp.route("/referrals/<int:referral_id>/sessions/new", methods=["GET", "POST"])
def new_session(referral_id: int):
    course = get_course_or_404(referral_id, current_user)
    referral = course.referral
    appointment = _appointment_asked(referral.id)
    start = {"version": referral.version}
    if appointment is not None:  # the visit's date; its escort and instructions: the same facts
        start |= {
            "session_date": appointment.day,
            "escort_confirmed": appointment.escort_confirmed,
            "instructions_given": appointment.instructions_given,
        }
    form = SessionForm(
        data=start if request.method == "GET" else None,
        modality=course.modality,
    )
    if form.validate_on_submit():
        try:
            session = service.record_session(
                course,
                form.to_record(),
                actor=current_user,
                expected_version=form.expected_version(),
                appointment=appointment,
            )
        except DomainError as error:
            flash(refusal_message(error), "error")
            db.session.commit()  # the read and the refusal's audit rows
            return redirect(url_for("treatment.course", referral_id=referral.id))
        db.session.commit()
        flash(
            f"Session {len(course.sessions)} of {course.planned_sessions} is saved. "
            "Check it and sign it below.",
            "success",
        )
        return redirect(url_for("treatment.session", session_id=session.id))
    if form.errors:
        flash("The session was not saved: please correct the fields marked below.", "error")
    db.session.commit()  # the read's audit row
    return render_template(
        "treatment/session_form.html",
        form=form,
        course=course,
        referral=referral,
        appointment=appointment,
        number=len(course.sessions) + 1,
        bp_warning=bp_prompt(form.bp_pre_systolic.data, form.bp_pre_diastolic.data),
    ), 422 if form.errors else 200


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
def edit_session(session_id: int):
    session = get_session_or_404(session_id, current_user, "document")
    referral = session.course.referral
    if session.is_signed:
        flash("A signed session cannot be edited; add an addendum instead.", "error")
        db.session.commit()  # the read's audit row
        return redirect(url_for("treatment.session", session_id=session.id))
    visit = appointment_of(session.id)
    form = SessionForm(
        data={"version": referral.version, **session_form_data(session, visit)}
        if request.method == "GET"
        else None,
        modality=session.modality,
        editing=True,
        cadss6_recorded=service.cadss6_of(session),
    )
    if form.validate_on_submit():
        try:
            service.update_session(
                session,
                form.to_record(),
                actor=current_user,
                expected_version=form.expected_version(),
            )
        except DomainError as error:
            flash(refusal_message(error), "error")
            db.session.commit()  # the read and the refusal's audit rows
        else:
            db.session.commit()
            flash("The session is updated. Check it and sign it below.", "success")
        return redirect(url_for("treatment.session", session_id=session.id))
    if form.errors:
        flash("The session was not saved: please correct the fields marked below.", "error")
    db.session.commit()  # the read's audit rows
    return render_template(
        "treatment/session_form.html",
        form=form,
        course=session.course,
        referral=referral,
        session=session,
        appointment=visit,
        bp_warning=bp_prompt(form.bp_pre_systolic.data, form.bp_pre_diastolic.data),
    ), 422 if form.errors else 200


@bp.get("/sessions/<int:session_id>")
def session(session_id: int):
    session = get_session_or_404(session_id, current_user)
    referral = session.course.referral
    db.session.commit()  # the read's audit rows
    return render_template(
        "treatment/session.html",
        session=session,
        referral=referral,
        number=session.course.sessions.index(session) + 1,
        visit=appointment_of(session.id),
        prompts=signing.session_prompts(session),
        sign_form=SignForm(data={"version": referral.version}),
        addendum_form=AddendumForm(),
        enrolment_form=RemsEnrolmentForm(),
        can_document=can(current_user, session, "document"),
    )


@bp.post("/sessions/<int:session_id>/sign")
def sign(session_id: int):
    session = get_session_or_404(session_id, current_user, "document")
    if needs_reauth():  # signing needs a recent password (and code): confirm, then it signs
        db.session.commit()  # the read's audit rows
        return reauth_then_resend(
            url_for("treatment.session", session_id=session.id), "Sign the session"
        )
    form = SignForm()
    if form.validate_on_submit():
        try:
            signing.sign_session(
                session,
                actor=current_user,
                expected_version=form.expected_version(),
                bp_reason=form.bp_reason.data or "",
            )
        except DomainError as error:
            flash(refusal_message(error), "error")
        else:
            flash("The session is signed. It can now be amended only by an addendum.", "success")
    db.session.commit()  # the signature, or the read and the refusal, with their audit rows
    return redirect(url_for("treatment.session", session_id=session.id))


@bp.post("/sessions/<int:session_id>/addenda")
def addendum(session_id: int):
    session = get_session_or_404(session_id, current_user, "document")
    form = AddendumForm()
    if not form.validate_on_submit():
        flash("The addendum is empty: write it before saving.", "error")
    else:
        try:
            signing.add_addendum(session, form.text.data, actor=current_user)
        except DomainError as error:
            flash(refusal_message(error), "error")
        else:
            flash("The addendum is added; the signed session is unchanged.", "success")
    db.session.commit()  # the addendum, or the read and the refusal, with their audit rows
    return redirect(url_for("treatment.session", session_id=session.id))


@bp.post("/referrals/<int:referral_id>/complete")
def complete(referral_id: int):
    course = get_course_or_404(referral_id, current_user)
    return apply_referral_form(
        course.referral,
        CompleteForm(),
        lambda version: service.complete_course(
            course, actor=current_user, expected_version=version, ended_on=clinic_today()
        ),
        "The course of referral {number} is completed. Write the treatment summary letter next.",
    )


@bp.post("/referrals/<int:referral_id>/end-early")
def end_early(referral_id: int):
    course = get_course_or_404(referral_id, current_user)
    form = EndEarlyForm()
    return apply_referral_form(
        course.referral,
        form,
        lambda version: service.end_course_early(
            course,
            actor=current_user,
            expected_version=version,
            reason=form.reason.data or "",
            ended_on=clinic_today(),
        ),
        "The course of referral {number} was ended early; the referral is cancelled.",
    )
