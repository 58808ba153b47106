"""What happened in the range, visit by visit: no-shows and late cancellations per treatment,
REMS forms submitted within 7 days (and the late ones), adverse events per 100 sessions."""

from __future__ import annotations

from sqlalchemy import Integer, case, cast, distinct, func, select

from portal.clinical_limits import REMS_DEADLINE_DAYS
from portal.extensions import db
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
    cal = scope.calendar
    day = cal.date_day(Appointment.day)
    cancelled = Appointment.status == AppointmentStatus.CANCELLED
    late = cancelled & (cal.moment_day(Appointment.updated_at) >= day - LATE_CANCEL_DAYS)
    no_show = Appointment.status == AppointmentStatus.NO_SHOW
    counted = ~cancelled | late  # a visit cancelled in good time was never due
    patient = Appointment.referral_id  # a referral is one patient's
    stmt = (
        select(
            Appointment.modality,
            func.sum(case((counted, 1), else_=0)).label("visits"),
            func.count(distinct(case((counted, patient)))).label("patients"),
            func.sum(case((no_show, 1), else_=0)).label("no_shows"),
            func.count(distinct(case((no_show, patient)))).label("no_show_patients"),
            func.sum(case((late, 1), else_=0)).label("late"),
            func.count(distinct(case((late, patient)))).label("late_patients"),
        )
        .where(
            Appointment.clinic_id == scope.clinic_id,
            Appointment.day >= scope.start,
            Appointment.day <= _last_day(scope),
        )
        .group_by(Appointment.modality)
    )
    return _of_referrals(stmt, scope, Appointment.referral_id)


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
    cal = scope.calendar
    day = cal.date_day(TreatmentSession.session_date)
    submitted = cal.date_day(TreatmentSession.rems_submitted_on)
    in_time = TreatmentSession.rems_submitted_on.is_not(None) & (
        submitted - day <= REMS_DEADLINE_DAYS
    )
    due = TreatmentSession.rems_submitted_on.is_not(None) | (
        day + REMS_DEADLINE_DAYS < number_of(scope.today)
    )
    conditions = [
        TreatmentSession.modality == SPRAVATO,
        TreatmentSession.session_date >= scope.start,
        TreatmentSession.session_date <= _last_day(scope),
        *scope.referral_conditions(),
    ]
    return in_time, due, conditions


def _sessions_of_scope(*columns):
    return (
        select(*columns)
        .join(TreatmentCourse, TreatmentCourse.id == TreatmentSession.course_id)
        .join(Referral, Referral.id == TreatmentCourse.referral_id)
    )


def rems_table(scope: Scope) -> Table:
    in_time, due, conditions = _rems_parts(scope)
    row = db.session.execute(
        _sessions_of_scope(
            func.sum(case((due, 1), else_=0)).label("due"),
            func.sum(case((due & in_time, 1), else_=0)).label("in_time"),
            func.count(distinct(case((due, Referral.patient_id)))).label("patients"),
        ).where(*conditions)
    ).one()
    forms, within, patients = int(row.due or 0), int(row.in_time or 0), int(row.patients or 0)
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


def rems_late_table(scope: Scope) -> Table:
    """The late forms, for the clinic to chase: each a session staff can open."""
    in_time, due, conditions = _rems_parts(scope)
    rows = db.session.execute(
        _sessions_of_scope(
            TreatmentSession.id,
            TreatmentCourse.referral_id,
            TreatmentSession.session_date,
            TreatmentSession.rems_submitted_on,
        )
        .where(*conditions, due, ~in_time)
        .order_by(TreatmentSession.session_date, TreatmentSession.id)
    ).all()
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
        extra={"session_ids": [r.id for r in rows]},
    )


def adverse_events_table(scope: Scope) -> Table:
    events = func.coalesce(func.json_array_length(TreatmentSession.adverse_events), 0)
    with_event = events > 0
    serious = TreatmentSession.serious_adverse_events.is_(True)
    found = {
        row.modality: row
        for row in db.session.execute(
            _sessions_of_scope(
                TreatmentSession.modality,
                func.count().label("sessions"),
                func.count(distinct(Referral.patient_id)).label("patients"),
                func.sum(cast(events, Integer)).label("events"),
                func.count(distinct(case((with_event, Referral.patient_id)))).label("ae_patients"),
                func.sum(case((serious, 1), else_=0)).label("serious"),
                func.count(distinct(case((serious, Referral.patient_id)))).label("sae_patients"),
            )
            .where(
                TreatmentSession.session_date >= scope.start,
                TreatmentSession.session_date <= _last_day(scope),
                *scope.referral_conditions(),
            )
            .group_by(TreatmentSession.modality)
        )
    }
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
