"""The notifications as people meet them: invitations and approvals by email, the bell and
its list, email choices, the daily digest, the admins' Deliveries page (retry, dismiss) and
the development mailbox."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from portal.extensions import db
from portal.notifications.digest import send_digests
from portal.notifications.models import DISMISSED, FAILED, SENT, Notification, OutboxMessage
from portal.notifications.service import notify, set_preferences
from tests.conftest import csrf_token, force_login, page_text, signed_in
from tests.factories import create_referral, pending_account_request
from tests.notification_helpers import deliver_all

BASE = "http://127.0.0.1:5000"


def test_an_invitation_is_emailed_and_its_link_creates_the_account(app, world, mailbox):
    from portal.clinics.models import Practice

    client = signed_in(app, world.coordinator)
    practice_id = db.session.scalar(select(Practice.id).order_by(Practice.id))
    response = client.post(
        "/invitations",
        data={
            "csrf_token": csrf_token(client, "/invitations"),
            "email": "nia@example.org",
            "full_name": "Nia Provider",
            "practice_id": str(practice_id),
        },
    )
    html = response.get_data(as_text=True)
    assert "the link is on its way to them by email" in page_text(html)
    shown = re.search(r'value="(http[^"]+/invite/[^"]+)"', html).group(1)  # still shown once
    deliver_all()
    (message,) = mailbox.received
    assert message.to == "nia@example.org"
    assert message.subject == "Your invitation to the clinic's referral portal"
    assert message.links[0] == BASE + "/invite/" + shown.split("/invite/")[1]
    assert "Nia" not in message.body  # the email names nobody
    row = db.session.scalar(select(OutboxMessage))
    assert row.secret
    assert "/invite/" not in row.body
    anonymous = app.test_client()
    assert "Create your account" in anonymous.get(shown.removeprefix(BASE)).get_data(as_text=True)


def test_an_account_request_tells_the_admins_and_its_approval_tells_the_provider(
    app, world, mailbox
):
    from portal.accounts.service import approve_request

    request = pending_account_request("petra@example.org")
    notify("account_request", [world.admin], link="/invitations")
    db.session.commit()
    deliver_all()
    assert [(m.to, m.subject) for m in mailbox.received] == [
        (world.admin.email, "A referring provider asked for an account")
    ]
    mailbox.clear()
    approve_request(request, 0, actor=world.admin)
    db.session.commit()
    deliver_all()
    (message,) = mailbox.received
    assert (message.to, message.links[0]) == ("petra@example.org", f"{BASE}/login")
    assert message.subject == "Your account on the clinic's referral portal is ready"


def test_the_account_request_page_tells_every_admin(app, world, mailbox):
    client = app.test_client()
    token = csrf_token(client, "/request-account")
    response = client.post(
        "/request-account",
        data={
            "csrf_token": token,
            "email": "asking@example.org",
            "full_name": "Petra Asking",
            "credentials": "LCSW",
            "npi": "1234567893",
            "practice_name": "Harbor Counseling",
            "phone": "",
            "note": "",
            "password": "another long passphrase",
            "confirm": "another long passphrase",
        },
    )
    assert "Request received" in response.get_data(as_text=True)
    deliver_all()
    assert [m.to for m in mailbox.received] == [world.admin.email]


def test_the_bell_counts_unread_and_opening_one_marks_it_read(app, world):
    referral = create_referral(world.referrer)
    db.session.commit()
    client = signed_in(app, world.referrer)
    page = client.get("/referrals/").get_data(as_text=True)
    assert re.search(r'class="bell-count" data-unread="1">1', page)
    listing = client.get("/notifications/").get_data(as_text=True)
    assert f"The clinic received referral {referral.number}." in page_text(listing)
    note_id = db.session.scalar(
        select(Notification.id).where(Notification.user_id == world.referrer.id)
    )
    opened = client.get(f"/notifications/{note_id}")
    assert opened.location == f"/referrals/{referral.id}"
    assert "bell-count" not in client.get("/referrals/").get_data(as_text=True)
    # Another person's notification is not there for them.
    other = signed_in(app, world.colleague)
    assert other.get(f"/notifications/{note_id}").status_code == 404


def test_email_choices_are_kept_and_a_safety_alert_cannot_be_turned_off(app, world):
    client = signed_in(app, world.clinician)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert "a safety alert cannot be turned off" in page
    assert 'name="mode-safety_alert"' not in page
    assert 'name="mode-new_referral"' not in page  # a coordinator's kind
    response = client.post(
        "/notifications/preferences",
        data={
            "csrf_token": csrf_token(client, "/notifications/preferences"),
            "mode-letter_to_sign": "digest",
            "mode-safety_alert": "portal",  # refused: not offered, not kept
        },
    )
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert re.search(r'name="mode-letter_to_sign" value="digest" checked', page)
    from portal.notifications.service import preferences

    chosen = preferences(world.clinician)
    assert (chosen["letter_to_sign"], chosen["safety_alert"]) == ("digest", "immediately")


def test_the_daily_digest_sends_one_email_at_the_clinic_hour(app, world, mailbox):
    set_preferences(
        world.coordinator, {"new_referral": "digest", "message": "digest"}, actor=world.coordinator
    )
    referrals = [create_referral(world.referrer) for _ in range(3)]
    db.session.commit()
    deliver_all()
    assert world.coordinator.email not in [m.to for m in mailbox.received]
    mailbox.clear()
    hour = app.config["DIGEST_HOUR"]
    assert send_digests(now=datetime(2026, 12, 7, hour - 1, 30, tzinfo=UTC)) == 0  # not yet
    assert send_digests(now=datetime(2026, 12, 7, hour, 5, tzinfo=UTC)) == 1  # UTC in tests
    db.session.commit()
    deliver_all()
    (digest,) = mailbox.to(world.coordinator.email)
    assert digest.subject == "Your daily summary from the referral portal"
    assert "A new referral: 3" in digest.body
    for referral in referrals:
        assert f"{BASE}/referrals/{referral.id}" in digest.links
    assert send_digests(now=datetime(2026, 12, 7, hour, 35, tzinfo=UTC)) == 0  # once


def test_deliveries_page_retries_once_and_dismisses(app, world, mailbox, jobs):
    referral = create_referral(world.referrer)
    notify("letter_ready", [world.referrer], referral=referral)
    db.session.commit()
    rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    for row in rows:
        row.status, row.tries, row.last_error = FAILED, 3, "server answered 451 (temporary)"
    db.session.commit()
    jobs.run()  # the jobs queued by the commit find nothing pending: nothing is sent
    assert mailbox.received == []
    admin = signed_in(app, world.admin)
    page = page_text(admin.get("/admin/deliveries").get_data(as_text=True))
    assert "Maya Chen" in page
    assert "A letter is ready" in page
    assert "451 (temporary)" in page
    token = csrf_token(admin, "/admin/deliveries")
    letter_row = next(r for r in rows if r.kind == "letter_ready")
    assert (
        admin.post(
            f"/admin/deliveries/{letter_row.id}/retry", data={"csrf_token": token}
        ).status_code
        == 302
    )
    jobs.run()  # the worker's job, queued by the retry's commit
    assert [m.subject for m in mailbox.received] == [
        f"A letter about referral {referral.number} is ready"
    ]
    others = [r for r in rows if r.id != letter_row.id]
    for row in others:
        admin.post(f"/admin/deliveries/{row.id}/dismiss", data={"csrf_token": token})
    db.session.expire_all()
    assert {r.status for r in db.session.scalars(select(OutboxMessage))} == {SENT, DISMISSED}
    assert "Every email was delivered" in admin.get("/admin/deliveries").get_data(as_text=True)


def test_the_development_mailbox_shows_what_was_sent_without_a_mail_server(app, world):
    app.config.update(ENV_NAME="development", MAIL_SERVER="")
    try:
        notify("account_request", [world.admin], link="/invitations")
        db.session.commit()
        assert deliver_all() == {SENT: 1}
        row = db.session.scalar(select(OutboxMessage))
        assert row.transport == "dev-mailbox"
        admin = app.test_client()
        force_login(admin, world.admin)
        listing = admin.get("/admin/sent-mail").get_data(as_text=True)
        assert "A referring provider asked for an account" in listing
        message = admin.get(f"/admin/sent-mail/{row.id}").get_data(as_text=True)
        assert f"{BASE}/invitations" in message
    finally:
        app.config.update(ENV_NAME="testing")
    assert signed_in(app, world.admin).get("/admin/sent-mail").status_code == 404
