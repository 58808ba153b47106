"""What happened in the range, visit by visit: no-shows and late cancellations per treatment,
REMS forms submitted within 7 days (and the late ones), adverse events per 100 sessions."""

from __future__ import annotations

from sqlalchemy import Integer, Text, case, cast, func, select

from portal.clinical_limits import REMS_DEADLINE_DAYS
from portal.extensions import db
from portal.measures.cohort import filters
from portal.measures.models import ReferralMilestone
from portal.measures.scope import Scope
from portal.measures.sql import number_of
from portal.measures.suppression import Cell, share_cells, small, statistic_cell
from portal.measures.tables import Table
from portal.referrals.models import Referral, referral_number
from portal.referrals.vocab import MODALITY_SHORT, TREATMENT_MODALITIES
from portal.scheduling.models import Appointment, AppointmentStatus
from portal.treatment.models import TreatmentCourse, TreatmentSession

# A cancellation on the day of the visit or the day before counts as late. DOMAIN.md names the
# rate but not the notice; one day is the portal's choice, stated on the page.
LATE_CANCEL_DAYS = 1
SPRAVATO = "spravato"


def _last_day(scope: Scope):
    return min(scope.end, scope.today)


def _of_referrals(stmt, scope: Scope, referral_id):
    """Narrowed to the scope's filters: joined to the referral (and its course) only when a
    filter needs it (the clinic's own rows are found without)."""
    if not scope.narrow:
        return stmt
    return (
        stmt.join(Referral, Referral.id == referral_id)
        .outerjoin(TreatmentCourse, TreatmentCourse.referral_id == Referral.id)
        .where(*scope.referral_conditions())
    )


def visits_query(scope: Scope):
    """Per treatment: visits due, no-shows and late cancellations, and the patients of each,
    summed per referral (a referral is one patient's) first, then per treatment."""
    cal = scope.calendar
    day = cal.date_day(Appointment.day)
    cancelled = Appointment.status == AppointmentStatus.CANCELLED
    late = cancelled & (cal.moment_day(Appointment.updated_at) >= day - LATE_CANCEL_DAYS)
    no_show = Appointment.status == AppointmentStatus.NO_SHOW
    counted = ~cancelled | late  # a visit cancelled in good time was never due
    stmt = (
        select(
            Appointment.modality,
            Appointment.referral_id,
            cast(func.sum(case((counted, 1), else_=0)), Integer).label("visits"),
            cast(func.sum(case((no_show, 1), else_=0)), Integer).label("no_shows"),
            cast(func.sum(case((late, 1), else_=0)), Integer).label("late"),
        )
        .where(
            Appointment.clinic_id == scope.clinic_id,
            Appointment.day >= scope.start,
            Appointment.day <= _last_day(scope),
        )
        .group_by(Appointment.modality, Appointment.referral_id)
    )
    p = _of_referrals(stmt, scope, Appointment.referral_id).subquery("per_referral")
    return select(
        p.c.modality,
        func.sum(p.c.visits).label("visits"),
        func.sum(case((p.c.visits > 0, 1), else_=0)).label("patients"),
        func.sum(p.c.no_shows).label("no_shows"),
        func.sum(case((p.c.no_shows > 0, 1), else_=0)).label("no_show_patients"),
        func.sum(p.c.late).label("late"),
        func.sum(case((p.c.late > 0, 1), else_=0)).label("late_patients"),
    ).group_by(p.c.modality)


def _rate(events: int, event_patients: int, visits: int, patients: int) -> Cell:
    hidden = small(patients) or small(event_patients)
    return Cell(100.0 * events / visits if visits else None, hidden, "%", 1)


def visits_table(scope: Scope) -> Table:
    found = {row.modality: row for row in db.session.execute(visits_query(scope))}
    rows = []
    for code, _ in TREATMENT_MODALITIES:
        r = found.get(code)
        visits, patients = (int(r.visits or 0), int(r.patients)) if r else (0, 0)
        no_shows, ns_patients = (int(r.no_shows or 0), int(r.no_show_patients)) if r else (0, 0)
        late, late_patients = (int(r.late or 0), int(r.late_patients)) if r else (0, 0)
        rows.append(
            [
                MODALITY_SHORT[code],
                Cell(visits, small(patients)),
                Cell(patients, small(patients)),
                _rate(no_shows, ns_patients, visits, patients),
                _rate(late, late_patients, visits, patients),
            ]
        )
    return Table(
        key="visits",
        title="No-shows and late cancellations, per treatment",
        columns=["Treatment", "Visits due", "Patients", "No-show rate", "Late-cancellation rate"],
        rows=rows,
        note=(
            "Visits booked for a day in the range, up to today. A cancellation on the visit's "
            "day or the day before is late; a visit cancelled earlier was never due."
        ),
    )


