"""Letters rendered by the job workers after signing (review of issue 14 item 5): the PDF shows
what the clinician signed, a late rendering of a replaced version is not announced, one
failing letter does not stop the sweep, and nothing offers a letter before its PDF exists
(the referrer's dashboard, the CLI)."""

from __future__ import annotations

import io
import logging
import re
from datetime import date, timedelta

import pytest
from cryptography.fernet import Fernet
from pypdf import PdfReader
from sqlalchemy import select

from portal.db import utcnow
from portal.extensions import db
from portal.jobs import huey
from portal.letters.issue_tasks import issue_all_waiting
from portal.letters.models import FINAL, INTERIM, SUMMARY, SUPERSEDED, Letter
from portal.letters.service import preview
from portal.letters.storage import open_pdf
from portal.notifications.models import Notification
from portal.referrals.models import ReferralEvent
from tests.conftest import force_login, post_form, signed_in
from tests.factories import accepted_referral, document_sessions, draft_letter, png_bytes
from tests.letter_helpers import pdf_text
from tests.letter_signing import sign

FIRST = date.today() - timedelta(days=9)
LATE = date.today() - timedelta(days=1)


@pytest.fixture
def in_worker(app, monkeypatch):
    monkeypatch.setitem(app.config, "LETTERS_RENDER_IN_WORKER", True)


@pytest.fixture
def course(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 2, start=FIRST)
    db.session.commit()
    return referral


@pytest.fixture
def clinician(app, world):
    client = app.test_client()
    force_login(client, world.clinician)
    return client


def _letter(letter_id: int) -> Letter:
    db.session.expire_all()
    return db.session.get(Letter, letter_id)


def test_the_pdf_shows_what_was_signed_not_a_session_documented_before_it_was_rendered(
    course, world, clinician, jobs, in_worker
):
    letter = draft_letter(course, world.clinician)
    db.session.commit()
    sign(clinician, letter.id)
    document_sessions(course, world.clinician, 1, start=LATE)  # after the signature
    db.session.commit()
    assert len(course.course.sessions) == 3

    jobs.run()
    stored = _letter(letter.id)
    text = pdf_text(open_pdf(stored))
    assert FIRST.isoformat() in text
    assert LATE.isoformat() not in text
    assert stored.verify_code in text
    assert stored.signed_html is None  # the PDF is the record once stored


def _logo_size(pdf: bytes) -> tuple[int, int]:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    return page.images[0].image.size


def test_the_pdf_keeps_the_logo_of_the_signing_not_one_uploaded_before_it_was_rendered(
    course, world, clinician, jobs, in_worker
):
    clinic = world.clinic
    clinic.logo, clinic.logo_mime = png_bytes(40, 20), "image/png"
    letter = draft_letter(course, world.clinician)
    db.session.commit()
    sign(clinician, letter.id)
    clinic.logo = png_bytes(30, 30)  # a new logo before the worker renders the letter
    db.session.commit()

    jobs.run()
    assert _logo_size(open_pdf(_letter(letter.id))) == (40, 20)
    later = draft_letter(course, world.clinician, kind=SUMMARY)  # later letters: the new logo
    db.session.commit()
    assert _logo_size(preview(later, actor=world.clinician).data) == (30, 30)


def test_a_replaced_version_rendered_late_is_not_announced(
    course, world, clinician, jobs, in_worker
):
    first = draft_letter(course, world.clinician)
    db.session.commit()
    sign(clinician, first.id)
    correcting = post_form(
        clinician, f"/letters/{first.id}/correct", {}, token_from=f"/letters/{first.id}/edit"
    )
    second_id = int(correcting.location.split("/letters/")[1].split("/")[0])
    sign(clinician, second_id, narrative="Doing better.")

    jobs.run()  # version 1's job runs after version 2 was signed
    assert _letter(first.id).status == SUPERSEDED
    assert _letter(first.id).sha256 is not None  # rendered and kept for the record
    assert _letter(second_id).status == FINAL
    issued = db.session.scalars(
        select(ReferralEvent.reason).where(
            ReferralEvent.referral_id == course.id, ReferralEvent.kind == "letter_issued"
        )
    ).all()
    assert [r for r in issued if "Interim progress" in r] == [
        "Interim progress 1 letter, version 2, replacing version 1, is ready."
    ]
    told = db.session.scalars(
        select(Notification).where(
            Notification.user_id == world.referrer.id, Notification.kind == "letter_ready"
        )
    ).all()
    assert len(told) == 1


