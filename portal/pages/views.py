"""The pages that gather every feature around referrals: the referrer's dashboard and the
referral page both sides share. Their routes stay on the referrals blueprint (/referrals/)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.attachments.service import add_uploads
from portal.errors import DomainError
from portal.extensions import db
from portal.guards import require_roles
from portal.messages.service import mark_seen
from portal.pages.dashboard import (
    FILTERS,
    chosen_state,
    counts,
    dashboard_page,
    page_number,
    state_counts,
)
from portal.pages.referral import page_loads, referral_page_context
from portal.referrals import bp, queries
from portal.referrals.actions import refusal_message
from portal.referrals.forms import AnswerForm, SearchForm
from portal.referrals.service import change_state
from portal.referrals.states import State
from portal.roles import Role


@bp.route("/", methods=["GET", "POST"])
@require_roles(Role.REFERRER)
def dashboard():
    """GET filters by state (no PHI in the URL); a name search is POSTed, never put in a URL."""
    form = SearchForm()
    search = form.q.data if form.validate_on_submit() else ""
    show = request.values.get("show", "all")
    show = show if show in FILTERS else "all"
    state = chosen_state(request.values.get("state"))
    per_state = state_counts(current_user)
    shown = dashboard_page(
        current_user, per_state, show, search or "", state, page_number(request.values.get("page"))
    )
    db.session.commit()
    return render_template(
        "referrals/dashboard.html",
        rows=shown.rows,
        page=shown,
        show="" if state else show,  # a single state is not one of the groups
        state=state,
        filters=FILTERS,
        counts=counts(per_state),
        state_counts=per_state,
        form=form,
        search=search,
    )


@bp.get("/<int:referral_id>")
def detail(referral_id: int):
    referral = queries.get_referral_or_404(referral_id, current_user, options=page_loads())
    if referral.state == State.DRAFT:
        db.session.commit()  # the read's audit row
        return redirect(url_for("referrals.edit", referral_id=referral.id))
    if referral.patient is None:  # a draft discarded before it was ever sent
        flash("That draft was discarded; it was never sent to the clinic.", "info")
        db.session.commit()  # the read's audit row
        return redirect(url_for("referrals.dashboard"))
    context = referral_page_context(referral, current_user)
    if current_user.is_referrer:
        context["seen_before"] = mark_seen(current_user, referral)
    db.session.commit()
    return render_template("referrals/detail.html", **context)


@bp.post("/<int:referral_id>/answer")
@require_roles(Role.REFERRER)
def answer(referral_id: int):
    """The referrer's answer and the files that go with it, in one form: the answer returns
    the referral to review; each file is checked as any attachment (a refused one is named
    by why, and does not stop the answer)."""
    referral = queries.get_referral_or_404(referral_id, current_user, "act")
    form = AnswerForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        db.session.commit()  # the read's audit row
        return redirect(url_for("referrals.detail", referral_id=referral.id))
    try:
        change_state(
            referral,
            State.IN_REVIEW,
            actor=current_user,
            expected_version=form.expected_version(),
            reason=form.reason.data or "",
        )
    except DomainError as refusal:
        db.session.rollback()
        db.session.commit()  # the read's and the refusal's audit rows
        flash(refusal_message(refusal), "error")
        return redirect(url_for("referrals.detail", referral_id=referral.id))
    added, refusals = add_uploads(
        referral, request.files.getlist("attachments"), actor=current_user
    )
    db.session.commit()
    for refusal_text in refusals:  # without the file's name: flashes travel in the cookie
        flash(f"A file was not attached. {refusal_text.split(': ', 1)[-1]}", "error")
    files = f" with {len(added)} file{'s' if len(added) != 1 else ''}" if added else ""
    flash(
        f"Your answer was sent{files}; the clinic is reviewing referral {referral.number} again.",
        "success",
    )
    return redirect(url_for("referrals.detail", referral_id=referral.id))
