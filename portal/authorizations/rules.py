"""The rules of a prior authorization, over plain values (pure): statuses, the billing codes,
and what to warn about (dates or units running short for the sessions booked)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

STATUSES: list[tuple[str, str]] = [
    ("not_needed", "Not needed"),
    ("to_submit", "To submit"),
    ("submitted", "Submitted"),
    ("approved", "Approved"),
    ("denied", "Denied"),
    ("appeal", "Appeal"),
]
STATUS_LABELS = dict(STATUSES)
# DOMAIN.md: esketamine nasal spray HCPCS S0013 per 1 mg (56 mg = 56 units); the observation
# visit G2082 up to 56 mg (2 hours' observation included), G2083 above 56 mg.
DRUG_CODE = "S0013"
OBSERVATION_UP_TO_56 = "G2082"
OBSERVATION_ABOVE_56 = "G2083"
DOSES_MG = (56, 84)
EXPIRY_WARNING_DAYS = 14


def observation_code(dose_mg: int) -> str:
    return OBSERVATION_UP_TO_56 if dose_mg <= 56 else OBSERVATION_ABOVE_56


@dataclass(frozen=True)
class AuthorizationFacts:
    """What the warnings need: the authorization as recorded, what was used, what is booked."""

    status: str
    starts_on: date | None
    ends_on: date | None
    approved_units: int | None  # mg of S0013
    approved_visits: int | None  # observation visits (G2082/G2083)
    dose_mg: int  # the planned dose per session, for the units the booked sessions need
    used_units: int = 0  # mg given in documented sessions inside the span
    used_visits: int = 0
    booked: tuple[date, ...] = ()  # booked visits from today on


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def warnings(facts: AuthorizationFacts, today: date) -> list[str]:
    """What a coordinator should act on, in words; empty when all is covered."""
    found: list[str] = []
    if facts.status == "not_needed":
        return found
    if facts.status != "approved":
        if facts.booked:
            found.append(
                f"{_plural(len(facts.booked), 'session')} booked while the authorization is "
                f"{STATUS_LABELS.get(facts.status, facts.status).lower()}."
            )
        return found
    if facts.ends_on is not None:
        left = (facts.ends_on - today).days
        if left < 0:
            found.append(f"The authorization ended on {facts.ends_on.isoformat()}.")
        elif left <= EXPIRY_WARNING_DAYS:
            found.append(
                f"The authorization ends on {facts.ends_on.isoformat()}, in "
                f"{_plural(left, 'day')}: ask for a re-authorization."
            )
        outside = [
            d
            for d in facts.booked
            if d > facts.ends_on or (facts.starts_on is not None and d < facts.starts_on)
        ]
        if outside:
            found.append(
                f"{_plural(len(outside), 'booked session')} fall outside the authorized dates "
                f"({_span(facts)}), the first on {outside[0].isoformat()}."
            )
    if facts.approved_units is not None:
        left_units = facts.approved_units - facts.used_units
        needed = len(facts.booked) * facts.dose_mg
        if left_units < needed:
            found.append(
                f"{left_units} units of {DRUG_CODE} left (mg); the "
                f"{_plural(len(facts.booked), 'booked session')} at {facts.dose_mg} mg need "
                f"{needed}."
            )
    if facts.approved_visits is not None:
        left_visits = facts.approved_visits - facts.used_visits
        if left_visits < len(facts.booked):
            found.append(
                f"{_plural(left_visits, 'observation visit')} "
                f"({observation_code(facts.dose_mg)}) left for "
                f"{_plural(len(facts.booked), 'booked session')}."
            )
    return found


def _span(facts: AuthorizationFacts) -> str:
    start = facts.starts_on.isoformat() if facts.starts_on else "..."
    return f"{start} to {facts.ends_on.isoformat() if facts.ends_on else '...'}"


def expiring_by(today: date) -> date:
    """Authorizations ending on or before this day are flagged in the queue."""
    return today + timedelta(days=EXPIRY_WARNING_DAYS)
