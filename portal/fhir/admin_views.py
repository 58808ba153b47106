"""The admin's FHIR clients page: register an EHR's system with its public keys, see and
deactivate clients. A system acts for one practice or, clinic-wide, for the whole clinic.
Registering and deactivating need a recent password check."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import FileField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.auth.reauth import reauth_required
from portal.clinics.models import Clinic, Practice
from portal.errors import Invalid
from portal.extensions import db
from portal.fhir import admin_bp as bp
from portal.fhir.clients import DEFAULT_SCOPES, all_clients, get_client_or_none, register_client
from portal.fhir.clients import set_active as set_client_active
from portal.guards import restrict_blueprint
from portal.roles import Role

restrict_blueprint(bp, Role.ADMIN)


class ClientForm(FlaskForm):
    name = StringField("System name", validators=[DataRequired("Name the system."),
                                                  Length(max=200)])  # fmt: skip
    practice_id = SelectField("Acts for the practice", coerce=int, default=0)
    clinic_id = SelectField(
        "…or for the whole clinic",
        coerce=int,
        default=0,
        description="A clinic-wide system sees every referral of the clinic, whichever practice "
        "sent it, and only reads and follows them. Choose a practice or a clinic, not both.",
    )
    scopes = TextAreaField(
        "Scopes",
        default=DEFAULT_SCOPES,
        description="SMART system scopes, v1 (.read/.write) or v2 (.cruds) syntax.",
    )
    jwks = TextAreaField(
        "Public keys (JWKS)",
        description="Paste the system's JSON Web Key Set (public RSA or EC keys), or upload it.",
    )
    jwks_file = FileField("…or upload the JWKS file")


class ToggleForm(FlaskForm):
    pass


@bp.route("/", methods=["GET", "POST"])
@reauth_required
def clients():
    form = ClientForm()
    practices = db.session.scalars(select(Practice).order_by(Practice.name)).all()
    form.practice_id.choices = [(0, "—"), *((p.id, p.name) for p in practices)]
    clinics = db.session.scalars(select(Clinic).order_by(Clinic.name)).all()
    form.clinic_id.choices = [(0, "—"), *((c.id, c.name) for c in clinics)]
    created = None
    if form.validate_on_submit():
        upload = form.jwks_file.data
        text = upload.read().decode("utf-8", "replace") if upload else form.jwks.data or ""
        try:
            created = register_client(
                name=form.name.data,
                practice_id=form.practice_id.data or None,
                clinic_id=form.clinic_id.data or None,
                jwks_text=text,
                scopes=form.scopes.data or "",
                actor=current_user,
            )
        except Invalid as error:
            db.session.rollback()
            form[error.field or "jwks"].errors = [str(error)]
        else:
            db.session.commit()
            flash(f"Registered {created.name}. Its client id: {created.client_id}", "success")
            return redirect(url_for("fhir_admin.clients"))
    status = 422 if form.errors else 200
    return render_template(
        "admin/fhir_clients.html", form=form, clients=all_clients(), toggle=ToggleForm()
    ), status


@bp.post("/<int:client_pk>/<any(deactivate, reactivate):action>")
@reauth_required
def set_active(client_pk: int, action: str):
    client = get_client_or_none(client_pk)
    if client is None:
        abort(404)
    if ToggleForm().validate_on_submit():
        set_client_active(client, action == "reactivate", actor=current_user)
        db.session.commit()
        flash(f"{client.name} is {action}d.", "success")
    return redirect(url_for("fhir_admin.clients"))
