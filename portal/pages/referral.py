"""What the referral page shows, and which actions it offers to whom."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.attachments.service import CLOSED
from portal.letters.service import startable_kinds
from portal.referrals.intake_forms import TRIAL_OUTCOME_LABELS
from portal.referrals.permissions import can_act, can_document
from portal.referrals.screening import (
    MED_CLASS_LABELS,
    SCREENING_QUESTIONS,
    failed_drugs,
)
from portal.referrals.states import State, allowed_targets
from portal.treatment.queries import scale_progress, session_scores
from portal.triage.forms import DECLINE_REASONS

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral


def referral_page_context(referral: Referral, user: User) -> dict:
    from portal.attachments.service import attachments_of
    from portal.messages.forms import MessageForm
    from portal.messages.service import thread

    targets = set(allowed_targets(referral.state, user.role))
    staff = user.is_clinic_staff
    return {
        "referral": referral,
        "baselines": [a for a in referral.assessments if a.is_baseline],
        "attachments": attachments_of(referral),
        "messages": thread(referral),
        "message_form": MessageForm(formdata=None),
        "can_message": can_act(user, referral),
        "can_attach": can_act(user, referral) and referral.state not in CLOSED,
        "can_edit_intake": user.is_referrer
        and can_act(user, referral)
        and referral.state in (State.DRAFT, State.NEEDS_INFO),
        "progress": scale_progress(referral),
        "session_scores": session_scores(referral),
        "letters": sorted(referral.letters, key=lambda letter: (-letter.version, -letter.id)),
        "can_open": staff and State.IN_REVIEW in targets and referral.state == State.SUBMITTED,
        "can_accept": staff and State.ACCEPTED in targets,
        "can_ask": staff and State.NEEDS_INFO in targets,
        "can_decline": staff and State.DECLINED in targets,
        "can_answer": user.is_referrer
        and can_act(user, referral)
        and referral.state == State.NEEDS_INFO,
        "can_cancel": State.CANCELLED in targets and can_act(user, referral),
        "can_document": can_document(user, referral)
        and referral.course is not None
        and referral.state in (State.ACCEPTED, State.SCHEDULED, State.IN_TREATMENT),
        "can_complete": State.COMPLETED in targets
        and bool(referral.course and referral.course.sessions),
        "can_write_letter": can_document(user, referral)
        and referral.course is not None
        and bool(referral.course.sessions),
        "open_question": _open_question(referral),
        # Coordinators (issue 4): the screening page and the series' appointments.
        "can_screen": staff,
        "can_schedule": staff
        and referral.course is not None
        and referral.state in (State.ACCEPTED, State.SCHEDULED, State.IN_TREATMENT),
        "decline_reasons": DECLINE_REASONS,
        "letter_kinds_to_start": startable_kinds(user, referral),
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
            "details": answers.get(f"{key}_details", ""),
        }
        for key, question, _ in SCREENING_QUESTIONS
    ]
    return {
        **doc,
        "trials": trials,
        "medications": medications,
        "screening_answers": screening,
        "failed_trials": len(failed_drugs(doc.get("trials", []))),
    }


def _open_question(referral: Referral) -> str:
    """The clinic's question while the referral waits for the referrer."""
    if referral.state != State.NEEDS_INFO:
        return ""
    asked = [e for e in referral.events if e.to_state == State.NEEDS_INFO]
    return asked[-1].reason if asked else ""
