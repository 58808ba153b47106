"""What the referral page shows, and which actions it offers to whom."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from portal.attachments import permissions as attachments
from portal.attachments.service import attachments_of
from portal.letters.models import Letter
from portal.letters.service import startable_kinds
from portal.messages import permissions as messages
from portal.messages.forms import MessageForm
from portal.messages.service import thread
from portal.pages import permissions as page_permissions
from portal.referrals import permissions as referrals
from portal.referrals.intake_forms import TRIAL_OUTCOME_LABELS
from portal.referrals.models import Referral
from portal.referrals.screening import (
    MED_CLASS_LABELS,
    SCREENING_QUESTIONS,
    failed_drugs,
)
from portal.referrals.states import State
from portal.referrals.vocab import diagnosis_text, other_diagnosis_of
from portal.scheduling.queries import upcoming_visits
from portal.treatment.models import TreatmentCourse
from portal.treatment.queries import scale_progress, session_scores
from portal.triage.forms import DECLINE_REASONS

if TYPE_CHECKING:
    from portal.auth.models import User


@cache
def page_loads() -> tuple[LoaderOption, ...]:
    """What the page shows beyond the referral's own rows (portal.referrals.queries.core_loads):
    pass as `options` to get_referral_or_404, so the page costs a constant number of queries.
    Built at the first page, not at import (a loader option configures every mapper)."""
    return (
        selectinload(Referral.letters).joinedload(Letter.signed_by),
        joinedload(Referral.course).selectinload(TreatmentCourse.sessions),
        joinedload(Referral.course).joinedload(TreatmentCourse.clinician),
    )


# The referral's own actions the page offers (portal.referrals.permissions).
REFERRAL_ACTIONS = ("edit_intake", "open", "accept", "ask", "decline", "answer", "cancel")


def offered_actions(user: User, referral: Referral) -> dict[str, bool]:
    """The page's `can_<action>` flags, each answered by the feature that owns the action."""
    return {
        **{f"can_{a}": referrals.can(user, referral, a) for a in REFERRAL_ACTIONS},
        "can_attach": attachments.can_attach(user, referral),
        "can_message": messages.can(user, referral, "post"),
        **{f"can_{a}": page_permissions.can(user, referral, a) for a in page_permissions.ACTIONS},
    }


def referral_page_context(referral: Referral, user: User) -> dict:
    """Everything the referral page shows `user`: the referral (loaded with page_loads()), what
    each feature added to it, and the actions offered."""
    return {
        "referral": referral,
        "baselines": [a for a in referral.assessments if a.is_baseline],
        "attachments": attachments_of(referral),
        "messages": thread(referral),
        "message_form": MessageForm(formdata=None),
        "progress": scale_progress(referral),
        "session_scores": session_scores(referral),
        "letters": sorted(referral.letters, key=lambda letter: (-letter.version, -letter.id)),
        "open_question": _open_question(referral),
        "decline_reasons": DECLINE_REASONS,
        "letter_kinds_to_start": startable_kinds(user, referral),
        "upcoming_visits": upcoming_visits(referral),
        **offered_actions(user, referral),
    }


def intake_view(referral: Referral) -> dict:
    """The intake with its codes turned into words, for the read-only intake partial."""
    doc = referral.intake or {}
    trials = [
        {**t, "outcome_label": TRIAL_OUTCOME_LABELS.get(t.get("outcome"), t.get("outcome"))}
        for t in doc.get("trials", [])
    ]
    medications = [
        {**m, "class_label": MED_CLASS_LABELS.get(m.get("drug_class", ""), "")}
        for m in doc.get("medications", [])
    ]
    answers = doc.get("screening", {})
    screening = [
        {
            "question": question,
            "yes": bool(answers.get(key)),
            "not_asked": key in answers and answers[key] is None,
            "details": answers.get(f"{key}_details", ""),
        }
        for key, question, _ in SCREENING_QUESTIONS
    ]
    return {
        **doc,
        "trials": trials,
        "medications": medications,
        "screening_answers": screening,
        "diagnosis_lines": [
            diagnosis_text(code, other_diagnosis_of(doc))
            for code in (doc.get("clinical") or {}).get("diagnoses") or []
        ],
        "failed_trials": len(failed_drugs(doc.get("trials", []))),
    }


def latest_answer(referral: Referral) -> dict | None:
    """The referrer's latest answer to a clinic's question, with that question."""
    question = None
    answer = None
    for event in referral.events:
        if event.to_state == State.NEEDS_INFO:
            question = event
        elif event.from_state == State.NEEDS_INFO and event.to_state == State.IN_REVIEW:
            answer = {"question": question.reason if question else "", "event": event}
    return answer


def _open_question(referral: Referral) -> str:
    """The clinic's question while the referral waits for the referrer."""
    if referral.state != State.NEEDS_INFO:
        return ""
    asked = [e for e in referral.events if e.to_state == State.NEEDS_INFO]
    return asked[-1].reason if asked else ""
