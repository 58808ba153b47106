"""The one way the portal tells someone something: notify(kind, people, referral=...).

Each person gets a Notification (under the bell) and, as they chose for that kind, an email in
the outbox now, a line in tomorrow's digest, or nothing more. Everything is added to the
caller's session: it commits with the change that caused it, or not at all. The emails leave
from the worker after the commit (portal/notifications/delivery.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import select

from portal.audit.service import record
from portal.crypto import encrypt
from portal.extensions import db
from portal.notifications.kinds import DIGEST, IMMEDIATELY, KINDS, default_mode
from portal.notifications.models import Notification, NotificationPreference, OutboxMessage
from portal.roles import Role

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral

FOOTER = (
    "This email carries no patient information: sign in to see the details.\n"
    "Choose which emails you receive: {preferences}"
)


def absolute(path: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def referral_path(referral: Referral) -> str:
    return f"/referrals/{referral.id}"


def notify(
    kind_code: str,
    people: Iterable[User],
    *,
    referral: Referral | None = None,
    link: str | None = None,
    extra: str = "",
    actor: User | None = None,
) -> list[Notification]:
    """Tell each of `people` (not the actor, not a disabled account) of a `kind_code` event,
    in the portal and by email as they chose. Added to the session, flushed, never committed."""
    kind = KINDS[kind_code]
    number = referral.number if referral is not None else ""
    path = link or (referral_path(referral) if referral is not None else "/notifications/")
    text = kind.text(number, extra)
    made = []
    seen: set[int] = set()
    for person in people:
        if person is None or person.id in seen or not person.is_enabled:
            continue
        if actor is not None and person.id == actor.id:
            continue
        seen.add(person.id)
        mode = IMMEDIATELY if kind.mandatory else preference(person, kind_code)
        note = Notification(
            user_id=person.id,
            kind=kind_code,
            referral_id=referral.id if referral is not None else None,
            text=text,
            link=path,
            digest_due=mode == DIGEST,
        )
        db.session.add(note)
        if mode == IMMEDIATELY:
            queue_email(
                person.email,
                kind=kind_code,
                subject=text.rstrip("."),
                body=f"{text} {kind.action}:\n{absolute(path)}\n",
                user=person,
            )
        made.append(note)
    if made:
        db.session.flush()
        for note in made:
            record("notification.create", "notification", note.id, actor=actor, detail=kind_code)
    return made


def queue_email(
    to: str,
    *,
    kind: str,
    subject: str,
    body: str,
    user: User | None = None,
    secret: bool = False,
) -> OutboxMessage:
    """An email in the outbox, sent by a worker once the caller's transaction commits. A
    `secret` body (a one-time link) is kept encrypted and dropped once sent."""
    text = (
        body.rstrip("\n")
        + "\n\n"
        + FOOTER.format(preferences=absolute("/notifications/preferences"))
    )
    row = OutboxMessage(
        idempotency_key=uuid.uuid4().hex,
        user_id=user.id if user is not None else None,
        to_email=to,
        kind=kind,
        subject=subject[:200],
        body=encrypt(text.encode()).decode() if secret else text,
        secret=secret,
    )
    db.session.add(row)
    return row


def preference(user: User, kind_code: str) -> str:
    mode = db.session.scalar(
        select(NotificationPreference.mode).where(
            NotificationPreference.user_id == user.id, NotificationPreference.kind == kind_code
        )
    )
    return mode or default_mode(KINDS[kind_code])


def preferences(user: User) -> dict[str, str]:
    chosen = dict(
        db.session.execute(
            select(NotificationPreference.kind, NotificationPreference.mode).where(
                NotificationPreference.user_id == user.id
            )
        ).all()
    )
    return {code: chosen.get(code, default_mode(kind)) for code, kind in KINDS.items()}


def set_preferences(user: User, choices: dict[str, str], *, actor: User) -> None:
    """Keep the person's choice for each kind of their role (a mandatory kind stays immediate)."""
    rows = {
        row.kind: row
        for row in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    for code, mode in choices.items():
        kind = KINDS[code]
        if kind.mandatory or user.role not in kind.roles:
            continue
        if code in rows:
            rows[code].mode = mode
        else:
            db.session.add(NotificationPreference(user_id=user.id, kind=code, mode=mode))
    db.session.flush()
    record("notification.preferences", "user", user.id, actor=actor)


# Who is told, by role.
def clinic_people(clinic_id: int, role: Role) -> list[User]:
    from portal.auth.models import User

    return list(
        db.session.scalars(
            select(User)
            .where(User.clinic_id == clinic_id, User.role == role, User.is_enabled.is_(True))
            .order_by(User.id)
        )
    )


def coordinators_of(referral: Referral) -> list[User]:
    """The assigned coordinator, else every coordinator of the referral's clinic."""
    assigned = referral.assigned_coordinator
    if assigned is not None and assigned.is_enabled:
        return [assigned]
    return clinic_people(referral.clinic_id, Role.COORDINATOR)


def clinicians_of(referral: Referral) -> list[User]:
    """The course's clinician, else every clinician of the referral's clinic."""
    course = referral.course
    if course is not None and course.clinician is not None and course.clinician.is_enabled:
        return [course.clinician]
    return clinic_people(referral.clinic_id, Role.CLINICIAN)


def all_admins() -> list[User]:
    from portal.auth.models import User

    return list(
        db.session.scalars(
            select(User).where(User.role == Role.ADMIN, User.is_enabled.is_(True)).order_by(User.id)
        )
    )


def delivery_failed(row: OutboxMessage) -> None:
    """Tell the admins that an email finally failed (who and what is on the Deliveries page)."""
    notify("delivery_failed", all_admins(), link="/admin/deliveries")


def email_link(
    to: str, *, kind: str, subject: str, sentence: str, path: str, user: User | None = None
) -> OutboxMessage:
    """An email to someone who may not have an account yet (an invitation, an approval) or
    that carries a one-time link: sealed in the outbox, dropped once sent."""
    return queue_email(
        to,
        kind=kind,
        subject=subject,
        body=f"{sentence}\n{absolute(path)}\n",
        user=user,
        secret=True,
    )
