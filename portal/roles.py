"""The four roles of the portal, declared once. Pure module: no database, no Flask."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    REFERRER = "referrer"
    COORDINATOR = "coordinator"
    CLINICIAN = "clinician"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.REFERRER: "Referring provider",
    Role.COORDINATOR: "Coordinator",
    Role.CLINICIAN: "Clinician",
    Role.ADMIN: "Administrator",
}
# The clinic's own people: everyone but the referring providers.
CLINIC_ROLES = frozenset({Role.COORDINATOR, Role.CLINICIAN, Role.ADMIN})
