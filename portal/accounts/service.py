"""Accounts for referring providers: single-use invitations that expire, and requests that an
admin approves before anyone can sign in."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import func, select

from portal.accounts.models import AccountRequest, Invitation
from portal.audit.service import record
from portal.auth.models import User
from portal.auth.passwords import hash_password
from portal.auth.service import AccountError, create_user, find_by_email
from portal.clinics.models import Practice
from portal.db import utcnow
from portal.errors import Conflict, DomainError
from portal.extensions import db
from portal.notifications.service import absolute, all_admins, email_link, notify, queue_email
from portal.roles import Role

if TYPE_CHECKING:
    from portal.accounts.forms import AcceptInviteForm, RequestAccountForm


# The provider's own profile, printed on letters (address block) and referrals.
PROFILE_FIELDS = (
    "full_name",
    "credentials",
    "npi",
    "phone",
    "fax",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
)


class InvitationInvalid(DomainError):
    """The link is unknown, used, revoked or expired; the message never says which account."""

    status = 404


class RequestAlreadyDecided(Conflict):
    """An account request was approved or refused already (by another admin, or twice)."""


def update_profile(user: User, values: Mapping[str, str | None], *, actor: User) -> None:
    """Save the profile fields found in `values` (the rest of the form is ignored), trimmed."""
    for name in PROFILE_FIELDS:
        setattr(user, name, (values.get(name) or "").strip())
    db.session.flush()
    record("user.update", "user", user.id, actor=actor, detail="profile")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invitation(
    email: str, full_name: str, practice_id: int, *, actor: User
) -> tuple[Invitation, str]:
    """A new invitation and its token (shown once, only its hash is kept)."""
    email = email.strip().lower()
    if find_by_email(email) is not None:
        raise AccountError("That provider already has an account.", field="email")
    if db.session.get(Practice, practice_id) is None:
        raise AccountError("Choose the provider's practice.", field="practice_id")
    token = secrets.token_urlsafe(32)
    days = current_app.config.get("INVITATION_DAYS", 7)
    invitation = Invitation(
        email=email,
        full_name=full_name.strip(),
        practice_id=practice_id,
        token_hash=_digest(token),
        created_by_id=actor.id,
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(invitation)
    db.session.flush()
    record("invitation.create", "invitation", invitation.id, actor=actor)
    email_link(
        email,
        kind="invitation",
        subject="Your invitation to the clinic's referral portal",
        sentence=(
            f"The clinic invites you to send and follow referrals in its portal. The link "
            f"works once and expires in {days} days. Create your account:"
        ),
        path=f"/invite/{token}",
    )
    return invitation, token


def open_invitation(token: str) -> Invitation:
    """The invitation behind a link; raises InvitationInvalid."""
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == _digest(token or ""))
    )
    if invitation is None or invitation.used_at or invitation.revoked_at:
        raise InvitationInvalid("This invitation link is not valid or has already been used.")
    if invitation.expires_at <= utcnow():
        raise InvitationInvalid("This invitation link has expired. Ask the clinic for a new one.")
    return invitation


def accept_invitation(token: str, form: AcceptInviteForm) -> User:
    """The provider's account, made from the invitation and the password they chose."""
    invitation = open_invitation(token)
    user = create_user(
        email=invitation.email,
        password=form.password.data,
        full_name=form.full_name.data,
        role=Role.REFERRER,
        credentials=form.credentials.data or "",
        practice_id=invitation.practice_id,
        phone=form.phone.data or "",
    )
    user.npi = form.npi.data.strip()
    invitation.used_at = utcnow()
    record("invitation.accept", "invitation", invitation.id, actor=user)
    return user


def revoke_invitation(invitation: Invitation, *, actor: User) -> None:
    """The link stops working (a used invitation stays as it is)."""
    if invitation.used_at is None:
        invitation.revoked_at = utcnow()
        record("invitation.revoke", "invitation", invitation.id, actor=actor)


