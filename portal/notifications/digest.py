"""The daily digest: one email per person, at the clinic-local DIGEST_HOUR, counting what they
chose to hear of by digest since the last one, with a link for each. PHI-free as every email."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.clock import clinic_zone
from portal.db import utcnow
from portal.extensions import db
from portal.notifications.kinds import KINDS
from portal.notifications.models import Notification
from portal.notifications.service import absolute, queue_email

SUBJECT = "Your daily summary from the referral portal"


def digest_hour_now(now: datetime) -> bool:
    return now.astimezone(clinic_zone()).hour == current_app.config["DIGEST_HOUR"]


def send_digests(*, now: datetime | None = None, force: bool = False) -> int:
    """At the digest hour (or when forced), one email per person with digest notifications
    waiting; returns how many emails were queued. The caller commits."""
    now = now or utcnow()
    if not force and not digest_hour_now(now):
        return 0
    waiting = db.session.scalars(
        select(Notification)
        .where(Notification.digest_due.is_(True), Notification.digested_at.is_(None))
        .options(selectinload(Notification.user))
        .order_by(Notification.user_id, Notification.id)
    )
    by_person: dict[int, list[Notification]] = defaultdict(list)
    for note in waiting:
        by_person[note.user_id].append(note)
    for notes in by_person.values():
        person = notes[0].user
        for note in notes:
            note.digested_at = now
        if not person.is_enabled:
            continue
        queue_email(person.email, kind="digest", subject=SUBJECT, body=_body(notes), user=person)
    db.session.flush()
    return len(by_person)


def _body(notes: list[Notification]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for note in notes:
        counts[note.kind] += 1
    lines = [f"Since your last summary: {len(notes)} new notification(s)."]
    lines += [f"- {KINDS[code].label}: {count}" for code, count in counts.items()]
    lines.append("")
    lines += [f"{note.text} {absolute(note.link)}" for note in notes]
    lines.append("")
    lines.append(f"All your notifications: {absolute('/notifications/')}")
    return "\n".join(lines)
