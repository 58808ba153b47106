"""Which letters are due: interim progress every N sessions, the final summary at the end, the
acceptance and the decline after the decision. The rule is pure; `create_due_drafts` applies it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.audit.service import record
from portal.db import utcnow
from portal.extensions import db
from portal.letters.models import ACCEPTANCE, DECLINE, DRAFT, INTERIM, SUMMARY, Letter
from portal.letters.service import prefill
from portal.referrals.models import Referral
from portal.referrals.states import State
from portal.treatment.models import TreatmentCourse

DECIDED = (State.ACCEPTED, State.SCHEDULED)
CANDIDATE_STATES = (*DECIDED, State.DECLINED, State.IN_TREATMENT, State.COMPLETED)


@dataclass(frozen=True)
class LetterSeen:
    kind: str
    sequence: int
    created_at: datetime


def due_letters(
    state: str,
    session_times: list[datetime],
    letters: list[LetterSeen],
    *,
    interim_every: int,
) -> list[tuple[str, int]]:
    """(kind, sequence) of each letter due now. An interim letter is due once the sessions
    reach a multiple of `interim_every` and no interim letter was started since that session."""
    kinds = {letter.kind for letter in letters}
    due = []
    if state in DECIDED and ACCEPTANCE not in kinds:
        due.append((ACCEPTANCE, 1))
    if state == State.DECLINED and DECLINE not in kinds:
        due.append((DECLINE, 1))
    if state == State.COMPLETED and SUMMARY not in kinds:
        due.append((SUMMARY, 1))
    blocks = len(session_times) // interim_every if interim_every > 0 else 0
    if state == State.IN_TREATMENT and blocks:
        reached = session_times[blocks * interim_every - 1]
        interims = [letter for letter in letters if letter.kind == INTERIM]
        if not any(letter.created_at >= reached for letter in interims):
            due.append((INTERIM, max((letter.sequence for letter in interims), default=0) + 1))
    return due


def _candidates() -> list[Referral]:
    return list(
        db.session.scalars(
            select(Referral)
            .where(Referral.state.in_(CANDIDATE_STATES))
            .options(
                selectinload(Referral.letters),
                selectinload(Referral.clinic),
                selectinload(Referral.events),
                selectinload(Referral.course).selectinload(TreatmentCourse.sessions),
            )
            .order_by(Referral.id)
        )
    )


def create_due_drafts() -> list[int]:
    """Insert a draft for every due letter; a letter that exists already (the unique
    constraint on referral, kind, sequence and version) is skipped, so running twice is safe."""
    created = []
    for referral in _candidates():
        sessions = referral.course.sessions if referral.course else []
        seen = [LetterSeen(x.kind, x.sequence, x.created_at) for x in referral.letters]
        for kind, sequence in due_letters(
            referral.state,
            [s.created_at for s in sessions],
            seen,
            interim_every=referral.clinic.interim_every,
        ):
            narrative, recommendations = prefill(referral, kind)
            try:
                with db.session.begin_nested():
                    letter = Letter(
                        referral_id=referral.id,
                        kind=kind,
                        sequence=sequence,
                        version=1,
                        status=DRAFT,
                        narrative=narrative,
                        recommendations=recommendations,
                        created_at=utcnow(),
                    )
                    db.session.add(letter)
                    db.session.flush()
            except IntegrityError:
                continue  # another run made it first
            created.append(letter.id)
            record("letter.draft", "letter", letter.id, detail=f"{kind} due (batch)")
    return created


def drafts_to_render() -> list[int]:
    """Drafts without a current preview."""
    return list(
        db.session.scalars(
            select(Letter.id)
            .where(Letter.status == DRAFT, Letter.pdf.is_(None))
            .order_by(Letter.id)
        )
    )