def pending_invitations(user: User) -> list[Invitation]:
    """Open invitations made by staff of the user's clinic."""
    return list(
        db.session.scalars(
            select(Invitation)
            .join(Invitation.created_by)
            .where(
                Invitation.used_at.is_(None),
                Invitation.revoked_at.is_(None),
                User.clinic_id == user.clinic_id,
            )
            .order_by(Invitation.created_at.desc())
        )
    )


def request_account(form: RequestAccountForm) -> AccountRequest | None:
    """Store a request; an address that already has an account gets no request and the same
    answer, so the page never reveals who has an account."""
    email = form.email.data.strip().lower()
    password_hash = hash_password(form.password.data)  # always: the timing reveals nothing
    if find_by_email(email) is not None:
        record("account_request.create", "account_request", None, outcome="duplicate")
        return None
    request = AccountRequest(
        email=email,
        full_name=form.full_name.data.strip(),
        credentials=(form.credentials.data or "").strip(),
        npi=form.npi.data.strip(),
        practice_name=form.practice_name.data.strip(),
        phone=(form.phone.data or "").strip(),
        note=(form.note.data or "").strip(),
        password_hash=password_hash,
    )
    db.session.add(request)
    db.session.flush()
    record("account_request.create", "account_request", request.id)
    notify("account_request", all_admins(), link="/invitations")
    return request


def pending_request_count() -> int:
    return db.session.scalar(
        select(func.count(AccountRequest.id)).where(AccountRequest.status == "pending")
    )


def pending_requests() -> list[AccountRequest]:
    return list(
        db.session.scalars(
            select(AccountRequest)
            .where(AccountRequest.status == "pending")
            .order_by(AccountRequest.created_at)
        )
    )


def approve_request(request: AccountRequest, practice_id: int, *, actor: User) -> User:
    """Create the account with the password the provider chose; 0 makes a new practice."""
    if request.status != "pending":
        raise RequestAlreadyDecided("This request was already decided.")
    if find_by_email(request.email) is not None:
        raise AccountError("An account with that email already exists.", field="email")
    if practice_id == 0:
        practice = Practice(name=request.practice_name)
        db.session.add(practice)
        db.session.flush()
        practice_id = practice.id
    elif db.session.get(Practice, practice_id) is None:
        raise AccountError("Choose a practice.", field="practice_id")
    user = User(
        email=request.email,
        password_hash=request.password_hash,
        full_name=request.full_name,
        credentials=request.credentials,
        npi=request.npi,
        phone=request.phone,
        role=Role.REFERRER.value,
        practice_id=practice_id,
    )
    db.session.add(user)
    db.session.flush()
    request.status, request.decided_by_id, request.decided_at = "approved", actor.id, utcnow()
    request.user_id = user.id
    record("account_request.approve", "account_request", request.id, actor=actor)
    record("user.create", "user", user.id, actor=actor)
    queue_email(
        user.email,
        kind="account_approved",
        subject="Your account on the clinic's referral portal is ready",
        body=f"Your account request was approved. Sign in:\n{absolute('/login')}\n",
        user=user,
    )
    return user


def refuse_request(request: AccountRequest, *, actor: User) -> None:
    """No account is made; the request is kept, marked refused."""
    if request.status != "pending":
        raise RequestAlreadyDecided("This request was already decided.")
    request.status, request.decided_by_id, request.decided_at = "refused", actor.id, utcnow()
    record("account_request.refuse", "account_request", request.id, actor=actor)


def decide_request(request: AccountRequest, decision: str, *, practice_id: int, actor: User) -> str:
    """Approve (into `practice_id`, 0 for a new practice) or refuse; returns what to tell the
    admin."""
    if decision == "approve":
        user = approve_request(request, practice_id, actor=actor)
        return f"{user.display_name} can now sign in."
    refuse_request(request, actor=actor)
    return "The request was refused; no account was created."


def practices() -> list[Practice]:
    return list(db.session.scalars(select(Practice).order_by(Practice.name)))
