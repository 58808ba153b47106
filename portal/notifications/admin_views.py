"""Admins: the Deliveries page (emails that finally failed: retry or dismiss) and, in
development only, the Sent mail page (the development mailbox)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.extensions import db
from portal.guards import restrict_blueprint
from portal.notifications import deliveries
from portal.notifications.kinds import KINDS
from portal.roles import Role

deliveries_bp = Blueprint("deliveries", __name__, url_prefix="/admin")
restrict_blueprint(deliveries_bp, Role.ADMIN)


def kind_label(code: str) -> str:
    known = KINDS.get(code)
    return known.label if known else deliveries.OTHER_KINDS.get(code, code)


@deliveries_bp.get("/deliveries")
def index():
    return render_template(
        "notifications/deliveries.html",
        failed=deliveries.failed(),
        form=FlaskForm(),
        kind_label=kind_label,
    )


@deliveries_bp.post("/deliveries/<int:outbox_id>/<any(retry, dismiss):action>")
def act(outbox_id: int, action: str):
    if not FlaskForm().validate_on_submit():
        abort(400)
    row = deliveries.get_failed_or_404(outbox_id)
    if action == "retry":
        deliveries.retry(row, actor=current_user)
        flash("The email will be tried again.", "success")
    else:
        deliveries.dismiss(row, actor=current_user)
        flash("The failure is dismissed.", "success")
    db.session.commit()
    return redirect(url_for("deliveries.index"))


def _development_only() -> None:
    if current_app.config.get("ENV_NAME") != "development":
        abort(404)


@deliveries_bp.get("/sent-mail")
def sent_mail():
    _development_only()
    return render_template(
        "notifications/sent_mail.html", messages=deliveries.dev_mailbox(), kind_label=kind_label
    )


@deliveries_bp.get("/sent-mail/<int:outbox_id>")
def sent_message(outbox_id: int):
    _development_only()
    row = deliveries.get_dev_message_or_404(outbox_id)
    return render_template(
        "notifications/sent_message.html",
        message=row,
        body=deliveries.readable_body(row),
        kind_label=kind_label,
    )
