"""Drafting, previewing, signing, correcting and downloading letters."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.audit.service import record
from portal.auth.reauth import needs_reauth, reauth_redirect
from portal.db import utcnow
from portal.errors import DomainError
from portal.extensions import db
from portal.guards import require_roles
from portal.letters import bp, queries
from portal.letters.errors import SignerNotConfirmed
from portal.letters.forms import DraftForm, SignForm
from portal.letters.permissions import get_letter_or_404
from portal.letters.service import (
    mark_downloaded,
    pdf_for_download,
    preview,
    save_draft,
    sign_letter,
    start_correction,
    start_draft,
)
from portal.referrals import queries as referral_queries
from portal.roles import CLINIC_ROLES


def _pdf(data: bytes, filename: str, *, inline: bool = False) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(
        data,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@bp.post("/referrals/<int:referral_id>/new")
def new(referral_id: int):
    referral = referral_queries.get_referral_or_404(referral_id, current_user, "document")
    try:
        letter = start_draft(referral, request.form.get("kind", ""), actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        db.session.commit()  # the read and the refusal's audit rows
        return redirect(url_for("referrals.detail", referral_id=referral.id) + "#letters-h")
    db.session.commit()
    return redirect(url_for("letters.edit", letter_id=letter.id))


@bp.route("/<int:letter_id>/edit", methods=["GET", "POST"])
def edit(letter_id: int):
    letter = get_letter_or_404(letter_id, current_user, "update")
    if not letter.is_draft:
        flash("This letter is signed: make a correction to change it.", "info")
        db.session.commit()  # the read's audit row
        return redirect(url_for("referrals.detail", referral_id=letter.referral_id) + "#letters-h")
    form = DraftForm(obj=letter if request.method == "GET" else None)
    form.label_for(letter.kind)
    if form.validate_on_submit():
        save_draft(
            letter,
            actor=current_user,
            narrative=form.narrative.data or "",
            recommendations=form.recommendations.data or "",
            include_all_sessions=bool(form.include_all_sessions.data),
        )
        db.session.commit()
        if request.form.get("action") == "preview":
            return redirect(url_for("letters.preview_pdf", letter_id=letter.id))
        flash("Draft saved.", "success")
        return redirect(url_for("letters.edit", letter_id=letter.id))
    db.session.commit()  # the read's audit row
    return render_template(
        "letters/edit.html",
        letter=letter,
        referral=letter.referral,
        form=form,
        sign_form=SignForm(formdata=None),
        earlier=queries.versions_of(letter),
    ), (422 if form.errors else 200)


@bp.get("/<int:letter_id>/preview")
def preview_pdf(letter_id: int):
    letter = get_letter_or_404(letter_id, current_user, "preview")
    if not letter.is_draft:
        abort(404)
    rendered = preview(letter, actor=current_user)
    db.session.commit()
    return _pdf(rendered.data, letter.filename, inline=True)


@bp.post("/<int:letter_id>/sign")
def sign(letter_id: int):
    letter = get_letter_or_404(letter_id, current_user, "sign")
    form = SignForm()
    text = DraftForm()
    if letter.is_draft and "narrative" in request.form and text.validate():
        # The text typed with the password is kept, whether or not the signature succeeds.
        save_draft(
            letter,
            actor=current_user,
            narrative=text.narrative.data or "",
            recommendations=text.recommendations.data or "",
            include_all_sessions=bool(text.include_all_sessions.data),
        )
        db.session.commit()
    if needs_reauth():  # the password typed here, plus the code, checked within minutes
        return reauth_redirect(url_for("letters.edit", letter_id=letter.id))
    if not form.validate_on_submit():
        flash("Enter your password to sign.", "error")
        return redirect(url_for("letters.edit", letter_id=letter.id))
    try:
        sign_letter(letter, actor=current_user, password=form.password.data)
    except SignerNotConfirmed as error:
        db.session.commit()  # nothing changed but the failure count, kept toward the lockout
        flash(str(error), "error")
        return redirect(url_for("letters.edit", letter_id=letter.id))
    except DomainError as error:
        db.session.rollback()
        db.session.commit()  # the refused attempt is audited
        flash(str(error), "error")
        return redirect(url_for("letters.edit", letter_id=letter.id))
    db.session.commit()
    ready = (
        "Its PDF is being prepared; the referring provider is told as soon as it is ready."
        if letter.being_prepared
        else "It is visible to the referring provider."
    )
    flash(
        f"{letter.kind_label} version {letter.version} is signed. {ready} "
        f"Verification code {letter.verify_code}.",
        "success",
    )
    return redirect(url_for("referrals.detail", referral_id=letter.referral_id) + "#letters-h")


@bp.post("/<int:letter_id>/correct")
def correct(letter_id: int):
    letter = get_letter_or_404(letter_id, current_user, "correct")
    try:
        draft = start_correction(letter, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        db.session.commit()  # the refusal's audit row, if any
        return redirect(url_for("referrals.detail", referral_id=letter.referral_id) + "#letters-h")
    db.session.commit()
    flash(
        f"Correction started: version {draft.version}. Version {letter.version} stays valid "
        "until you sign this one.",
        "info",
    )
    return redirect(url_for("letters.edit", letter_id=draft.id))


@bp.get("/<int:letter_id>/download")
def download(letter_id: int):
    letter = get_letter_or_404(letter_id, current_user)
    if letter.is_draft:
        return redirect(url_for("letters.preview_pdf", letter_id=letter.id))
    if letter.being_prepared:
        record("letter.view", "letter", letter.id, actor=current_user, read=True, detail="pending")
        db.session.commit()
        return render_template("letters/preparing.html", letter=letter), 202
    mark_downloaded(letter, actor=current_user)
    data = pdf_for_download(letter)
    db.session.commit()
    return _pdf(data, letter.filename)


@bp.get("/unopened")
@require_roles(*CLINIC_ROLES)
def unopened():
    days = request.args.get("days", type=int) or current_user.clinic.unopened_days
    days = max(1, min(days, 365))
    letters = queries.unopened_letters(current_user, days)
    db.session.commit()  # the list's audit row
    return render_template("letters/unopened.html", letters=letters, days=days, now=utcnow())
