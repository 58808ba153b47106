"""Long letters (issue 14 item 5): a course of 60 sessions is summarised in grouped rows, with
every session in an appendix only when the clinician ticks it; the preview paginates as the
signed letter; signing leaves the rendering to the job workers, the page says the PDF is being
prepared, and the referrer is told once it exists."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.extensions import db
from portal.letters.models import Letter
from portal.letters.service import preview, render_letter
from portal.letters.storage import open_pdf
from portal.notifications.models import Notification
from tests.conftest import force_login, post_form
from tests.factories import accepted_referral, document_sessions, draft_letter
from tests.factories.users import PASSWORD
from tests.letter_helpers import flat, pdf_text

SESSIONS = 60


@pytest.fixture
def long_course(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    referral.course.planned_sessions = SESSIONS
    document_sessions(
        referral, world.clinician, SESSIONS, start=date.today() - timedelta(days=3 * SESSIONS)
    )
    db.session.commit()
    return referral


def _pages(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def _signed_copy(letter: Letter, signer) -> bytes:
    """The PDF signing would store, not kept."""
    letter.status, letter.signed_by, letter.verify_code = "final", signer, "ABCDE-FGHJK"
    try:
        return render_letter(letter).data
    finally:
        letter.status, letter.signed_by, letter.verify_code = "draft", None, None


def test_a_long_course_is_summarised_and_the_appendix_lists_every_session(long_course, world):
    letter = draft_letter(long_course, world.clinician)
    db.session.commit()
    short = pdf_text(render_letter(letter).data)
    assert flat(f"The {SESSIONS} sessions are summarised in 8 rows") in flat(short)
    assert "1-8" in short
    assert "57-60" in short
    assert flat("ask for the full session list") in flat(short)
    assert "Appendix: every session" not in short
    last_day = long_course.course.sessions[-1].session_date.isoformat()
    fifth_day = long_course.course.sessions[4].session_date.isoformat()
    assert fifth_day not in short  # inside a group: only its first and last dates show
    short_pages = len(_pages(render_letter(letter).data))

    letter.include_all_sessions = True
    full = render_letter(letter).data
    text = pdf_text(full)
    appendix = text[text.index("Appendix: every session") :]
    assert fifth_day in appendix
    assert last_day in appendix
    assert flat("Every session is listed in the appendix after the signature.") in flat(text)
    pages = _pages(full)
    assert len(pages) > short_pages
    # The appendix starts on a page of its own, after the signature.
    signed_on = next(i for i, page in enumerate(pages) if "Sincerely" in page)
    assert "Appendix" not in pages[signed_on]
    assert "Appendix: every session" in pages[signed_on + 1]


@pytest.mark.parametrize("appendix", [False, True])
def test_the_preview_paginates_as_the_signed_long_letter(long_course, world, appendix):
    letter = draft_letter(long_course, world.clinician)
    letter.include_all_sessions = appendix
    db.session.commit()
    previewed = _pages(preview(letter, actor=world.clinician).data)
    signed = _pages(_signed_copy(letter, world.clinician))
    assert len(previewed) == len(signed)
    signature = [i for i, page in enumerate(signed) if "Sincerely" in page]
    assert signature == [i for i, page in enumerate(previewed) if "Sincerely" in page]
    assert not signed[signature[0]].strip().startswith("Sincerely")  # never orphaned
    db.session.rollback()


def test_the_clinician_ticks_every_session_on_the_draft_page(app, long_course, world):
    client = app.test_client()
    force_login(client, world.clinician)
    letter = draft_letter(long_course, world.clinician)
    db.session.commit()
    edit = f"/letters/{letter.id}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert "Include every session" in page
    data = {"narrative": "Doing well.", "include_all_sessions": "y", "action": "save"}
    assert post_form(client, edit, data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Letter, letter.id).include_all_sessions


def test_signing_leaves_the_pdf_to_the_workers_and_tells_the_referrer_once_it_exists(
    app, long_course, world, jobs, monkeypatch
):
    monkeypatch.setitem(app.config, "LETTERS_RENDER_IN_WORKER", True)
    client = app.test_client()
    force_login(client, world.clinician)
    letter = draft_letter(long_course, world.clinician)
    db.session.commit()
    edit = f"/letters/{letter.id}/edit"
    signed = post_form(
        client,
        f"/letters/{letter.id}/sign",
        {"password": PASSWORD, "narrative": "Doing well.", "include_all_sessions": "y"},
        token_from=edit,
    )
    assert signed.status_code == 302
    detail = client.get(signed.location).get_data(as_text=True)
    assert "is signed. Its PDF is being prepared" in detail
    assert "PDF being prepared." in detail
    waiting = client.get(f"/letters/{letter.id}/download")
    assert waiting.status_code == 202
    assert "The PDF is being prepared" in waiting.get_data(as_text=True)
    told = select(Notification).where(
        Notification.user_id == world.referrer.id, Notification.kind == "letter_ready"
    )
    assert db.session.scalars(told).all() == []

    assert jobs.pending() == ["issue_task"]
    jobs.run()
    db.session.expire_all()
    stored = db.session.get(Letter, letter.id)
    assert stored.sha256 is not None
    text = pdf_text(open_pdf(stored))
    assert "Appendix: every session" in text
    assert stored.verify_code in text
    assert len(db.session.scalars(told).all()) == 1
    ready = client.get(f"/letters/{letter.id}/download")
    assert ready.status_code == 200
    assert ready.mimetype == "application/pdf"
    assert "Download PDF" in client.get(signed.location).get_data(as_text=True)
