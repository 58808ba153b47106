"""Every notification kind, delivered by the worker's code to a real SMTP server (aiosmtpd):
it arrives once, to the right people only, without PHI, and its link opens the page for the
person it was sent to."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.notifications.service import set_preferences
from portal.referrals.service import change_state
from portal.referrals.states import State
from portal.triage.service import accept_referral, open_for_review
from tests.conftest import force_login
from tests.factories import (
    accepted_referral,
    book,
    create_referral,
    next_weekday,
    phq9_with_item9,
    questioned_referral,
    spravato_referral,
    spravato_session,
)
from tests.notification_helpers import deliver_all

# What a notification email must never carry: the factory patient's identity, diagnosis and
# medication words, treatment names, scale names and scores.
PHI = (
    "Alexis",
    "Testpatient",
    "1980",
    "05/17",
    "F33",
    "depress",
    "SSRI",
    "ketamine",
    "spravato",
    "esketamine",
    "PHQ",
    "REMS",
    "item 9",
    "suicid",
)


def assert_phi_free(messages) -> None:
    """Headers (sender name included) and the decoded body, so that no line folding or
    quoted-printable break can hide a word."""
    for message in messages:
        # The Message-ID is random hex, where a code like "F33" can turn up by chance.
        headers = " ".join(
            f"{k}: {v}" for k, v in message.message.items() if k.lower() != "message-id"
        )
        text = f"{headers}\n{message.body}".lower()
        for word in PHI:
            assert word.lower() not in text, f"{word!r} in an email: {message.subject}"


def emails(mailbox, action) -> list:
    """What `action` makes the worker send, once committed (earlier mail put aside)."""
    db.session.commit()
    deliver_all()
    mailbox.clear()
    action()
    db.session.commit()
    deliver_all()
    assert deliver_all() == {}  # nothing left: each message went once
    received = list(mailbox.received)
    assert_phi_free(received)
    return received


def check(app, messages, expected: dict) -> None:
    """`expected`: {user: subject}. Exactly these people got exactly one email each, and the
    link in it opens (200) for them once signed in."""
    got = sorted((m.to, m.subject) for m in messages)
    assert got == sorted((user.email, subject) for user, subject in expected.items())
    for message in messages:
        user = next(u for u in expected if u.email == message.to)
        link = message.links[0]
        assert link.startswith("http://127.0.0.1:5000/")
        client = app.test_client()
        force_login(client, user)
        response = client.get(link.removeprefix("http://127.0.0.1:5000"))
        assert response.status_code == 200, (message.subject, link)


def test_a_sent_referral_tells_its_referrer_and_the_clinic(app, world, mailbox):
    made = []
    messages = emails(mailbox, lambda: made.append(create_referral(world.referrer)))
    number = made[0].number
    check(
        app,
        messages,
        {
            world.referrer: f"The clinic received referral {number}",
            world.coordinator: f"New referral {number} was sent to the clinic",
            world.coordinator2: f"New referral {number} was sent to the clinic",
        },
    )


def test_a_question_goes_to_the_referrer_only(app, world, mailbox):
    made = []
    messages = emails(
        mailbox,
        lambda: made.append(questioned_referral(world.referrer, world.coordinator, "Doses?")),
    )
    number = made[0].number
    assert [m.to for m in messages if "question" in m.subject] == [world.referrer.email]
    check(
        app,
        [m for m in messages if "question" in m.subject],
        {world.referrer: f"A question from the clinic about referral {number}"},
    )


def test_the_answer_goes_to_the_assigned_coordinator_only(app, world, mailbox):
    referral = questioned_referral(world.referrer, world.coordinator, "Doses?")
    referral.assigned_coordinator_id = world.coordinator.id
    messages = emails(
        mailbox,
        lambda: change_state(
            referral,
            State.IN_REVIEW,
            actor=world.referrer,
            expected_version=referral.version,
            reason="50 mg.",
        ),
    )
    check(
        app,
        messages,
        {
            world.coordinator: (
                f"The referring provider answered the question on referral {referral.number}"
            )
        },
    )


def test_acceptance_decline_and_an_ended_course_go_to_the_referrer(app, world, mailbox):
    accepted = create_referral(world.referrer)
    declined = create_referral(world.referrer)

    def decide():
        open_for_review(accepted, actor=world.coordinator, expected_version=accepted.version)
        accept_referral(
            accepted,
            actor=world.coordinator,
            expected_version=accepted.version,
            modality="iv_ketamine",
            clinician=world.clinician,
            planned_sessions=6,
        )
        open_for_review(declined, actor=world.coordinator, expected_version=declined.version)
        change_state(
            declined,
            State.DECLINED,
            actor=world.coordinator,
            expected_version=declined.version,
            reason="Outside our service area.",
        )

    messages = [m for m in emails(mailbox, decide) if m.to == world.referrer.email]
    assert sorted(m.subject for m in messages) == sorted(
        [f"Referral {accepted.number} was accepted", f"Referral {declined.number} was declined"]
    )
    ended = emails(
        mailbox,
        lambda: change_state(
            accepted,
            State.CANCELLED,
            actor=world.coordinator,
            expected_version=accepted.version,
            reason="The patient moved away.",
        ),
    )
    check(app, ended, {world.referrer: f"The course for referral {accepted.number} has ended"})


def test_booked_and_moved_appointments_go_to_the_referrer(app, world, mailbox):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    monday = next_weekday(0, date.today() + timedelta(days=7))
    messages = emails(mailbox, lambda: book(referral, world.coordinator, [monday]))
    check(
        app, messages, {world.referrer: f"Appointments for referral {referral.number} were booked"}
    )


def test_messages_go_to_the_other_side(app, world, mailbox):
    from portal.messages.service import post_message

    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    to_clinic = emails(mailbox, lambda: post_message(referral, "Hello", actor=world.referrer))
    check(app, to_clinic, {world.coordinator: f"A new message about referral {referral.number}"})
    to_referrer = emails(mailbox, lambda: post_message(referral, "Hi", actor=world.coordinator))
    check(app, to_referrer, {world.referrer: f"A new message about referral {referral.number}"})


def test_a_safety_alert_is_emailed_even_to_a_clinician_who_chose_portal_only(app, world, mailbox):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    set_preferences(world.clinician, {"safety_alert": "portal"}, actor=world.clinician)
    messages = emails(mailbox, lambda: phq9_with_item9(referral, world.clinician))
    check(
        app,
        messages,
        {
            world.clinician: (
                f"A safety alert on referral {referral.number} needs a clinician's review"
            )
        },
    )


def test_a_monitoring_form_two_days_from_its_deadline_reminds_the_clinician(app, world, mailbox):
    from portal.notifications.reminders import remind_forms_due

    referral = spravato_referral(world.referrer, world.coordinator, world.clinician)
    day = date.today() - timedelta(days=10)
    spravato_session(referral, world.clinician, day)
    messages = emails(mailbox, lambda: remind_forms_due(day + timedelta(days=5)))
    check(
        app,
        messages,
        {
            world.clinician: (
                f"A session monitoring form for referral {referral.number} is due in two days"
            )
        },
    )
    assert emails(mailbox, lambda: remind_forms_due(day + timedelta(days=5))) == []  # once


def test_a_first_decision_one_business_day_from_overdue_reminds_the_coordinators(
    app, world, mailbox
):
    from portal.clock import clinic_zone
    from portal.notifications.reminders import remind_near_overdue
    from portal.scheduling.settings import clinic_schedule
    from portal.triage.sla import add_business_days, due_on

    referral = create_referral(world.referrer)
    days = clinic_schedule(referral.clinic_id).sla_routine_days
    due = due_on(referral.submitted_at.astimezone(clinic_zone()).date(), days)
    today = due - timedelta(days=1)
    while add_business_days(today, 1) != due:
        today -= timedelta(days=1)
    messages = emails(mailbox, lambda: remind_near_overdue(today))
    subject = f"Referral {referral.number} is one business day from its first-decision deadline"
    check(app, messages, {world.coordinator: subject, world.coordinator2: subject})
    assert emails(mailbox, lambda: remind_near_overdue(today)) == []  # once


def test_a_due_letter_drafted_by_the_batch_waits_for_the_clinicians_signature(app, world, mailbox):
    from portal.letters.due import create_due_drafts

    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    messages = emails(mailbox, create_due_drafts)
    check(
        app,
        messages,
        {
            world.clinician: (
                f"A letter about referral {referral.number} is waiting for your signature"
            )
        },
    )


def test_a_signed_letter_tells_the_referrer(app, world, mailbox):
    from portal.letters.service import sign_letter, start_draft
    from tests.factories import PASSWORD, document_sessions

    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 1)
    letter = start_draft(referral, "interim_progress", actor=world.clinician)
    letter.narrative = "Doing well."
    messages = emails(
        mailbox, lambda: sign_letter(letter, actor=world.clinician, password=PASSWORD)
    )
    check(app, messages, {world.referrer: f"A letter about referral {referral.number} is ready"})


@pytest.mark.parametrize("mode", ["portal", "digest"])
def test_a_person_who_chose_portal_only_or_digest_gets_no_email_at_once(app, world, mailbox, mode):
    from portal.notifications.models import Notification

    set_preferences(world.referrer, {"referral_received": mode}, actor=world.referrer)
    messages = emails(mailbox, lambda: create_referral(world.referrer))
    assert world.referrer.email not in [m.to for m in messages]
    note = db.session.scalar(select(Notification).where(Notification.user_id == world.referrer.id))
    assert note.kind == "referral_received"  # under the bell all the same
