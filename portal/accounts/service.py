"""Accounts for referring providers: single-use invitations that expire, and requests that an
admin approves before anyone can sign in."""

from __future__ import annotations

import hashlib
import secrets
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
from portal.extensions import db
from portal.roles import Role

if TYPE_CHECKING:
    from portal.accounts.forms import AcceptInviteForm, RequestAccountForm


class InvitationInvalid(ValueError):
    """The link is unknown, used, revoked or expired; the message never says which account."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invitation(
    email: str, full_name: str, practice_id: int, *, actor: User
) -> tuple[Invitation, str]:
    """A new invitation and its token (shown once, only its hash is kept)."""
    email = email.strip().lower()
    if find_by_email(email) is not None:
        raise AccountError("That provider already has an account.")
    if db.session.get(Practice, practice_id) is None:
        raise AccountError("Choose the provider's practice.")
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
    return invitation, token


def open_invitation(token: str) -> Invitation:
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == _digest(token or ""))
    )
    if invitation is None or invitation.used_at or invitation.revoked_at:
        raise InvitationInvalid("This invitation link is not valid or has already been used.")
    if invitation.expires_at <= utcnow():
        raise InvitationInvalid("This invitation link has expired. Ask the clinic for a new one.")
    return invitation


def accept_invitation(token: str, form: AcceptInviteForm) -> User:
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
        raise AccountError("This request was already decided.")
    if find_by_email(request.email) is not None:
        raise AccountError("An account with that email already exists.")
    if practice_id == 0:
        practice = Practice(name=request.practice_name)
        db.session.add(practice)
        db.session.flush()
        practice_id = practice.id
    elif db.session.get(Practice, practice_id) is None:
        raise AccountError("Choose a practice.")
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
    return user


def refuse_request(request: AccountRequest, *, actor: User) -> None:
    if request.status != "pending":
        raise AccountError("This request was already decided.")
    request.status, request.decided_by_id, request.decided_at = "refused", actor.id, utcnow()
    record("account_request.refuse", "account_request", request.id, actor=actor)


def practices() -> list[Practice]:
    return list(db.session.scalars(select(Practice).order_by(Practice.name)))
