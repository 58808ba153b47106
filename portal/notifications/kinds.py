"""The kinds of notification: who is told, in what words, and whether the person may choose.
Pure module. Every sentence here is PHI-free by construction: it names what kind of thing
happened and the referral number, never a patient, a diagnosis, a medication, a score or a
treatment (DOMAIN.md, "Notifications without PHI")."""

from __future__ import annotations

from dataclasses import dataclass

from portal.roles import Role

IMMEDIATELY = "immediately"
DIGEST = "digest"
PORTAL_ONLY = "portal"
MODES = {
    IMMEDIATELY: "Email me immediately",
    DIGEST: "Daily digest email",
    PORTAL_ONLY: "In the portal only",
}


@dataclass(frozen=True)
class Kind:
    code: str
    roles: frozenset[Role]
    label: str  # on the preferences page
    sentence: str  # "{number}" is the referral number; "{extra}" an optional tail
    action: str  # what the link invites to do
    mandatory: bool = False  # always emailed at once, cannot be turned off

    def text(self, number: str = "", extra: str = "") -> str:
        return self.sentence.format(number=number, extra=extra)


REFERRER = frozenset({Role.REFERRER})
COORDINATOR = frozenset({Role.COORDINATOR})
CLINICIAN = frozenset({Role.CLINICIAN})
ADMIN = frozenset({Role.ADMIN})
BOTH_SIDES = frozenset({Role.REFERRER, Role.COORDINATOR})

KINDS: dict[str, Kind] = {
    k.code: k
    for k in (
        # The referring provider.
        Kind(
            "referral_received",
            REFERRER,
            "A referral was received",
            "The clinic received referral {number}.",
            "See it",
        ),
        Kind(
            "question",
            REFERRER,
            "A question from the clinic",
            "A question from the clinic about referral {number}.",
            "Read and answer it",
        ),
        Kind(
            "accepted",
            REFERRER,
            "A referral was accepted",
            "Referral {number} was accepted.{extra}",
            "See it",
        ),
        Kind(
            "declined",
            REFERRER,
            "A referral was declined",
            "Referral {number} was declined.",
            "Read the reason",
        ),
        Kind(
            "scheduled",
            REFERRER,
            "Appointments booked or changed",
            "Appointments for referral {number} were {extra}.",
            "See the dates",
        ),
        Kind(
            "course_ended",
            REFERRER,
            "A course ended",
            "The course for referral {number} has ended.",
            "See it",
        ),
        Kind(
            "letter_ready",
            REFERRER,
            "A letter is ready",
            "A letter about referral {number} is ready.",
            "Read it",
        ),
        Kind(
            "message",
            BOTH_SIDES,
            "A new message",
            "A new message about referral {number}.",
            "Read it",
        ),
        # The clinic's coordinators.
        Kind(
            "new_referral",
            COORDINATOR,
            "A new referral",
            "New referral {number} was sent to the clinic.",
            "Open it",
        ),
        Kind(
            "answer",
            COORDINATOR,
            "An answer from the referrer",
            "The referring provider answered the question on referral {number}.",
            "Read the answer",
        ),
        Kind(
            "near_overdue",
            COORDINATOR,
            "A first decision nearly overdue",
            "Referral {number} is one business day from its first-decision deadline.",
            "Open it",
        ),
        # Clinicians.
        Kind(
            "safety_alert",
            CLINICIAN,
            "A safety alert",
            "A safety alert on referral {number} needs a clinician's review.",
            "Review it",
            mandatory=True,
        ),
        Kind(
            "form_due",
            CLINICIAN,
            "A monitoring form near its deadline",
            "A session monitoring form for referral {number} is due in two days.",
            "Open the forms",
        ),
        Kind(
            "letter_to_sign",
            CLINICIAN,
            "A letter waiting for signature",
            "A letter about referral {number} is waiting for your signature.",
            "Review and sign it",
        ),
        # Administrators.
        Kind(
            "account_request",
            ADMIN,
            "A new account request",
            "A referring provider asked for an account.",
            "Review the request",
        ),
        Kind(
            "delivery_failed",
            ADMIN,
            "An email that could not be delivered",
            "An email could not be delivered after every try.",
            "See the deliveries",
        ),
    )
}


def kinds_for(role: Role) -> list[Kind]:
    """The kinds a person of `role` may be told of, in the order above."""
    return [kind for kind in KINDS.values() if role in kind.roles]


def default_mode(kind: Kind) -> str:
    return IMMEDIATELY
