"""Which letters are due: interim progress every N sessions, the final summary at the end, the
acceptance and the decline after the decision. The rule is pure; `create_due_drafts` applies it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.audit.service import record
from portal.extensions import db
from portal.letters.models import ACCEPTANCE, DECLINE, DRAFT, INTERIM, SUMMARY, Letter
from portal.letters.service import new_letter
from portal.notifications.service import clinicians_of, notify
from portal.referrals.models import Referral
from portal.referrals.states import ACCEPTED_NOT_STARTED, State
from portal.treatment.models import TreatmentCourse

# The states in which each kind falls due by itself; an interim letter also waits for the
# sessions to reach a multiple of the clinic's interval.
DUE_IN = {
    ACCEPTANCE: ACCEPTED_NOT_STARTED,
    DECLINE: (State.DECLINED,),
    SUMMARY: (State.COMPLETED,),
    INTERIM: (State.IN_TREATMENT,),
}
# A referral in one of these states may have a letter due.
CANDIDATE_STATES = tuple(s for s in State if any(s in states for states in DUE_IN.values()))


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
    due = [
        (kind, 1)
        for kind in (ACCEPTANCE, DECLINE, SUMMARY)
        if state in DUE_IN[kind] and kind not in kinds
    ]
    blocks = len(session_times) // interim_every if interim_every > 0 else 0
    if state in DUE_IN[INTERIM] and blocks:
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
            try:
                with db.session.begin_nested():
                    letter = new_letter(referral, kind, sequence=sequence)
                    db.session.flush()
            except IntegrityError:
                continue  # another run made it first
            created.append(letter.id)
            record("letter.draft", "letter", letter.id, detail=f"{kind} due (batch)")
            notify(
                "letter_to_sign",
                clinicians_of(referral),
                referral=referral,
                link=f"/letters/{letter.id}/edit",
            )
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
