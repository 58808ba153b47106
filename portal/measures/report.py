"""The one-page Referral outcomes report of a referring practice for a quarter, as a PDF the
clinic can send to its referrers: the practice's figures beside the clinic's, small numbers
hidden, signed by nobody."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask import abort

from portal.audit.service import record
from portal.clinics.models import Clinic, Practice
from portal.clock import clinic_today, clinic_zone
from portal.errors import Invalid
from portal.extensions import db
from portal.letters.pdf import RenderedPdf, render_pdf
from portal.measures.page import referring_practices, side_by_side, summary
from portal.measures.scope import Scope

QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        if self.number == 4:
            return date(self.year, 12, 31)
        return date(self.year, 3 * self.number + 1, 1) - timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.year}-Q{self.number}"


def parse_quarter(text: str) -> Quarter:
    match = QUARTER.match(text or "")
    if not match:
        raise Invalid("Choose a quarter such as 2026-Q3.", field="quarter")
    return Quarter(int(match.group(1)), int(match.group(2)))


def recent_quarters(today: date, count: int = 8) -> list[Quarter]:
    """The current quarter and the ones before it, newest first."""
    year, number = today.year, (today.month - 1) // 3 + 1
    quarters = []
    for _ in range(count):
        quarters.append(Quarter(year, number))
        year, number = (year - 1, 4) if number == 1 else (year, number - 1)
    return quarters


def practice_report(clinic_id: int, practice_id: int, quarter: Quarter, *, actor) -> RenderedPdf:
    """The report PDF; 404 for a practice that never referred to the clinic."""
    if practice_id not in dict(referring_practices(clinic_id)):
        record("measures.report", "practice", practice_id, actor=actor, outcome="denied")
        abort(404)
    today = clinic_today()
    clinic_scope = Scope(
        clinic_id=clinic_id, start=quarter.start, end=quarter.end, today=today, zone=clinic_zone()
    )
    clinic = db.session.get(Clinic, clinic_id)
    practice = db.session.get(Practice, practice_id)
    theirs = summary(clinic_scope.narrowed(practice_id=practice_id, slot=1))
    everyone = summary(clinic_scope)
    record("measures.report", "practice", practice_id, actor=actor, detail=quarter.label)
    return render_pdf(
        "measures/pdf/report.html",
        {
            "clinic": clinic,
            "practice": practice,
            "quarter": quarter,
            "rows": [(label, *cells) for label, cells in side_by_side([theirs, everyone])],
            "issued_on": today,
            "partial": quarter.end > today,
        },
    )
