"""What an administrator may do to accounts; every action is audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from portal.audit.service import record
from portal.auth import lockout, mfa, sessions
from portal.auth.models import User
from portal.errors import DomainError
from portal.extensions import db
from portal.roles import Role


class AccountActionRefused(DomainError):
    """The action does not apply to this account."""


@dataclass(frozen=True)
class AccountAction:
    name: str
    label: str
    question: str
    danger: bool = False


ACTIONS = {
    a.name: a
    for a in (
        AccountAction(
            "deactivate",
            "Deactivate",
            "The account can no longer sign in and its open sessions end now.",
            danger=True,
        ),
        AccountAction("reactivate", "Reactivate", "The account can sign in again."),
        AccountAction("unlock", "Unlock", "Failed sign-ins are forgotten; it can sign in now."),
        AccountAction(
            "reset-mfa",
            "Reset two-step sign-in",
            "The authenticator and recovery codes are forgotten; the user sets up a new "
            "phone at the next sign-in. Do this only after checking who is asking.",
            danger=True,
        ),
    )
}


def manageable(admin: User):
    """The condition on User for the accounts `admin` manages."""
    return or_(User.clinic_id == admin.clinic_id, User.role == Role.REFERRER)


def manageable_accounts(admin: User) -> list[User]:
    """Staff of the admin's clinic and every referring provider."""
    return list(
        db.session.scalars(
            select(User).where(manageable(admin)).order_by(User.role, User.full_name)
        )
    )


def apply(action: str, user: User, *, actor: User) -> str:
    """Carry out one account action; returns what to tell the admin."""
    if action in {"deactivate", "reset-mfa"} and user.id == actor.id:
        raise AccountActionRefused("You cannot do that to your own account.")
    if action == "deactivate":
        user.is_enabled = False
        ended = sessions.revoke_all(user, "deactivated")
        record("account.deactivate", "user", user.id, actor=actor, detail=f"{ended} sessions")
        return f"{user.full_name} is deactivated."
    if action == "reactivate":
        user.is_enabled = True
        record("account.reactivate", "user", user.id, actor=actor)
        return f"{user.full_name} can sign in again."
    if action == "unlock":
        lockout.unlock(user, actor=actor)
        return f"{user.full_name} is unlocked."
    if action == "reset-mfa":
        mfa.reset(user)
        sessions.revoke_all(user, "mfa reset")
        record("account.mfa_reset", "user", user.id, actor=actor)
        return f"Two-step sign-in of {user.full_name} is reset."
    raise AccountActionRefused("Unknown action.")