def _signed_waiting(course, world, clinician, *, minutes_ago: int, kind=INTERIM) -> int:
    letter = draft_letter(course, world.clinician, kind)
    db.session.commit()
    sign(clinician, letter.id)
    stored = _letter(letter.id)
    stored.created_at = utcnow() - timedelta(minutes=minutes_ago)
    db.session.commit()
    return letter.id


def test_the_sweep_issues_the_others_when_one_letter_fails(
    app, course, world, clinician, jobs, in_worker, caplog
):
    broken = _signed_waiting(course, world, clinician, minutes_ago=10)
    _letter(broken).signed_html = b"not what signing stores"
    db.session.commit()
    other = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(other, world.clinician, 2, start=FIRST)
    db.session.commit()
    good = _signed_waiting(other, world, clinician, minutes_ago=10)
    # Signed just now: its own job has it.
    recent = _signed_waiting(other, world, clinician, minutes_ago=0, kind=SUMMARY)
    huey.flush()  # the signing jobs lost: only the sweep is left

    with caplog.at_level(logging.ERROR, logger="portal.letters.issue_tasks"):
        assert issue_all_waiting() == 1
    assert _letter(good).sha256 is not None
    assert _letter(broken).sha256 is None
    assert _letter(recent).sha256 is None
    logged = [r.getMessage() for r in caplog.records if r.name == "portal.letters.issue_tasks"]
    assert logged == [f"letter {broken} could not be issued: DecryptionError"]


def test_a_failing_letter_job_is_tried_again_later(course, world, clinician, jobs, in_worker):
    letter = draft_letter(course, world.clinician)
    db.session.commit()
    sign(clinician, letter.id)
    _letter(letter.id).signed_html = b"not what signing stores"
    db.session.commit()
    jobs.run()
    retry = [task for task in huey.scheduled() if task.name == "issue_task"]
    assert len(retry) == 1
    assert retry[0].retries == 2
    assert retry[0].eta is not None


def test_the_dashboard_shows_a_new_letter_once_its_pdf_exists(
    app, course, world, clinician, jobs, in_worker
):
    referrer = signed_in(app, world.referrer)
    referrer.get(f"/referrals/{course.id}")  # seen before the letter
    letter = draft_letter(course, world.clinician)
    db.session.commit()
    sign(clinician, letter.id)

    assert not _flags_letter(referrer.get("/referrals/").get_data(as_text=True), course.number)
    jobs.run()
    assert _flags_letter(referrer.get("/referrals/").get_data(as_text=True), course.number)


def _flags_letter(page: str, number: str) -> bool:
    """Whether the dashboard row of referral `number` marks a new letter."""
    row = next(r for r in re.findall(r"<tr[^>]*>.*?</tr>", page, re.S) if number in r)
    return '<span class="new-mark">Letter</span>' in row


def test_the_cli_says_a_signed_letter_is_still_being_rendered(
    app, course, world, clinician, jobs, in_worker, tmp_path
):
    letter = draft_letter(course, world.clinician)
    db.session.commit()
    sign(clinician, letter.id)
    out = tmp_path / "letter.pdf"
    args = ["letters", "render", str(course.id), "--out", str(out), "--kind", "interim_progress"]
    waiting = app.test_cli_runner().invoke(args=args)
    assert waiting.exit_code == 1, waiting.output
    assert "still being rendered by the job workers" in waiting.output
    assert not out.exists()
    jobs.run()
    db.session.expire_all()
    done = app.test_cli_runner().invoke(args=args)
    assert done.exit_code == 0, done.output
    assert out.read_bytes().startswith(b"%PDF")


def test_key_rotation_keeps_a_waiting_letters_html_readable(
    app, course, world, clinician, jobs, in_worker, monkeypatch
):
    letter = draft_letter(course, world.clinician)
    db.session.commit()
    sign(clinician, letter.id)
    old = app.config["PORTAL_DATA_KEYS"]
    new = Fernet.generate_key().decode()
    monkeypatch.setitem(app.config, "PORTAL_DATA_KEYS", f"{new},{old}")
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "1 signed letters' HTML" in result.output
    monkeypatch.setitem(app.config, "PORTAL_DATA_KEYS", new)  # the old key gone
    db.session.expire_all()
    jobs.run()
    stored = _letter(letter.id)
    assert stored.verify_code in pdf_text(open_pdf(stored))
