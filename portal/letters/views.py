"""Writing and downloading letters."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload, undefer

from portal.audit.service import record
from portal.auth.reauth import reauth_required
from portal.extensions import db
from portal.letters.forms import LetterForm
from portal.letters.models import Letter
from portal.letters.service import LetterNotAllowed, issue_summary, mark_downloaded
from portal.letters.storage import open_pdf
from portal.referrals import queries
from portal.referrals.models import Referral
from portal.referrals.permissions import can_view_referral
from portal.referrals.service import StaleEdit

bp = Blueprint("letters", __name__, url_prefix="/letters")


@bp.route("/referrals/<int:referral_id>/summary", methods=["GET", "POST"])
@reauth_required  # signing is a legal act: a fresh password (and code) check first
def new_summary(referral_id: int):
    referral = queries.get_referral_or_404(referral_id, current_user, "document")
    form = LetterForm(data={"version": referral.version} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            letter = issue_summary(
                referral,
                actor=current_user,
                narrative=form.narrative.data,
                expected_version=form.expected_version(),
            )
        except (LetterNotAllowed, StaleEdit) as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(
                f"Treatment summary version {letter.version} is signed and visible to the "
                "referring provider.",
                "success",
            )
            return redirect(url_for("referrals.detail", referral_id=referral.id))
    return render_template("letters/new_summary.html", form=form, referral=referral), (
        422 if form.errors else 200
    )


def get_letter_or_404(letter_id: int) -> Letter:
    letter = db.session.scalar(
        select(Letter)
        .where(Letter.id == letter_id)
        .options(undefer(Letter.pdf), selectinload(Letter.referral).selectinload(Referral.practice))
    )
    if letter is None or not can_view_referral(current_user, letter.referral):
        record("letter.download", "letter", letter_id, outcome="denied")
        abort(404)
    return letter


@bp.get("/<int:letter_id>/download")
def download(letter_id: int):
    letter = get_letter_or_404(letter_id)
    mark_downloaded(letter, actor=current_user)
    db.session.commit()
    return Response(
        open_pdf(letter),
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{letter.filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
