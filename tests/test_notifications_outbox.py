"""The outbox: rows written with the change, delivered by the worker through a real SMTP
server (aiosmtpd), retried on temporary failures, failed finally after the last try, never
sent twice, and nothing sent for a change rolled back."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.notifications.models import FAILED, PENDING, SENT, Notification, OutboxMessage
from portal.notifications.service import notify
from tests.factories import create_referral
from tests.notification_helpers import deliver_all


def _outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_committed_change_is_delivered_once_with_a_phi_free_link(app, world, mailbox):
    referral = create_referral(world.referrer)  # submitted through the intake's rules
    db.session.commit()
    deliver_all()
    to_referrer = mailbox.to(world.referrer.email)
    assert [m.subject for m in to_referrer] == [f"The clinic received referral {referral.number}"]
    assert to_referrer[0].links[0] == f"http://127.0.0.1:5000/referrals/{referral.id}"
    # Both coordinators (nobody is assigned yet), nobody else.
    assert sorted(m.to for m in mailbox.received) == sorted(
        [world.referrer.email, world.coordinator.email, world.coordinator2.email]
    )
    assert deliver_all() == {}  # nothing left to send: each message went once
    assert {row.status for row in _outbox()} == {SENT}


def test_a_rolled_back_change_sends_nothing(app, world, mailbox):
    create_referral(world.referrer)
    db.session.flush()
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 3
    db.session.rollback()
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert db.session.scalar(select(func.count(Notification.id))) == 0
    deliver_all()
    assert mailbox.received == []


def test_a_server_refusing_twice_gets_the_message_on_the_third_try(app, world, mailbox):
    notify("account_request", [world.admin])
    db.session.commit()
    mailbox.refuse_next(2)
    assert deliver_all() == {PENDING: 1}
    row = _outbox()[0]
    assert (row.tries, row.last_error) == (1, "server answered 451 (temporary)")
    assert deliver_all() == {PENDING: 1}
    assert deliver_all() == {SENT: 1}
    assert mailbox.collector.attempts == 3
    assert [m.to for m in mailbox.received] == [world.admin.email]
    assert _outbox()[0].tries == 3


def test_the_last_failed_try_is_final_and_tells_the_admins(app, world, mailbox):
    notify("letter_ready", [world.referrer], referral=create_referral(world.referrer))
    db.session.commit()
    for row in _outbox():
        if row.kind != "letter_ready":
            row.status = SENT  # only the referrer's letter notice matters here
    db.session.commit()
    app.config["MAIL_PORT"], port = 1, app.config["MAIL_PORT"]  # nothing listens: refused
    try:
        for _ in range(app.config["MAIL_MAX_TRIES"]):
            deliver_all()
    finally:
        app.config["MAIL_PORT"] = port
    failed = [row for row in _outbox() if row.status == FAILED]
    assert [row.to_email for row in failed] == [world.referrer.email]
    assert failed[0].last_error == "could not reach the mail server (ConnectionRefusedError)"
    deliver_all()  # the admin's notice of the failure
    notice = mailbox.to(world.admin.email)
    assert [m.subject for m in notice] == ["An email could not be delivered after every try"]
    assert notice[0].links[0] == "http://127.0.0.1:5000/admin/deliveries"
