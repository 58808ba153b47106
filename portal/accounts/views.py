"""The provider profile, invitations (coordinators and admins), account requests (public,
approved by an admin), and the invitation link a provider opens."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.accounts import bp, service
from portal.accounts.forms import (
    AcceptInviteForm,
    DecideRequestForm,
    InviteForm,
    ProfileForm,
    RequestAccountForm,
)
from portal.accounts.permissions import (
    INVITERS,
    get_account_request_or_404,
    get_invitation_or_404,
)
from portal.auth.reauth import needs_reauth, reauth_then_resend
from portal.errors import DomainError, Invalid
from portal.extensions import auth_rate_limit, db, limiter
from portal.forms import choices
from portal.guards import has_role, require_roles
from portal.roles import Role


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        service.update_profile(current_user, form.data, actor=current_user)
        db.session.commit()
        flash("Your profile is saved. Letters use this name and address.", "success")
        return redirect(url_for("accounts.profile"))
    if form.errors:
        flash("Not saved: please correct the fields marked below.", "error")
    return render_template("accounts/profile.html", form=form), 422 if form.errors else 200


def _invite_form(**kwargs) -> InviteForm:
    form = InviteForm(**kwargs)
    form.practice_id.choices = choices(
        [(0, "Choose a practice…"), *((p.id, p.name) for p in service.practices())]
    )
    return form


@bp.route("/invitations", methods=["GET", "POST"])
@require_roles(*INVITERS)
def invitations():
    form = _invite_form()
    link = None
    if form.validate_on_submit():
        try:
            invitation, token = service.create_invitation(
                form.email.data,
                form.full_name.data or "",
                form.practice_id.data,
                actor=current_user,
            )
        except Invalid as error:
            target = form[error.field or "email"]
            target.errors = [*target.errors, str(error)]
        else:
            db.session.commit()
            link = url_for("accounts.accept_invitation", token=token, _external=True)
            flash(
                f"Invitation created for {invitation.email}: the link is on its way to them by "
                "email. It is also shown below, once, to send another way; it works once and "
                f"expires in {current_app.config.get('INVITATION_DAYS', 7)} days.",
                "success",
            )
            form = _invite_form(formdata=None)
    return render_template(
        "accounts/invitations.html",
        form=form,
        link=link,
        pending=service.pending_invitations(current_user),
        requests=service.pending_requests() if has_role(Role.ADMIN) else [],
        practices=service.practices(),
    ), 422 if form.errors else 200


@bp.post("/invitations/<int:invitation_id>/revoke")
@require_roles(*INVITERS)
def revoke_invitation(invitation_id: int):
    invitation = get_invitation_or_404(invitation_id, current_user, "revoke")
    if not FlaskForm().validate_on_submit():
        abort(404)
    service.revoke_invitation(invitation, actor=current_user)
    db.session.commit()
    flash(f"The invitation for {invitation.email} no longer works.", "success")
    return redirect(url_for("accounts.invitations"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
@limiter.limit(auth_rate_limit, methods=["POST"])
def accept_invitation(token: str):
    if current_user.is_authenticated:
        flash("You are already signed in. Sign out to use an invitation.", "info")
        return redirect(url_for("auth.home"))
    try:
        invitation = service.open_invitation(token)
    except service.InvitationInvalid as error:
        return render_template("accounts/notice.html", title="Invitation", message=str(error)), 404
    form = AcceptInviteForm(data={"full_name": invitation.full_name})
    form.account_email = invitation.email
    if form.validate_on_submit():
        try:
            service.accept_invitation(token, form)
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash("Your account is ready. Sign in with your email and new password.", "success")
            return redirect(url_for("auth.login"))
    return render_template("accounts/accept.html", form=form, invitation=invitation), (
        422 if form.errors else 200
    )


@bp.route("/request-account", methods=["GET", "POST"])
@limiter.limit(auth_rate_limit, methods=["POST"])
def request_account():
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    form = RequestAccountForm()
    if form.validate_on_submit():
        service.request_account(form)
        db.session.commit()
        return render_template(
            "accounts/notice.html",
            title="Request received",
            message="Thank you. The clinic's administrator reviews each request; you will be "
            "able to sign in once it is approved.",
        )
    return render_template("accounts/request.html", form=form), 422 if form.errors else 200


@bp.post("/account-requests/<int:request_id>/<any(approve, refuse):decision>")
@require_roles(Role.ADMIN)
def decide_request(request_id: int, decision: str):
    account_request = get_account_request_or_404(request_id, current_user, "decide")
    if needs_reauth():  # an admin action on accounts: prove it is you first
        return reauth_then_resend(url_for("accounts.invitations"), f"{decision.capitalize()}")
    form = DecideRequestForm()
    form.practice_id.choices = choices(
        [(0, "New practice"), *((p.id, p.name) for p in service.practices())]
    )
    if not form.validate_on_submit():
        flash("Choose a practice for the new account.", "error")
        return redirect(url_for("accounts.invitations"))
    try:
        message = service.decide_request(
            account_request, decision, practice_id=form.practice_id.data, actor=current_user
        )
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("accounts.invitations", _anchor="requests"))
