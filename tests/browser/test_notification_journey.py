"""Notifications in a real browser: the coordinator asks a question, the referrer's mailbox
(a real SMTP server) receives it, the referrer follows the link, signs in and answers, and
the coordinator's bell shows the answer. Password reset end to end, and the links it refuses.
The worker's jobs run in this process when the test says so (jobs.run)."""

from __future__ import annotations

import re

import time_machine
from playwright.sync_api import expect

from portal.db import utcnow
from portal.extensions import db
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, create_referral

NEW_PASSWORD = "harbour lantern violet 58"


def _email_link(mailbox, to: str, subject_has: str) -> str:
    found = [m for m in mailbox.to(to) if subject_has in m.subject]
    assert len(found) == 1, [m.subject for m in mailbox.received]
    return found[0].links[0]


def test_a_question_reaches_the_referrer_by_email_and_the_answer_rings_the_bell(
    app, page, live_server, world, mailbox, jobs, shot
):
    app.config["PUBLIC_BASE_URL"] = live_server
    referral = create_referral(world.referrer, first_name="Iris", last_name="Valdez")
    db.session.commit()
    try:
        sign_in(page, live_server, world.coordinator.email)
        page.goto(f"{live_server}/triage/{referral.id}/screening")
        page.get_by_role("button", name="Open for review").click()
        page.locator("summary", has_text="Ask the referrer a question").click()
        page.locator("#reason-needs_info").fill("What was the clonazepam dose?")
        page.get_by_role("button", name="Ask the referrer a question").click()
        expect(page.get_by_text("Your question was sent to the referrer.")).to_be_visible()

        jobs.run()  # the worker sends what the commit queued
        link = _email_link(mailbox, world.referrer.email, "A question from the clinic")
        assert link == f"{live_server}/referrals/{referral.id}"
        message = mailbox.to(world.referrer.email)[-1]
        assert "Iris" not in message.body
        assert "Valdez" not in message.body
        assert "clonazepam" not in message.body.lower()

        # The referrer follows the link: sign-in first, then the referral, and answers.
        page.context.clear_cookies()
        page.goto(link)
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        page.get_by_label("Email").fill(world.referrer.email)

        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(link)
        expect(page.locator("p.reason", has_text="What was the clonazepam dose?")).to_be_visible()
        page.locator("#reason-answer").fill("0.5 mg at night.")
        page.get_by_role("button", name="Send answer").click()
        expect(page.get_by_text("Your answer was sent")).to_be_visible()

        jobs.run()
        answer_link = _email_link(mailbox, world.coordinator.email, "answered the question")
        assert answer_link == link
        assert world.coordinator2.email not in [
            m.to for m in mailbox.received if "answered" in m.subject
        ]  # the assigned coordinator only

        # The coordinator's bell shows it; opening it marks it read and opens the referral.
        page.context.clear_cookies()
        sign_in(page, live_server, world.coordinator.email)
        bell = page.locator(".bell")
        expect(bell.locator(".bell-count")).to_be_visible()
        bell.click()
        entry = page.get_by_role("link", name=re.compile(r"answered the question on referral"))
        expect(entry).to_be_visible()
        shot("notifications-coordinator-bell")
        entry.click()
        expect(page.get_by_text("0.5 mg at night.")).to_be_visible()
        page.goto(f"{live_server}/notifications/")
        expect(
            page.locator(".notification-list li.unread").filter(has_text="answered")
        ).to_have_count(0)
    finally:
        app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"


def test_password_reset_in_the_browser_and_the_links_it_refuses(
    app, page, live_server, world, mailbox, jobs, shot
):
    app.config["PUBLIC_BASE_URL"] = live_server
    try:
        page.goto(f"{live_server}/login")
        page.get_by_role("link", name="Forgot your password?").click()
        page.get_by_label("Email").fill(world.referrer.email)
        page.get_by_role("button", name="Send the link").click()
        expect(page.get_by_text("If an account uses that address")).to_be_visible()
        shot("password-reset-asked")
        jobs.run()
        link = _email_link(mailbox, world.referrer.email, "Reset your password")

        # A tampered link is refused with a clear message.
        page.goto(link[:-4] + "xxxx")
        expect(page.get_by_text("This password reset link is not valid")).to_be_visible()
        shot("password-reset-refused")
        # An expired one too (31 minutes later).
        with time_machine.travel(utcnow().timestamp() + 31 * 60, tick=False):
            page.goto(link)
            expect(page.get_by_text("has expired: links work for 30 minutes")).to_be_visible()

        page.goto(link)
        page.get_by_label("New password", exact=True).fill("too short")
        page.get_by_label("New password again").fill("too short")
        page.get_by_role("button", name="Set the new password").click()
        expect(page.get_by_text("at least 12 characters", exact=False).first).to_be_visible()
        page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("New password again").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Set the new password").click()
        expect(page.get_by_text("Your password is changed")).to_be_visible()

        sign_in(page, live_server, world.referrer.email, NEW_PASSWORD)
        expect(page.get_by_role("heading", name="My referrals")).to_be_visible()

        # The used link is refused.
        page.goto(link)
        expect(page.get_by_text("has been used already")).to_be_visible()
    finally:
        app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"


def test_an_admin_retries_a_failed_delivery_and_reads_the_development_mailbox(
    app, page, live_server, world, jobs, shot
):
    from sqlalchemy import select

    from portal.notifications.models import FAILED, OutboxMessage
    from portal.notifications.service import notify

    notify("account_request", [world.admin], link="/invitations")
    db.session.commit()
    row = db.session.scalar(select(OutboxMessage))
    row.status, row.tries, row.last_error = FAILED, 6, "server answered 451 (temporary)"
    db.session.commit()
    app.config.update(ENV_NAME="development", MAIL_SERVER="")  # mail to the dev mailbox
    try:
        sign_in(page, live_server, world.admin.email)
        page.get_by_role("link", name="Deliveries").click()
        expect(page.get_by_role("cell", name="server answered 451 (temporary)")).to_be_visible()
        shot("notifications-deliveries")
        page.get_by_role("button", name="Retry").click()
        expect(page.get_by_text("The email will be tried again.")).to_be_visible()
        expect(page.get_by_text("Every email was delivered.")).to_be_visible()
        jobs.run()  # the worker: no MAIL_SERVER in development, so the dev mailbox
        page.get_by_role("link", name="Sent mail").click()
        page.get_by_role("link", name="A referring provider asked for an account").click()
        expect(page.get_by_role("link", name="http://127.0.0.1:5000/invitations")).to_be_visible()
        shot("notifications-sent-mail")
        page.goto(f"{live_server}/notifications/preferences")
        expect(page.get_by_role("group", name="A new account request")).to_be_visible()
        page.get_by_role("group", name="An email that could not be delivered").get_by_label(
            "Daily digest email"
        ).check()
        page.get_by_role("button", name="Save choices").click()
        expect(page.get_by_text("Your notification choices are saved.")).to_be_visible()
        shot("notifications-preferences")
    finally:
        app.config.update(ENV_NAME="testing")
