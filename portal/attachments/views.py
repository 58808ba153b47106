"""Uploading files to a referral from its page, and downloading them."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.attachments import bp, storage
from portal.attachments.permissions import get_attachment_or_404
from portal.attachments.service import (
    Unreadable,
    add_uploads,
    read_attachment,
    remove_from_draft,
)
from portal.errors import DomainError
from portal.extensions import db
from portal.referrals.actions import refusal_message
from portal.referrals.queries import get_referral_or_404


@bp.post("/referrals/<int:referral_id>/attachments")
def upload(referral_id: int):
    referral = get_referral_or_404(referral_id, current_user, "act")
    if not FlaskForm().validate_on_submit():
        abort(400)
    added, refusals = add_uploads(
        referral, request.files.getlist("attachments"), actor=current_user
    )
    db.session.commit()
    for refusal in refusals:  # without the file's name: flashes travel in the cookie
        flash(f"A file was not attached. {refusal.split(': ', 1)[-1]}", "error")
    if added:
        flash(f"{len(added)} file{'s' if len(added) != 1 else ''} attached.", "success")
    elif not refusals:
        flash("Choose a file to attach.", "error")
    return redirect(url_for("referrals.detail", referral_id=referral.id, _anchor="attachments"))


@bp.post("/referrals/<int:referral_id>/attachments/<int:attachment_id>/remove")
def remove(referral_id: int, attachment_id: int):
    """From the draft's form: keep what was typed (the whole form is posted), then remove."""
    attachment = get_attachment_or_404(
        attachment_id, current_user, "remove", referral_id=referral_id
    )
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        stored_as = remove_from_draft(attachment, request.form, actor=current_user)
    except DomainError as refusal:
        flash(refusal_message(refusal), "error")
        db.session.commit()  # the read and the refusal's audit rows
    else:
        db.session.commit()
        storage.delete(stored_as)
        flash("The file was removed from the draft; everything else was saved.", "success")
    return redirect(url_for("referrals.edit", referral_id=referral_id, _anchor="attachments"))


# Opened in the browser (PDF viewer, image): nothing in the file may run or fetch anything.
VIEW_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"


@bp.get("/attachments/<int:attachment_id>")
def download(attachment_id: int):
    return _file(attachment_id, inline=False)


@bp.get("/attachments/<int:attachment_id>/view")
def view(attachment_id: int):
    """The file opened in the browser instead of saved (PDFs and images only, as stored)."""
    return _file(attachment_id, inline=True)


def _file(attachment_id: int, *, inline: bool) -> Response:
    attachment = get_attachment_or_404(attachment_id, current_user)
    try:
        data = read_attachment(attachment, actor=current_user)
    except Unreadable:
        abort(404)
    db.session.commit()
    response = Response(data, mimetype=attachment.content_type)
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = (
        f'{disposition}; filename="{attachment.filename}"'  # secure_filename()'d at upload
    )
    if inline:
        response.headers["Content-Security-Policy"] = VIEW_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
