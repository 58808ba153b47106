"""What treatment's services refuse, as the portal's domain errors (portal.errors). Pure module.

Each message is written for the clinician or coordinator; views catch `DomainError` and show it.
"""

from __future__ import annotations

from portal.clinical_limits import DOSE_RANGE_TEXT
from portal.errors import Conflict, DomainError, Invalid


class DoseNeedsConfirmation(Invalid):
    """An IV dose outside the published range was not confirmed by the clinician."""

    def __init__(self) -> None:
        super().__init__(
            f"The dose is outside {DOSE_RANGE_TEXT} and was not confirmed; nothing was saved.",
            field="dose_confirmed",
        )


class NotInCare(Conflict):
    """Sessions are documented only while the referral is accepted or in treatment."""


class CourseRefused(DomainError):
    """The course cannot be completed as it stands."""


class AlreadyRecorded(Conflict):
    """A signed session, or a scale already recorded with a session, is not changed again."""


class SigningRefused(DomainError):
    """The session cannot be signed or amended as it stands; the message says what to do."""


class AlertAlreadyReviewed(Conflict):
    """Someone recorded the safety alert's review first."""


class RemsRefused(DomainError):
    """The session has no REMS monitoring form to print or record (yet)."""