def _rems_parts(scope: Scope):
    """A SPRAVATO session's REMS form submitted in time, and due (submitted, or its 7 days
    over)."""
    cal = scope.calendar
    day = cal.date_day(TreatmentSession.session_date)
    submitted = cal.date_day(TreatmentSession.rems_submitted_on)
    in_time = TreatmentSession.rems_submitted_on.is_not(None) & (
        submitted - day <= REMS_DEADLINE_DAYS
    )
    due = TreatmentSession.rems_submitted_on.is_not(None) | (
        day + REMS_DEADLINE_DAYS < number_of(scope.today)
    )
    return in_time, due


def _sessions_of_scope(*columns):
    return (
        select(*columns)
        .join(TreatmentCourse, TreatmentCourse.id == TreatmentSession.course_id)
        .join(Referral, Referral.id == TreatmentCourse.referral_id)
    )


def _in_range(scope: Scope) -> list:
    return [
        TreatmentSession.session_date >= scope.start,
        TreatmentSession.session_date <= _last_day(scope),
        *scope.referral_conditions(),
    ]


def sessions_query(scope: Scope):
    """Per treatment, from one reading of the range's sessions: sessions, patients, adverse
    events (and the patients with one), serious ones; and the REMS forms due, in time, late
    and their patients (SPRAVATO's row; the other treatments have no REMS form).

    Per patient through each course's referral_milestone row (its clinic, patient and the
    scope's filters; only the courses with a session on or after the range's first day, read
    from an index), then per treatment: a patient counted is a group of that sum, not a
    distinct count. The whole clinic's sessions are summed per course first (the date index
    alone, no join: one row per course to join and sum again); a narrower scope's are joined to
    its few courses first, so that only theirs are summed."""
    listed = TreatmentSession.adverse_events
    # Most sessions have none: their empty list is told from its text, not parsed.
    events = case(
        (cast(listed, Text) == "[]", 0),
        else_=cast(func.coalesce(func.json_array_length(listed), 0), Integer),
    )
    serious = TreatmentSession.serious_adverse_events.is_(True)
    in_time, due = _rems_parts(scope)
    # Integers, not PostgreSQL's sum of bigints (numeric, slow to add up again).
    figures = [
        cast(func.count(), Integer).label("sessions"),
        cast(func.sum(events), Integer).label("events"),
        cast(func.sum(case((serious, 1), else_=0)), Integer).label("serious"),
        cast(func.sum(case((due, 1), else_=0)), Integer).label("rems_due"),
        cast(func.sum(case((due & in_time, 1), else_=0)), Integer).label("rems_in_time"),
    ]
    in_range = [
        TreatmentSession.session_date >= scope.start,
        TreatmentSession.session_date <= _last_day(scope),
    ]
    m = ReferralMilestone.__table__.c
    # The last condition is implied by the join (a session in the range is on or before its
    # course's latest); it narrows the courses read to those active in the range.
    courses = [*filters(scope), m.last_session_on >= scope.start]
    if scope.narrow:
        per_patient = (
            select(TreatmentSession.modality, m.patient_id, *figures)
            .join(ReferralMilestone, m.course_id == TreatmentSession.course_id)
            .where(*in_range, *courses)
            .group_by(TreatmentSession.modality, m.patient_id)
            .subquery("per_patient")
        )
    else:
        per_course = (
            select(TreatmentSession.modality, TreatmentSession.course_id, *figures)
            .where(*in_range)
            .group_by(TreatmentSession.modality, TreatmentSession.course_id)
            .subquery("per_course")
        )
        c = per_course.c
        per_patient = (
            select(
                c.modality,
                m.patient_id,
                *[cast(func.sum(c[f.name]), Integer).label(f.name) for f in figures],
            )
            .join(ReferralMilestone, m.course_id == c.course_id)
            .where(*courses)
            .group_by(c.modality, m.patient_id)
            .subquery("per_patient")
        )
    p = per_patient.c
    known = p.patient_id.is_not(None)

    def patients(condition=None):
        counted = known if condition is None else known & condition
        return func.sum(case((counted, 1), else_=0))

    return select(
        p.modality,
        func.sum(p.sessions).label("sessions"),
        patients().label("patients"),
        func.sum(p.events).label("events"),
        patients(p.events > 0).label("ae_patients"),
        func.sum(p.serious).label("serious"),
        patients(p.serious > 0).label("sae_patients"),
        func.sum(p.rems_due).label("rems_due"),
        func.sum(p.rems_in_time).label("rems_in_time"),
        (func.sum(p.rems_due) - func.sum(p.rems_in_time)).label("rems_late"),
        patients(p.rems_due > 0).label("rems_patients"),
    ).group_by(p.modality)


