"""Posting messages on a referral, and what is new for a user since they last looked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, func, select

from portal.audit.service import record
from portal.db import utcnow
from portal.errors import Invalid
from portal.extensions import db
from portal.messages.models import Message, SeenMark
from portal.notifications.service import coordinators_of, notify
from portal.referrals.models import ReferralEvent
from portal.referrals.states import State
from portal.sql_lists import one_of

if TYPE_CHECKING:
    from collections.abc import Mapping

    from portal.auth.models import User
    from portal.referrals.models import Referral


def post_message(referral: Referral, body: str, *, actor: User) -> Message:
    """Add a message to the referral's thread; both sides read it."""
    body = body.strip()
    if not body:
        raise Invalid("Write a message before sending.", field="body")
    message = Message(referral_id=referral.id, author_id=actor.id, body=body)
    db.session.add(message)
    db.session.flush()
    record("message.create", "referral", referral.id, actor=actor, detail=f"message {message.id}")
    # The other side is told: the clinic's coordinators of a referrer's message, the referrer
    # of the clinic's.
    told = coordinators_of(referral) if actor.is_referrer else [referral.referrer]
    notify("message", told, referral=referral, actor=actor)
    return message


@cache
def _thread():
    return (
        select(Message).where(Message.referral_id == bindparam("referral_id")).order_by(Message.id)
    )


def thread(referral: Referral) -> list[Message]:
    """The referral page shows it: the statement built once, not per request."""
    return list(db.session.scalars(_thread(), {"referral_id": referral.id}))


# The dashboard's statements over a page of referrals: built once, the page's ids bound as
# one parameter (portal/sql_lists.py).
@cache
def _last_seen():
    return select(SeenMark.referral_id, SeenMark.seen_at).where(
        SeenMark.user_id == bindparam("user_id"), one_of(SeenMark.referral_id)
    )


@cache
def _latest_messages():
    return (
        select(Message.referral_id, func.max(Message.created_at))
        .where(one_of(Message.referral_id), Message.author_id != bindparam("user_id"))
        .group_by(Message.referral_id)
    )


@cache
def _latest_questions():
    return (
        select(ReferralEvent.referral_id, func.max(ReferralEvent.at))
        .where(one_of(ReferralEvent.referral_id), ReferralEvent.to_state == State.NEEDS_INFO)
        .group_by(ReferralEvent.referral_id)
    )


def last_seen(user: User, referral_ids: list[int]) -> dict[int, datetime]:
    if not referral_ids:
        return {}
    return dict(db.session.execute(_last_seen(), {"user_id": user.id, "ids": referral_ids}).all())


@cache
def _seen_mark():
    return select(SeenMark).where(
        SeenMark.user_id == bindparam("user_id"), SeenMark.referral_id == bindparam("referral_id")
    )


def mark_seen(user: User, referral: Referral) -> datetime | None:
    """Record that `user` looked at the referral now; return when they had looked before."""
    mark = db.session.scalar(_seen_mark(), {"user_id": user.id, "referral_id": referral.id})
    before = mark.seen_at if mark else None
    if mark is None:
        mark = SeenMark(user_id=user.id, referral_id=referral.id)
        db.session.add(mark)
    mark.seen_at = utcnow()
    return before


@dataclass(frozen=True)
class News:
    letter: bool = False
    message: bool = False
    question: bool = False

    def __bool__(self) -> bool:
        return self.letter or self.message or self.question


def news_for(
    user: User, referrals: list[Referral], latest_letter: Mapping[int, datetime]
) -> dict[int, News]:
    """For each referral, whether a letter (`latest_letter`: when its latest final letter was
    issued), a message from the clinic or a question arrived since `user` last opened it.
    Three queries whatever the number of referrals."""
    ids = [r.id for r in referrals]
    seen = last_seen(user, ids)
    if not ids:
        return {}
    latest_message = dict(
        db.session.execute(_latest_messages(), {"ids": ids, "user_id": user.id}).all()
    )
    latest_question = dict(db.session.execute(_latest_questions(), {"ids": ids}).all())
    news = {}
    for referral in referrals:
        since = seen.get(referral.id)

        def newer(moment: datetime | None, since: datetime | None = since) -> bool:
            return moment is not None and (since is None or moment > since)

        news[referral.id] = News(
            letter=newer(latest_letter.get(referral.id)),
            message=newer(latest_message.get(referral.id)),
            question=referral.state == State.NEEDS_INFO and newer(latest_question.get(referral.id)),
        )
    return news
