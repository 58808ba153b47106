"""The admin's letterhead and letter settings page (the rules: portal/admin/letterhead.py)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.admin import letterhead_bp as bp
from portal.admin.letterhead import update_letterhead
from portal.errors import Invalid
from portal.extensions import db
from portal.letters.forms import LetterheadForm


@bp.route("/", methods=["GET", "POST"])
def settings():
    clinic = current_user.clinic
    if clinic is None:
        abort(404)
    form = LetterheadForm(obj=clinic)
    if form.validate_on_submit():
        try:
            update_letterhead(clinic, form.data, actor=current_user)
        except Invalid as error:
            db.session.rollback()
            form[error.field or "logo"].errors = [str(error)]
        else:
            db.session.commit()
            flash("Letterhead saved. Letters signed from now on use it.", "success")
            return redirect(url_for("letterhead.settings"))
    return render_template("admin/letterhead.html", form=form, clinic=clinic), (
        422 if form.errors else 200
    )