def session_figures(scope: Scope) -> dict:
    """sessions_query's rows by treatment code."""
    return {row.modality: row for row in db.session.execute(sessions_query(scope))}


def rems_table(scope: Scope, found: dict | None = None) -> Table:
    row = (session_figures(scope) if found is None else found).get(SPRAVATO)
    forms, within, patients = (
        (int(row.rems_due or 0), int(row.rems_in_time or 0), int(row.rems_patients or 0))
        if row
        else (0, 0, 0)
    )
    count, percent = share_cells(within, forms)
    if small(patients):
        count, percent = Cell(within, True), Cell(None, True, "%")
    return Table(
        key="rems",
        title="SPRAVATO REMS forms submitted within 7 days",
        columns=["Forms due", "Submitted within 7 days", "Share within 7 days"],
        rows=[[Cell(forms, small(patients)), count, percent]],
        note="Forms of SPRAVATO sessions in the range: submitted, or past their 7 days.",
    )


REMS_LATE_ON_PAGE = 100


def rems_late_table(
    scope: Scope, limit: int | None = REMS_LATE_ON_PAGE, found: dict | None = None
) -> Table:
    """The late forms, for the clinic to chase: each a session staff can open. The page shows
    the first `limit` (the CSV all of them); how many there are in all comes from the
    sessions' figures."""
    in_time, due = _rems_parts(scope)
    query = (
        _sessions_of_scope(
            TreatmentSession.id,
            TreatmentCourse.referral_id,
            TreatmentSession.session_date,
            TreatmentSession.rems_submitted_on,
        )
        .where(TreatmentSession.modality == SPRAVATO, *_in_range(scope), due, ~in_time)
        .order_by(TreatmentSession.session_date, TreatmentSession.id)
    )
    rows = db.session.execute(query.limit(limit) if limit else query).all()
    total = len(rows)
    if limit and len(rows) == limit:
        spravato = (session_figures(scope) if found is None else found).get(SPRAVATO)
        total = int(spravato.rems_late or 0) if spravato else total
    return Table(
        key="rems-late",
        title="Late REMS forms",
        columns=["Referral", "Session date", "Submitted on", "Days after the session"],
        rows=[
            [
                referral_number(r.referral_id),
                r.session_date.isoformat(),
                r.rems_submitted_on.isoformat() if r.rems_submitted_on else "not submitted",
                str(((r.rems_submitted_on or scope.today) - r.session_date).days),
            ]
            for r in rows
        ],
        more=max(0, total - len(rows)),
        extra={"session_ids": [r.id for r in rows]},
    )


def adverse_events_table(scope: Scope, found: dict | None = None) -> Table:
    found = session_figures(scope) if found is None else found
    rows = []
    for code, _ in TREATMENT_MODALITIES:
        r = found.get(code)
        sessions, patients = (int(r.sessions), int(r.patients)) if r else (0, 0)
        per_100 = 100.0 * int(r.events or 0) / sessions if r and sessions else None
        serious_100 = 100.0 * int(r.serious or 0) / sessions if r and sessions else None
        rows.append(
            [
                MODALITY_SHORT[code],
                Cell(sessions, small(patients)),
                Cell(patients, small(patients)),
                statistic_cell(per_100, min(patients, r.ae_patients if r else 0), digits=1),
                statistic_cell(serious_100, min(patients, r.sae_patients if r else 0), digits=1),
            ]
        )
    return Table(
        key="adverse-events",
        title="Adverse events per 100 sessions, per treatment",
        columns=[
            "Treatment",
            "Sessions",
            "Patients",
            "Adverse events per 100 sessions",
            "Serious adverse events per 100 sessions",
        ],
        rows=rows,
        note="Sessions documented on a day in the range; each adverse event recorded counts.",
    )
