"""A referral's prior-authorization page and its summary PDF (clinic staff)."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.audit.service import record
from portal.authorizations import bp, service
from portal.authorizations.forms import AuthorizationForm
from portal.authorizations.rules import EXPIRY_WARNING_DAYS, STATUS_LABELS
from portal.authorizations.summary import render_summary
from portal.clock import clinic_today
from portal.errors import DomainError, Invalid
from portal.extensions import db
from portal.guards import restrict_blueprint
from portal.referrals import queries
from portal.roles import CLINIC_ROLES

restrict_blueprint(bp, *CLINIC_ROLES)


@bp.route("/referrals/<int:referral_id>", methods=["GET", "POST"])
def referral_authorization(referral_id: int):
    referral = queries.get_referral_or_404(referral_id, current_user, "act")
    auth = service.authorization_of(referral)
    if request.method == "GET":
        form = AuthorizationForm(obj=auth) if auth else AuthorizationForm()
        if auth is None:
            intake_payer = (referral.intake or {}).get("patient", {}).get("insurance_payer", "")
            form.payer.data = intake_payer
            if service.is_self_pay(referral):
                form.status.data = "not_needed"
    else:
        form = AuthorizationForm()
    if form.validate_on_submit():
        try:
            service.save(
                referral,
                form.values(),
                actor=current_user,
                expected_version=form.expected_version(),
            )
        except Invalid as invalid:
            db.session.rollback()
            target = form._fields.get(invalid.field or "", form.status)
            target.errors = [*target.errors, str(invalid)]
        except DomainError as refusal:
            db.session.rollback()
            db.session.commit()  # the read's and the refusal's audit rows
            flash(str(refusal), "error")
            return redirect(
                url_for("authorizations.referral_authorization", referral_id=referral_id)
            )
        else:
            db.session.commit()
            flash("The authorization is saved.", "success")
            return redirect(
                url_for("authorizations.referral_authorization", referral_id=referral.id)
            )
        referral = queries.get_referral_or_404(referral_id, current_user, "act")
    db.session.commit()  # the reads' audit rows
    return render_template(
        "authorizations/page.html",
        referral=referral,
        form=form,
        auth=service.authorization_of(referral),
        self_pay=service.is_self_pay(referral),
        warnings=service.referral_warnings(referral, clinic_today()),
        status_labels=STATUS_LABELS,
        expiry_days=EXPIRY_WARNING_DAYS,
    ), 422 if form.errors else 200


@bp.get("/referrals/<int:referral_id>/summary.pdf")
def summary_pdf(referral_id: int):
    referral = queries.get_referral_or_404(referral_id, current_user, "act")
    rendered = render_summary(referral, service.authorization_of(referral), today=clinic_today())
    record("authorization.summary", "referral", referral.id, actor=current_user)
    db.session.commit()
    return Response(
        rendered.data,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="prior-authorization-{referral.number}.pdf"',
            "X-Content-Type-Options": "nosniff",
        },
    )
