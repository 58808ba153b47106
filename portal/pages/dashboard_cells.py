"""What each row of the referrer's dashboard shows beside the referral itself, read for a
whole page of referrals at once: one statement per column, whatever the page's size and
however long each referral's history is. Each statement is built once (at its first use) and
takes the page's ids as one parameter (portal/sql_lists.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import and_, bindparam, func, or_, select

from portal.extensions import db
from portal.letters.models import FINAL, Letter
from portal.referrals.models import ReferralEvent
from portal.scales.scoring import PHQ9
from portal.sql_lists import one_of
from portal.treatment.models import Assessment, TreatmentCourse, TreatmentSession
from portal.treatment.queries import Progress, progress_of


@dataclass(frozen=True)
class LastEvent:
    kind: str
    to_state: str | None
    at: datetime


@dataclass(frozen=True)
class Sessions:
    done: int
    planned: int


@cache
def _last_events():
    ranked = (
        select(
            ReferralEvent.referral_id,
            ReferralEvent.kind,
            ReferralEvent.to_state,
            ReferralEvent.at,
            func.row_number()
            .over(
                partition_by=ReferralEvent.referral_id,
                order_by=(ReferralEvent.at.desc(), ReferralEvent.id.desc()),
            )
            .label("n"),
        )
        .where(one_of(ReferralEvent.referral_id))
        .subquery()
    )
    return select(ranked.c.referral_id, ranked.c.kind, ranked.c.to_state, ranked.c.at).where(
        ranked.c.n == 1
    )


def last_events(referral_ids: list[int]) -> dict[int, LastEvent]:
    """Each referral's latest timeline event (by time, then id), in one statement."""
    if not referral_ids:
        return {}
    rows = db.session.execute(_last_events(), {"ids": referral_ids})
    return {referral_id: LastEvent(kind, to, at) for referral_id, kind, to, at in rows}


@cache
def _sessions_done():
    return (
        select(
            TreatmentCourse.referral_id,
            TreatmentCourse.planned_sessions,
            func.count(TreatmentSession.id),
        )
        .outerjoin(TreatmentSession, TreatmentSession.course_id == TreatmentCourse.id)
        .where(one_of(TreatmentCourse.referral_id))
        .group_by(TreatmentCourse.id, TreatmentCourse.referral_id, TreatmentCourse.planned_sessions)
    )


def sessions_done(referral_ids: list[int]) -> dict[int, Sessions]:
    """Sessions documented and planned for each referral that has a course, in one statement."""
    if not referral_ids:
        return {}
    rows = db.session.execute(_sessions_done(), {"ids": referral_ids})
    return {referral_id: Sessions(done, planned) for referral_id, planned, done in rows}


@cache
def _scale_progresses():
    first = func.row_number().over(
        partition_by=(Assessment.referral_id, Assessment.is_baseline), order_by=Assessment.id
    )
    last = func.row_number().over(
        partition_by=(Assessment.referral_id, Assessment.is_baseline),
        order_by=(Assessment.taken_on.desc(), Assessment.id.desc()),
    )
    ranked = (
        select(Assessment.id, first.label("first"), last.label("last"))
        .where(one_of(Assessment.referral_id), Assessment.scale == bindparam("scale"))
        .subquery()
    )
    return (
        select(Assessment)
        .join(ranked, ranked.c.id == Assessment.id)
        .where(
            or_(
                and_(Assessment.is_baseline.is_(True), ranked.c.first == 1),
                and_(Assessment.is_baseline.is_(False), ranked.c.last == 1),
            )
        )
    )


def scale_progresses(referral_ids: list[int], scale: str = PHQ9.code) -> dict[int, Progress]:
    """Baseline against latest of one scale for each referral (as scale_progress does for
    one), reading only the two scores that matter per referral, in one statement."""
    if not referral_ids:
        return {}
    chosen = db.session.scalars(_scale_progresses(), {"ids": referral_ids, "scale": scale})
    baseline: dict[int, Assessment] = {}
    latest: dict[int, Assessment] = {}
    for assessment in chosen:
        (baseline if assessment.is_baseline else latest)[assessment.referral_id] = assessment
    return {
        referral_id: progress_of(scale, first_score, latest.get(referral_id))
        for referral_id, first_score in baseline.items()
    }


@cache
def _latest_final_letters():
    return (
        select(Letter.referral_id, func.max(Letter.created_at))
        .where(one_of(Letter.referral_id), Letter.status == FINAL, Letter.sha256.is_not(None))
        .group_by(Letter.referral_id)
    )


def latest_final_letters(referral_ids: list[int]) -> dict[int, datetime]:
    """When each referral's latest final letter was issued, in one statement: only letters
    whose PDF is stored (one still being rendered cannot be opened yet)."""
    if not referral_ids:
        return {}
    return dict(db.session.execute(_latest_final_letters(), {"ids": referral_ids}).all())
