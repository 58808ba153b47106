"""The domain errors services raise and views turn into messages. Pure module.

A service refuses with one of these; a view catches `DomainError` (never a bare ValueError)
and shows `str(error)`, which is always written for the person using the portal. `Invalid`
names the form field it belongs to, so a view can put the message at that field."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the portal refused the change; the message is meant for the user."""

    status = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class Invalid(DomainError):
    """What was typed cannot be accepted; `field` names the form field it belongs to."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotAllowed(DomainError):
    """This user may not do this to this object (views usually answer 404 instead)."""

    status = 403


class Conflict(DomainError):
    """The object changed under the user, or the action was already done."""

    status = 409
