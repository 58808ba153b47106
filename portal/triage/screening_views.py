"""The screening page: the whole intake, the flags, the checklist and internal notes."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from portal.extensions import db
from portal.forms import choices
from portal.pages.referral import referral_page_context
from portal.referrals import queries
from portal.referrals.actions import refusal_message
from portal.referrals.service import StaleEdit
from portal.triage import bp, screening
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
    assign.coordinator_id.choices = choices([(c.id, c.display_name) for c in coordinators])
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
        screening_page=True,
    ), status


@bp.get("/<int:referral_id>/screening", endpoint="screening")
def screening_page(referral_id: int):
    referral = queries.get_referral_or_404(referral_id, current_user)
    page = _screening_page(referral)
    db.session.commit()
    return page


@bp.post("/<int:referral_id>/checklist")
def checklist(referral_id: int):
    referral = queries.get_referral_or_404(referral_id, current_user, "act")
    form = ChecklistForm()
    back = redirect(url_for("triage.screening", referral_id=referral.id) + "#checklist-h")
    if not form.validate_on_submit():
        flash("The checklist was not saved: reload the page and try again.", "error")
        return back
    try:
        screening.save_checklist(
            referral,
            form.checked.data or [],
            actor=current_user,
            expected_version=form.expected_version(),
        )
    except (screening.StaleChecklist, StaleEdit, ValueError) as error:
        flash(refusal_message(error), "error")
        return back
    db.session.commit()
    flash("Checklist saved.", "success")
    return back


@bp.post("/<int:referral_id>/notes")
def add_note(referral_id: int):
    referral = queries.get_referral_or_404(referral_id, current_user, "act")
    form = NoteForm()
    if not form.validate_on_submit():
        db.session.rollback()
        return _screening_page(referral, note_form=form, status=422)
    screening.add_internal_note(referral, form.body.data, actor=current_user)
    db.session.commit()
    flash("Note added; only clinic staff see it.", "success")
    return redirect(url_for("triage.screening", referral_id=referral.id) + "#notes-h")
