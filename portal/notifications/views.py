"""The bell's list, opening a notification (marked read, then its page), and preferences."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.extensions import db
from portal.notifications import bp, queries
from portal.notifications.kinds import MODES, kinds_for
from portal.notifications.permissions import get_notification_or_404
from portal.notifications.service import preferences, set_preferences


@bp.get("/")
def index():
    return render_template(
        "notifications/list.html", notes=queries.latest(current_user), form=FlaskForm()
    )


@bp.get("/<int:notification_id>")
def open_notification(notification_id: int):
    note = get_notification_or_404(notification_id, current_user)
    queries.mark_read(note)
    db.session.commit()
    target = note.link if note.link.startswith("/") and not note.link.startswith("//") else "/"
    return redirect(target)


@bp.post("/read")
def read_all():
    if FlaskForm().validate_on_submit():
        queries.mark_all_read(current_user)
        db.session.commit()
        flash("Every notification is marked read.", "success")
    return redirect(url_for("notifications.index"))


@bp.route("/preferences", methods=["GET", "POST"])
def edit_preferences():
    form = FlaskForm()
    kinds = kinds_for(current_user.role)
    if form.validate_on_submit():
        choices = {
            kind.code: request.form.get(f"mode-{kind.code}", "")
            for kind in kinds
            if request.form.get(f"mode-{kind.code}") in MODES
        }
        set_preferences(current_user, choices, actor=current_user)
        db.session.commit()
        flash("Your notification choices are saved.", "success")
        return redirect(url_for("notifications.edit_preferences"))
    return render_template(
        "notifications/preferences.html",
        form=form,
        kinds=kinds,
        chosen=preferences(current_user),
        modes=MODES,
    )
