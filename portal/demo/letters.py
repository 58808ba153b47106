"""The demo's letters, made through the real services: an acknowledgement for every referral,
an acceptance and an interim letter for a course in treatment, a treatment summary
corrected once (version 1 superseded by version 2); a decline letter for a declined one."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from portal.letters.issuing import issue
from portal.letters.models import ACCEPTANCE, DECLINE, INTERIM, SUMMARY
from portal.letters.service import (
    acknowledge_referral,
    mark_downloaded,
    prefill,
    save_draft,
    sign_letter,
    start_correction,
    start_draft,
)
from portal.referrals.states import State

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral

ALTERNATIVES = (
    "Transcranial magnetic stimulation (TMS) at a centre closer to the patient's home.\n\n"
    "A review of the antidepressant regimen with augmentation (for example lithium or an "
    "atypical antipsychotic), and evidence-based psychotherapy alongside."
)
RECOMMENDATIONS = (
    "Maintenance: one SPRAVATO or IV ketamine treatment every two to four weeks for three "
    "months, then review. We will book these and write after each block of three.\n\n"
    "Please continue the current antidepressant and psychotherapy, repeat a PHQ-9 at the next "
    "visit, and contact us if item 9 rises above 0."
)


def _issue(referral: Referral, kind: str, clinician: User, password: str, text: str, recs: str):
    letter = start_draft(referral, kind, actor=clinician)
    save_draft(letter, actor=clinician, narrative=text, recommendations=recs)
    return issued(sign_letter(letter, actor=clinician, password=password))


def issued(letter):
    """The demo's letters are rendered at once (no worker needs to run for them)."""
    issue(letter)
    return letter


def seed_letters(referrals: list[Referral], clinician: User, password: str, narrative) -> None:
    """`narrative(referral)` writes the summary paragraph of a completed course."""
    for referral in referrals:
        acknowledge_referral(referral, at=referral.submitted_at)
    completed = [r for r in referrals if r.state == State.COMPLETED]
    declined = [r for r in referrals if r.state == State.DECLINED]
    treating = [r for r in referrals if r.state == State.IN_TREATMENT and r.course.sessions]
    if treating:
        referral = treating[0]
        acceptance = _issue(referral, ACCEPTANCE, clinician, password, "", "")
        interim = _issue(
            referral,
            INTERIM,
            clinician,
            password,
            "The patient is tolerating treatment well and reports better sleep and energy.",
            "The series continues as planned; no change to current medication is needed.",
        )
        # Signed a while ago and never opened: the clinic's "Unopened letters" list shows them.
        acceptance.created_at -= timedelta(days=12)
        interim.created_at -= timedelta(days=6)
    if completed:
        referral = completed[0]
        first = _issue(referral, SUMMARY, clinician, password, narrative(referral), "")
        correction = start_correction(first, actor=clinician)
        save_draft(
            correction,
            actor=clinician,
            narrative=narrative(referral),
            recommendations=RECOMMENDATIONS,
        )
        issued(sign_letter(correction, actor=clinician, password=password))
        mark_downloaded(correction, actor=referral.referrer)  # "opened by ... on ..."
    if declined:
        _issue(
            declined[0],
            DECLINE,
            clinician,
            password,
            prefill(declined[0], DECLINE)[0]
            or "The referral does not meet the clinic's criteria for treatment.",
            ALTERNATIVES,
        )
