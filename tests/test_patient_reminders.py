"""Appointment reminders to patients (issue 18, item 6), received by a real SMTP server: two
days ahead, once per appointment and time, none for a cancelled visit or an opted-out patient,
a fresh one for a moved visit, nothing clinical in them, and every step audited."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.clock import clinic_today
from portal.extensions import db
from portal.notifications.models import DISMISSED, OutboxMessage
from portal.notifications.patients import remind_patients
from portal.referrals.models import Referral
from portal.scheduling.service import cancel_appointment, move_appointment
from tests.conftest import page_text, post_form, signed_in
from tests.factories import accepted_referral
from tests.factories.scheduling import appointment_on, book, next_weekday
from tests.notification_helpers import deliver_all

PATIENT_EMAIL = "pat.example@mail.test"


def _referral(world, email: str = PATIENT_EMAIL):
    clinic = world.clinic
    clinic.address_line1, clinic.city = "12 Harbor Street", "Springfield"
    clinic.region, clinic.postal_code, clinic.phone = "IL", "62701", "555-0199"
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    intake = dict(referral.intake)
    intake["patient"] = {**intake["patient"], "email": email}
    referral.intake = intake
    db.session.flush()
    return referral


def _booked(world, referral, weekday: int = 2):
    """One visit booked through the scheduling service on the next `weekday`, and the day two
    days before it (when its reminder is due)."""
    day = next_weekday(weekday, clinic_today() + timedelta(days=3))
    appointment = book(referral, world.coordinator, [day])[0]
    db.session.commit()
    return appointment, day - timedelta(days=2)


def _audits(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_patient_receives_one_reminder_two_days_before_without_phi(app, world, mailbox):
    referral = _referral(world)
    appointment, due_on = _booked(world, referral)
    patient = referral.patient

    assert remind_patients(due_on - timedelta(days=1)) == 0  # three days ahead: not yet
    assert remind_patients(due_on) == 1
    db.session.commit()
    deliver_all()

    [mail] = mailbox.to(PATIENT_EMAIL)
    day = appointment.day
    stamp = f"{day:%A} {day.day} {day:%B %Y} at {appointment.start_time:%H:%M}"
    assert f"your appointment on {stamp}" in mail.body
    assert "12 Harbor Street" in mail.body
    assert "Springfield, IL 62701" in mail.body
    assert "must not drive until the next day" in mail.body
    assert "cannot be answered" in mail.body
    assert "555-0199" in mail.body
    assert referral.number in mail.body
    # Nothing that names the patient, the treatment, the diagnosis, or links into the portal.
    text = (mail.subject + "\n" + mail.body + "\n" + str(mail.message)).lower()
    for word in (
        patient.first_name,
        patient.last_name,
        f"{patient.date_of_birth:%Y-%m-%d}",
        referral.diagnosis_code,
        "ketamine",
        "spravato",
        "esketamine",
        "infusion",
        "depress",
        world.clinic.name,
        "sign in",
        "preferences",
    ):
        assert word.lower() not in text, word
    assert not mail.links

    # Later runs the same day and the next day send nothing more.
    assert remind_patients(due_on) == 0
    assert remind_patients(due_on + timedelta(days=1)) == 0
    db.session.commit()
    deliver_all()
    assert len(mailbox.to(PATIENT_EMAIL)) == 1
    [queued] = _audits("patient_reminder.queue")
    assert queued.object_type == "appointment"
    assert queued.object_id == appointment.id
    assert any(
        e.detail.startswith("patient_reminder by smtp") for e in _audits("notification.sent")
    )


def test_no_reminder_without_email_after_opt_out_or_for_a_cancelled_visit(app, world, mailbox):
    no_email = _referral(world, email="")
    _, due_on = _booked(world, no_email)
    opted = _referral(world, email="opted@mail.test")
    _booked(world, opted)
    # The coordinator records the patient's opt-out on the referral's schedule page.
    staff = signed_in(app, world.coordinator)
    page = f"/scheduling/referrals/{opted.id}"
    assert "Reminders to the patient" in page_text(staff.get(page).get_data(as_text=True))
    post_form(
        staff, f"{page}/reminders", {"version": opted.version, "opt_out": "y"}, token_from=page
    )
    shown = staff.get(page).get_data(as_text=True)
    assert 'name="opt_out" value="y" checked' in shown
    db.session.expire_all()
    assert db.session.get(Referral, opted.id).patient_reminders_opt_out
    # A stale form (the version before) changes nothing.
    post_form(staff, f"{page}/reminders", {"version": opted.version - 1}, token_from=page)
    db.session.expire_all()
    assert db.session.get(Referral, opted.id).patient_reminders_opt_out
    no_email_page = page_text(
        staff.get(f"/scheduling/referrals/{no_email.id}").get_data(as_text=True)
    )
    assert "no patient email: no reminder is sent" in no_email_page
    cancelled = _referral(world, email="cancelled@mail.test")
    visit, _ = _booked(world, cancelled)
    cancel_appointment(
        visit, "Patient unwell", actor=world.coordinator, expected_version=visit.version
    )
    db.session.commit()

    assert remind_patients(due_on) == 0
    db.session.commit()
    deliver_all()
    for address in ("opted@mail.test", "cancelled@mail.test"):
        assert mailbox.to(address) == []
    assert not [m for m in mailbox.received if "Appointment reminder" in m.subject]
    [opt_out] = _audits("patient_reminder.opt_out")
    assert opt_out.object_id == opted.id
    assert opt_out.actor_id == world.coordinator.id


def test_a_moved_visit_gets_a_fresh_reminder_and_a_waiting_one_is_withdrawn(app, world, mailbox):
    referral = _referral(world)
    appointment, due_on = _booked(world, referral)
    assert remind_patients(due_on) == 1
    db.session.commit()
    deliver_all()
    assert len(mailbox.to(PATIENT_EMAIL)) == 1

    # Moved a week later: reminded again two days before the new date, at the new time.
    new_day = appointment.day + timedelta(days=7)
    move_appointment(
        appointment, new_day, actor=world.coordinator, expected_version=appointment.version
    )
    db.session.commit()
    assert remind_patients(due_on) == 0  # the old date's day: nothing due any more
    assert remind_patients(new_day - timedelta(days=2)) == 1
    db.session.commit()
    deliver_all()
    first, second = mailbox.to(PATIENT_EMAIL)
    assert f"{new_day:%A} {new_day.day} {new_day:%B %Y}" in second.body
    assert first.message["Message-ID"] != second.message["Message-ID"]

    # A reminder queued and not yet sent is withdrawn when its visit is cancelled.
    mailbox.clear()
    other = _referral(world, email="second@mail.test")
    visit, visit_due = _booked(world, other, weekday=3)
    assert remind_patients(visit_due) >= 1
    db.session.flush()
    cancel_appointment(
        visit, "Clinic closed", actor=world.coordinator, expected_version=visit.version
    )
    remind_patients(visit_due)
    db.session.commit()
    deliver_all()
    assert mailbox.to("second@mail.test") == []
    row = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.to_email == "second@mail.test")
    )
    assert row.status == DISMISSED
    assert _audits("patient_reminder.withdraw")


def test_the_hourly_job_sends_them_through_the_queue(app, world, mailbox, jobs):
    from portal.notifications.tasks import hourly_notifications

    referral = _referral(world)
    appointment_on(referral, clinic_today() + timedelta(days=2), world.coordinator, at="10:30")
    db.session.commit()

    hourly_notifications.call_local()
    hourly_notifications.call_local()  # a second run the same hour queues nothing new
    jobs.run()

    [mail] = mailbox.to(PATIENT_EMAIL)
    assert "at 10:30" in mail.body
    assert mail.subject.startswith("Appointment reminder:")
