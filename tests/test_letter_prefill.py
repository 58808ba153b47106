"""A new summary or progress draft starts from a plain-language paragraph built from the
course, which the clinician edits."""

from __future__ import annotations

import html
import re
from datetime import date

from portal.extensions import db
from portal.treatment.service import complete_course
from tests.conftest import force_login, post_form
from tests.factories import accepted_referral, document_sessions


def _draft_text(app, world, referral, kind: str) -> str:
    client = app.test_client()
    force_login(client, world.clinician)
    started = post_form(
        client,
        f"/letters/referrals/{referral.id}/new",
        {"kind": kind},
        token_from=f"/referrals/{referral.id}",
    )
    page = client.get(started.location).get_data(as_text=True)
    return html.unescape(  # the textarea's first newline is markup, not text
        re.search(r'<textarea[^>]*name="narrative"[^>]*>(.*?)</textarea>', page, re.S)[1]
    )


def test_a_summary_draft_starts_from_the_course(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    falling = [
        [2, 2, 2, 1, 1, 1, 0, 0, 0],
        [1, 1, 1, 1, 0, 0, 0, 0, 0],
        [0, 1, 0, 0, 0, 0, 0, 0, 0],
    ]
    document_sessions(referral, world.clinician, 3, phq9=falling)
    complete_course(
        referral.course,
        actor=world.clinician,
        expected_version=referral.version,
        ended_on=date.today(),
    )
    db.session.commit()
    text = _draft_text(app, world, referral, "treatment_summary").strip()
    sessions = referral.course.sessions
    assert text.startswith(
        f"Alexis has had 3 of {referral.course.planned_sessions} planned IV ketamine infusion "
        f"sessions, from {sessions[0].session_date.isoformat()} to "
        f"{sessions[-1].session_date.isoformat()}."
    )
    assert "The dose was " in text
    assert (
        "The PHQ-9 went from 16 (moderately severe) to 1 (minimal), 94% lower: a response, "
        "and remission (below 5)." in text
    )


def test_a_course_without_sessions_gives_no_paragraph(app, world):
    from portal.letters.course_text import course_paragraph

    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    assert course_paragraph(referral) == ""
    document_sessions(referral, world.clinician, 1)
    assert course_paragraph(referral).startswith("Alexis has had 1 of ")
