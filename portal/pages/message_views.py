"""Posting to a referral's message thread. The route stays on the messages blueprint; it lives
with the pages because a refused message shows the referral page again, with the text kept."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from portal.extensions import db
from portal.messages import bp
from portal.messages.forms import MessageForm
from portal.messages.permissions import get_thread_referral_or_404
from portal.messages.service import post_message
from portal.pages.referral import page_loads, referral_page_context


@bp.post("/<int:referral_id>/messages")
def post(referral_id: int):
    # 404 too for a draft: the clinic cannot see a referral that was never sent.
    referral = get_thread_referral_or_404(referral_id, current_user, options=page_loads())
    form = MessageForm()
    if form.validate_on_submit():
        post_message(referral, form.body.data, actor=current_user)
        db.session.commit()
        flash("Message sent.", "success")
        return redirect(url_for("referrals.detail", referral_id=referral.id, _anchor="messages"))
    context = referral_page_context(referral, current_user)  # re-show, keeping the text typed
    context["message_form"] = form
    db.session.commit()  # the read's audit rows
    return render_template("referrals/detail.html", **context), 422
