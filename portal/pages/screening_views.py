"""The screening page: the referral page's parts (intake, flags, what next, timeline) with
triage's checklist, internal notes and assignment. A page composition above the features, so
triage never imports the pages layer; its routes stay on the triage blueprint (/triage/)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from portal.clock import clinic_today
from portal.extensions import db
from portal.pages.referral import latest_answer, referral_page_context
from portal.referrals import queries
from portal.roles import Role
from portal.triage import acknowledgements, bp, screening
from portal.triage.forms import (
    SCREENING_CHECKLIST,
    AssignForm,
    ChecklistForm,
    NoteForm,
)


def _screening_page(referral, note_form=None, status=200):
    review = screening.screening_review(referral)
    checklist = ChecklistForm(
        data={
            "version": review.version if review else 0,
            "checked": review.checked if review else [],
        },
        formdata=None,
    )
    assign = AssignForm(
        formdata=None,
        data={"version": referral.version, "coordinator_id": referral.assigned_coordinator_id},
    )
    coordinators = screening.clinic_coordinators(referral.clinic_id)
    assign.coordinator_id.choices = screening.coordinator_choices(referral, coordinators)
    flags = referral.screening_flags or []
    context = referral_page_context(referral, current_user)
    return render_template(
        "triage/screening.html",
        **context,
        flags=flags,
        bp_flag=next((f for f in flags if f.get("code") == "bp_high"), None),
        review=review,
        checklist=checklist,
        checklist_items=SCREENING_CHECKLIST,
        notes=screening.internal_notes(referral),
        note_form=note_form or NoteForm(formdata=None),
        assign_form=assign,
        acknowledgements=acknowledgements.needed(
            referral, referral.requested_modality, clinic_today()
        ),
        is_clinician=current_user.role == Role.CLINICIAN,
        latest_answer=latest_answer(referral),
        screening_page=True,
    ), status


@bp.get("/<int:referral_id>/screening", endpoint="screening")
def screening_page(referral_id: int):
    referral = queries.get_referral_or_404(referral_id, current_user)
    page = _screening_page(referral)
    db.session.commit()
    return page


@bp.post("/<int:referral_id>/notes")
def add_note(referral_id: int):
    """An internal note; a refused one shows the screening page again with the note kept."""
    referral = queries.get_referral_or_404(referral_id, current_user, "act")
    form = NoteForm()
    if not form.validate_on_submit():
        db.session.rollback()
        page = _screening_page(referral, note_form=form, status=422)
        db.session.commit()  # the read's audit rows
        return page
    screening.add_internal_note(referral, form.body.data, actor=current_user)
    db.session.commit()
    flash("Note added; only clinic staff see it.", "success")
    return redirect(url_for("triage.screening", referral_id=referral.id) + "#notes-h")
