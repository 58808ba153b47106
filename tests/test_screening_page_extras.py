"""The screening page shows the attachments (opened in place in the browser) and the
referrer's latest answer to the clinic's question."""

from __future__ import annotations

from portal.extensions import db
from portal.referrals.service import change_state
from portal.referrals.states import State
from portal.triage.service import open_for_review
from tests.conftest import page_text, signed_in
from tests.factories import create_referral, stored_attachment


def test_screening_shows_files_to_open_in_place_and_the_latest_answer(app, world):
    referral = create_referral(world.referrer)
    attachment = stored_attachment(referral, world.referrer)
    open_for_review(referral, actor=world.coordinator, expected_version=referral.version)
    for question, answer in (
        ("Which doses?", "Sertraline 150 mg."),
        ("And the dates?", "March to June 2025."),
    ):
        change_state(
            referral,
            State.NEEDS_INFO,
            actor=world.coordinator,
            expected_version=referral.version,
            reason=question,
        )
        change_state(
            referral,
            State.IN_REVIEW,
            actor=world.referrer,
            expected_version=referral.version,
            reason=answer,
        )
    db.session.commit()
    client = signed_in(app, world.coordinator)
    html = client.get(f"/triage/{referral.id}/screening").get_data(as_text=True)
    text = page_text(html)
    assert "The referrer's latest answer" in text
    assert "To the question: And the dates? March to June 2025." in text
    assert (
        "Sertraline 150 mg."
        not in text.split("The referrer's latest answer")[1].split("Attachments")[0]
    )
    view = f"/attachments/{attachment.id}/view"
    assert f'<img class="thumb" src="{view}" alt="scan.png">' in html
    assert "Open scan.png" in text
    opened = client.get(view)
    assert opened.status_code == 200
    assert opened.headers["Content-Type"] == "image/png"
    assert opened.headers["Content-Disposition"].startswith("inline;")
    assert "default-src 'none'" in opened.headers["Content-Security-Policy"]
    # Still 404 for whoever may not see the referral.
    assert signed_in(app, world.other_referrer).get(view).status_code == 404


def test_the_referrer_answers_with_files_in_the_same_form(app, world):
    import io
    import re

    from portal.attachments.models import Attachment
    from portal.referrals.models import Referral
    from tests.conftest import csrf_token
    from tests.factories import png_bytes, questioned_referral

    referral = questioned_referral(world.referrer, world.coordinator, "Send the medication list?")
    db.session.commit()
    client = signed_in(app, world.referrer)
    path = f"/referrals/{referral.id}"
    html = client.get(path).get_data(as_text=True)
    # One form, in the page's main column (above the two columns), with the box and the files.
    form = re.search(r'<section class="card answer-card".*?<form([^>]*)>(.*?)</form>', html, re.S)
    assert form, "no answer form above the columns"
    assert 'enctype="multipart/form-data"' in form[1]
    for part in ('name="reason"', 'type="file"', 'name="attachments"'):
        assert part in form[2]
    assert html.index("answer-card") < html.index('class="grid-main"')
    version = re.search(r'name="version" value="(\d+)"', form[2])[1]
    response = client.post(
        f"{path}/answer",
        data={
            "csrf_token": csrf_token(client, path),
            "version": version,
            "reason": "Attached: the current list.",
            "attachments": [(io.BytesIO(png_bytes()), "medications.png")],
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Your answer was sent with 1 file" in page_text(response.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).state == State.IN_REVIEW
    names = [a.filename for a in db.session.query(Attachment).filter_by(referral_id=referral.id)]
    assert names == ["medications.png"]
