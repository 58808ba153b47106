"""What the letters' services refuse, as the portal's domain errors (portal.errors). Pure module."""

from __future__ import annotations

from portal.errors import NotAllowed


class LetterNotAllowed(NotAllowed):
    """The letter cannot be drafted, signed or corrected now, or by this user."""


class SignerNotConfirmed(LetterNotAllowed):
    """The password typed with the signature was wrong (or the account is locked). Raised
    before anything changes, so the failed attempt itself can be kept."""
